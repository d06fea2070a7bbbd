@testable import DocketTorrent
import Testing

@Suite struct PeerWireTests {
    let infoHash = [UInt8](repeating: 0xab, count: 20)
    let peerID = Array("-DK0010-abcdefghijkl".utf8)

    @Test func handshakeRoundTrip() throws {
        let bytes = Handshake(infoHash: infoHash, peerID: peerID).encoded()
        #expect(bytes.count == 68)
        #expect(bytes[0] == 19)
        #expect(Array(bytes[1..<20]) == Array("BitTorrent protocol".utf8))
        let decoded = try Handshake.decode(bytes)
        #expect(decoded.infoHash == infoHash)
        #expect(decoded.peerID == peerID)
        #expect(decoded.reserved == [UInt8](repeating: 0, count: 8))
    }

    @Test func rejectsOtherProtocolAtFirstByte() {
        var decoder = PeerWireDecoder()
        decoder.feed(Array("GET / HTTP/1.1\r\n".utf8))
        #expect(throws: PeerWireError.badHandshake) { try decoder.nextHandshake() }
    }

    @Test func decodesEveryMessageFedOneByteAtATime() throws {
        let messages: [PeerMessage] = [
            .keepAlive, .choke, .unchoke, .interested, .notInterested, .have(piece: 70000),
            .bitfield([0xff, 0x80]), .request(piece: 1, begin: 16384, length: 16384),
            .piece(piece: 2, begin: 32768, block: [1, 2, 3, 4, 5]), .cancel(piece: 3, begin: 0, length: 100), .port(6881),
        ]
        var stream = Handshake(infoHash: infoHash, peerID: peerID).encoded()
        for message in messages { message.encode(into: &stream) }
        var decoder = PeerWireDecoder(maxMessageLength: PeerWireDecoder.limit(pieceCount: 9))
        var handshake: Handshake?
        var decoded: [PeerMessage] = []
        for byte in stream {
            decoder.feed([byte])
            if handshake == nil {
                handshake = try decoder.nextHandshake()
                continue
            }
            while let message = try decoder.next() { decoded.append(message) }
        }
        #expect(handshake?.peerID == peerID)
        #expect(decoded == messages)
        #expect(decoder.bufferedCount == 0)
    }

    @Test func decodesSeveralMessagesFromOneChunk() throws {
        var stream: [UInt8] = []
        PeerMessage.have(piece: 5).encode(into: &stream)
        PeerMessage.unchoke.encode(into: &stream)
        PeerMessage.have(piece: 6).encode(into: &stream)
        var decoder = PeerWireDecoder(expectHandshake: false)
        decoder.feed(Array(stream.dropLast(2)))
        #expect(try decoder.next() == .have(piece: 5))
        #expect(try decoder.next() == .unchoke)
        #expect(try decoder.next() == nil)
        decoder.feed(Array(stream.suffix(2)))
        #expect(try decoder.next() == .have(piece: 6))
    }

    @Test func rejectsMessageOverTheLimitBeforeItArrives() {
        var decoder = PeerWireDecoder(expectHandshake: false, maxMessageLength: PeerWireDecoder.limit(pieceCount: 100))
        // A 1 MiB length prefix: refused from the 4 prefix bytes alone.
        decoder.feed([0x00, 0x10, 0x00, 0x00])
        #expect(throws: PeerWireError.messageTooLong(length: 1 << 20, limit: 16384 + 9)) { try decoder.next() }
    }

    @Test func limitGrowsWithTheBitfieldOfHugeTorrents() {
        #expect(PeerWireDecoder.limit(pieceCount: 10) == 16393)
        #expect(PeerWireDecoder.limit(pieceCount: 200_000) == 25001)
    }

    @Test func rejectsRequestsOver16KiB() {
        var decoder = PeerWireDecoder(expectHandshake: false)
        decoder.feed(PeerMessage.request(piece: 0, begin: 0, length: 16385).encoded())
        #expect(throws: PeerWireError.requestTooLarge(length: 16385)) { try decoder.next() }
    }

    @Test func rejectsWrongPayloadLengths() {
        var decoder = PeerWireDecoder(expectHandshake: false)
        decoder.feed([0, 0, 0, 3, 4, 0, 0])   // have with a 2-byte index
        #expect(throws: PeerWireError.malformed(id: 4, length: 3)) { try decoder.next() }
        var choke = PeerWireDecoder(expectHandshake: false)
        choke.feed([0, 0, 0, 2, 0, 9])
        #expect(throws: PeerWireError.malformed(id: 0, length: 2)) { try choke.next() }
    }

    @Test func skipsUnknownMessageIDs() throws {
        var decoder = PeerWireDecoder(expectHandshake: false)
        decoder.feed([0, 0, 0, 4, 20, 1, 2, 3])   // extension protocol message, unsupported
        decoder.feed(PeerMessage.interested.encoded())
        #expect(try decoder.next() == .unknown(id: 20))
        #expect(try decoder.next() == .interested)
    }

    @Test func bitfieldValidation() {
        #expect(Bitfield(wire: [0xff, 0x80], count: 9)?.setCount == 9)
        #expect(Bitfield(wire: [0xff, 0xc0], count: 9)?.bytes == [0xff, 0x80])   // spare bit cleared
        #expect(Bitfield(wire: [0xff], count: 9) == nil)         // too short
        var bits = Bitfield(count: 10)
        let first = bits.insert(9)
        let second = bits.insert(9)
        #expect(first && !second)
        #expect(bits.contains(9) && !bits.contains(8) && !bits.contains(10))
        #expect(bits.bytes == [0x00, 0x40])
        #expect(Bitfield(count: 10, allSet: true).bytes == [0xff, 0xc0])
    }
}
