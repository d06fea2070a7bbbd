/// One BitTorrent v1 peer-wire message (BEP 3), after the handshake.
public enum PeerMessage: Hashable, Sendable {
    case keepAlive
    case choke
    case unchoke
    case interested
    case notInterested
    case have(piece: Int)
    /// The raw bitfield bytes, high bit first; spare bits at the end must be zero.
    case bitfield([UInt8])
    case request(piece: Int, begin: Int, length: Int)
    case piece(piece: Int, begin: Int, block: [UInt8])
    case cancel(piece: Int, begin: Int, length: Int)
    /// The DHT port (BEP 5); decoded so it can be ignored.
    case port(UInt16)
    /// A message id this codec does not know; its payload is skipped.
    case unknown(id: UInt8)

    /// Message ids on the wire.
    public enum ID: UInt8, Sendable {
        case choke = 0, unchoke, interested, notInterested, have, bitfield, request, piece, cancel, port
    }

    /// The bytes of this message, length prefix included.
    public func encoded() -> [UInt8] {
        var out: [UInt8] = []
        encode(into: &out)
        return out
    }

    /// Appends the bytes of this message, length prefix included.
    public func encode(into out: inout [UInt8]) {
        switch self {
        case .keepAlive: PeerWire.appendUInt32(0, to: &out)
        case .choke: Self.appendBare(.choke, &out)
        case .unchoke: Self.appendBare(.unchoke, &out)
        case .interested: Self.appendBare(.interested, &out)
        case .notInterested: Self.appendBare(.notInterested, &out)
        case .have(let piece):
            PeerWire.appendUInt32(5, to: &out)
            out.append(ID.have.rawValue)
            PeerWire.appendUInt32(UInt32(piece), to: &out)
        case .bitfield(let bits):
            PeerWire.appendUInt32(UInt32(1 + bits.count), to: &out)
            out.append(ID.bitfield.rawValue)
            out.append(contentsOf: bits)
        case .request(let piece, let begin, let length):
            Self.appendTriple(.request, piece, begin, length, &out)
        case .cancel(let piece, let begin, let length):
            Self.appendTriple(.cancel, piece, begin, length, &out)
        case .piece(let piece, let begin, let block):
            PeerWire.appendPieceHeader(piece: piece, begin: begin, blockLength: block.count, to: &out)
            out.append(contentsOf: block)
        case .port(let port):
            PeerWire.appendUInt32(3, to: &out)
            out.append(ID.port.rawValue)
            out.append(UInt8(port >> 8))
            out.append(UInt8(port & 0xff))
        case .unknown(let id):
            PeerWire.appendUInt32(1, to: &out)
            out.append(id)
        }
    }

    private static func appendBare(_ id: ID, _ out: inout [UInt8]) {
        PeerWire.appendUInt32(1, to: &out)
        out.append(id.rawValue)
    }

    private static func appendTriple(_ id: ID, _ a: Int, _ b: Int, _ c: Int, _ out: inout [UInt8]) {
        PeerWire.appendUInt32(13, to: &out)
        out.append(id.rawValue)
        PeerWire.appendUInt32(UInt32(a), to: &out)
        PeerWire.appendUInt32(UInt32(b), to: &out)
        PeerWire.appendUInt32(UInt32(c), to: &out)
    }
}

/// Constants and byte helpers of the peer-wire protocol.
public enum PeerWire {
    /// The block size every client requests: 16 KiB.
    public static let blockSize = 16 * 1024
    /// The protocol string of the handshake.
    public static let protocolName = Array("BitTorrent protocol".utf8)
    /// The length of a handshake: 1 + 19 + 8 + 20 + 20.
    public static let handshakeLength = 68

    /// Appends `value` big-endian.
    public static func appendUInt32(_ value: UInt32, to out: inout [UInt8]) {
        out.append(UInt8(truncatingIfNeeded: value >> 24))
        out.append(UInt8(truncatingIfNeeded: value >> 16))
        out.append(UInt8(truncatingIfNeeded: value >> 8))
        out.append(UInt8(truncatingIfNeeded: value))
    }

    /// Appends the 13-byte header of a `piece` message whose block follows.
    public static func appendPieceHeader(piece: Int, begin: Int, blockLength: Int, to out: inout [UInt8]) {
        appendUInt32(UInt32(9 + blockLength), to: &out)
        out.append(PeerMessage.ID.piece.rawValue)
        appendUInt32(UInt32(piece), to: &out)
        appendUInt32(UInt32(begin), to: &out)
    }

    /// Reads a big-endian UInt32 at `offset`.
    @inline(__always)
    static func readUInt32(_ bytes: [UInt8], _ offset: Int) -> UInt32 {
        UInt32(bytes[offset]) << 24 | UInt32(bytes[offset + 1]) << 16 | UInt32(bytes[offset + 2]) << 8 | UInt32(bytes[offset + 3])
    }
}

extension PeerMessage {
    /// Requests, blocks and cancels: the messages whose number grows with the bytes transferred.
    public var isData: Bool {
        switch self {
        case .request, .piece, .cancel: true
        default: false
        }
    }
}
