// libFuzzer target: the tracker announce-response parser must throw or succeed, never crash.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTrackerResponse(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    _ = try? AnnounceResponse.parse(Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}
