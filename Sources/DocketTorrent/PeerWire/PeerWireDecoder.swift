/// An incremental peer-wire decoder: feed it whatever bytes arrived, then pull whole messages.
///
/// It expects the handshake first when `expectHandshake` is true. Messages longer than
/// `maxMessageLength`, requests over 16 KiB and payloads that do not fit their id throw; unknown
/// ids are returned as `.unknown` with their payload skipped.
public struct PeerWireDecoder: Sendable {
    /// Largest length prefix accepted; raise it once the torrent (and its bitfield size) is known.
    public var maxMessageLength: Int
    private var buffer: [UInt8] = []
    private var head = 0
    private var awaitingHandshake: Bool

    /// `maxMessageLength` should be `PeerWireDecoder.limit(pieceCount:)` for a known torrent.
    public init(expectHandshake: Bool = true, maxMessageLength: Int = PeerWireDecoder.limit(pieceCount: 0)) {
        self.awaitingHandshake = expectHandshake
        self.maxMessageLength = maxMessageLength
    }

    /// The largest legal message for a torrent: a 16 KiB piece message or its bitfield.
    public static func limit(pieceCount: Int) -> Int {
        max(9 + PeerWire.blockSize, 1 + (pieceCount + 7) / 8)
    }

    /// Bytes received but not yet decoded.
    public var bufferedCount: Int { buffer.count - head }

    /// Appends received bytes.
    public mutating func feed(_ bytes: UnsafeRawBufferPointer) {
        compactIfNeeded()
        buffer.append(contentsOf: bytes)
    }

    /// Appends received bytes.
    public mutating func feed(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { feed($0) }
    }

    /// The handshake, once 68 bytes arrived; nil until then. Call before `next()` on a new connection.
    public mutating func nextHandshake() throws -> Handshake? {
        guard awaitingHandshake else { return nil }
        if bufferedCount >= 1, Int(buffer[head]) != PeerWire.protocolName.count { throw PeerWireError.badHandshake }
        guard bufferedCount >= PeerWire.handshakeLength else { return nil }
        let handshake = try Handshake.decode(buffer[head..<head + PeerWire.handshakeLength])
        head += PeerWire.handshakeLength
        awaitingHandshake = false
        return handshake
    }

    /// The next whole message, or nil when more bytes are needed.
    public mutating func next() throws -> PeerMessage? {
        precondition(!awaitingHandshake, "read the handshake first")
        guard bufferedCount >= 4 else { return nil }
        let length = Int(PeerWire.readUInt32(buffer, head))
        guard length <= maxMessageLength else { throw PeerWireError.messageTooLong(length: length, limit: maxMessageLength) }
        guard bufferedCount >= 4 + length else { return nil }
        let start = head + 4
        head = start + length
        if length == 0 { return .keepAlive }
        let id = buffer[start]
        let body = start + 1
        let bodyLength = length - 1
        func expect(_ n: Int) throws {
            if bodyLength != n { throw PeerWireError.malformed(id: id, length: length) }
        }
        guard let known = PeerMessage.ID(rawValue: id) else { return .unknown(id: id) }
        switch known {
        case .choke: try expect(0); return .choke
        case .unchoke: try expect(0); return .unchoke
        case .interested: try expect(0); return .interested
        case .notInterested: try expect(0); return .notInterested
        case .have:
            try expect(4)
            return .have(piece: Int(PeerWire.readUInt32(buffer, body)))
        case .bitfield:
            return .bitfield(Array(buffer[body..<body + bodyLength]))
        case .request, .cancel:
            try expect(12)
            let piece = Int(PeerWire.readUInt32(buffer, body))
            let begin = Int(PeerWire.readUInt32(buffer, body + 4))
            let blockLength = Int(PeerWire.readUInt32(buffer, body + 8))
            guard blockLength <= PeerWire.blockSize else { throw PeerWireError.requestTooLarge(length: blockLength) }
            return known == .request
                ? .request(piece: piece, begin: begin, length: blockLength)
                : .cancel(piece: piece, begin: begin, length: blockLength)
        case .piece:
            guard bodyLength >= 8 else { throw PeerWireError.malformed(id: id, length: length) }
            let piece = Int(PeerWire.readUInt32(buffer, body))
            let begin = Int(PeerWire.readUInt32(buffer, body + 4))
            return .piece(piece: piece, begin: begin, block: Array(buffer[body + 8..<body + bodyLength]))
        case .port:
            try expect(2)
            return .port(UInt16(buffer[body]) << 8 | UInt16(buffer[body + 1]))
        }
    }

    private mutating func compactIfNeeded() {
        if head == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            head = 0
        } else if head > 64 * 1024 && head * 2 > buffer.count {
            buffer.removeSubrange(0..<head)
            head = 0
        }
    }
}
