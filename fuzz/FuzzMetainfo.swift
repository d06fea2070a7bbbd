// libFuzzer target: the metainfo parser must throw or succeed on any input, never crash.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzMetainfo(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    _ = try? Metainfo.parse(Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}
