/// The 68-byte BitTorrent handshake: protocol string, reserved bits, info-hash and peer id.
public struct Handshake: Hashable, Sendable {
    /// The 8 reserved bytes (extension bits). Docket sets none.
    public var reserved: [UInt8]
    /// The 20-byte info-hash.
    public var infoHash: [UInt8]
    /// The 20-byte peer id.
    public var peerID: [UInt8]

    public init(reserved: [UInt8] = [UInt8](repeating: 0, count: 8), infoHash: [UInt8], peerID: [UInt8]) {
        precondition(reserved.count == 8 && infoHash.count == 20 && peerID.count == 20, "handshake fields have fixed sizes")
        self.reserved = reserved
        self.infoHash = infoHash
        self.peerID = peerID
    }

    /// The 68 bytes on the wire.
    public func encoded() -> [UInt8] {
        var out: [UInt8] = [UInt8(PeerWire.protocolName.count)]
        out.reserveCapacity(PeerWire.handshakeLength)
        out.append(contentsOf: PeerWire.protocolName)
        out.append(contentsOf: reserved)
        out.append(contentsOf: infoHash)
        out.append(contentsOf: peerID)
        return out
    }

    /// Parses exactly 68 bytes; throws `PeerWireError.badHandshake` for another protocol.
    public static func decode(_ bytes: some Collection<UInt8>) throws -> Handshake {
        let b = Array(bytes)
        guard b.count == PeerWire.handshakeLength, Int(b[0]) == PeerWire.protocolName.count,
              Array(b[1..<20]) == PeerWire.protocolName
        else { throw PeerWireError.badHandshake }
        return Handshake(reserved: Array(b[20..<28]), infoHash: Array(b[28..<48]), peerID: Array(b[48..<68]))
    }
}

/// Why the peer-wire decoder closed a connection.
public enum PeerWireError: Error, Equatable, Sendable, CustomStringConvertible {
    case badHandshake
    /// A length prefix above the limit (bytes announced, limit).
    case messageTooLong(length: Int, limit: Int)
    /// A message whose payload length does not fit its id.
    case malformed(id: UInt8, length: Int)
    /// A request or cancel for more than 16 KiB.
    case requestTooLarge(length: Int)

    public var description: String {
        switch self {
        case .badHandshake: "peer did not send a BitTorrent handshake"
        case .messageTooLong(let length, let limit): "peer message of \(length) bytes exceeds the \(limit)-byte limit"
        case .malformed(let id, let length): "peer message id \(id) has an invalid length \(length)"
        case .requestTooLarge(let length): "peer requested a \(length)-byte block; at most 16384 is allowed"
        }
    }
}
