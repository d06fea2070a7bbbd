// libFuzzer target: the bencode decoder must throw or succeed on any input, never crash, and
// re-encoding a decoded value must decode to the same value.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzBencode(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    if let value = try? Bencode.decode(bytes) {
        let again = try? Bencode.decode(Bencode.encode(value))
        precondition(again == value, "bencode round trip changed the value")
    }
    return 0
}
