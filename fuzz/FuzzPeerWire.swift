// libFuzzer target: the peer-wire decoder, fed the input in two chunks after a valid handshake,
// must throw or return messages, never crash; every decoded message re-encodes and decodes equal.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPeerWire(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    var decoder = PeerWireDecoder(expectHandshake: true, maxMessageLength: PeerWireDecoder.limit(pieceCount: 1000))
    decoder.feed(Handshake(infoHash: [UInt8](repeating: 1, count: 20), peerID: [UInt8](repeating: 2, count: 20)).encoded())
    guard (try? decoder.nextHandshake()) != nil else { preconditionFailure("a valid handshake was refused") }
    let split = bytes.isEmpty ? 0 : Int(bytes[0]) % (bytes.count + 1)
    for chunk in [bytes[..<split], bytes[split...]] {
        decoder.feed(Array(chunk))
        while let message = try? decoder.next() {
            var encoded: [UInt8] = []
            message.encode(into: &encoded)
            var check = PeerWireDecoder(expectHandshake: false, maxMessageLength: 1 << 20)
            check.feed(encoded)
            if case .unknown = message { continue }
            precondition((try? check.next()) == message, "peer message round trip changed \(message)")
        }
    }
    return 0
}
