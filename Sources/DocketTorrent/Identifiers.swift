import DocketCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The SHA-1 of a torrent's bencoded info dictionary: the torrent's identity (BEP 3).
public struct InfoHash: Hashable, Sendable, CustomStringConvertible {
    /// The 20 hash bytes.
    public let bytes: [UInt8]

    /// Wraps 20 bytes; nil for any other count.
    public init?(bytes: [UInt8]) {
        guard bytes.count == 20 else { return nil }
        self.bytes = bytes
    }

    /// Parses 40 hex digits; nil otherwise.
    public init?(hex: String) {
        guard let bytes = Hex.decode(hex) else { return nil }
        self.init(bytes: bytes)
    }

    /// The info-hash of `rawInfo`, the info dictionary's bytes exactly as received.
    public init(hashingInfo rawInfo: [UInt8]) {
        bytes = Hasher.sha1(rawInfo)
    }

    /// Lowercase hex of the hash.
    public var hex: String { Hex.encode(bytes) }

    public var description: String { hex }
}

/// A peer's 20-byte id. Docket ids start with an Azureus-style prefix naming the program.
public struct PeerID: Hashable, Sendable, CustomStringConvertible {
    /// The prefix of Docket clients' ids.
    public static let clientPrefix = "-DK0010-"
    /// The prefix of a Docket registry's seeder; bytes from such peers count as registry bytes.
    public static let registrySeederPrefix = "-DR0010-"

    /// The 20 id bytes.
    public let bytes: [UInt8]

    /// Wraps 20 bytes; nil for any other count.
    public init?(bytes: [UInt8]) {
        guard bytes.count == 20 else { return nil }
        self.bytes = bytes
    }

    /// A fresh id: `prefix` (at most 20 bytes of it) followed by random letters and digits.
    public static func random(prefix: String) -> PeerID {
        let alphabet = Array("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ".utf8)
        var bytes = Array(prefix.utf8.prefix(20))
        while bytes.count < 20 { bytes.append(alphabet.randomElement()!) }
        return PeerID(bytes: bytes)!
    }

    /// Whether the id carries the `-DR` prefix of a Docket registry's seeder.
    public var isRegistrySeeder: Bool { bytes.starts(with: "-DR".utf8) }

    /// Whether the id is a Docket client's or a Docket registry seeder's (`-DK`, `-DR`).
    public var isDocket: Bool { bytes.starts(with: "-DK".utf8) || isRegistrySeeder }

    /// The id as text when printable ASCII, else as hex.
    public var description: String {
        bytes.allSatisfy({ (0x20...0x7e).contains($0) }) ? String(decoding: bytes, as: UTF8.self) : Hex.encode(bytes)
    }
}

/// A peer's IP literal and port. Literal hosts are normalised: IPv4-mapped IPv6 (`::ffff:1.2.3.4`)
/// becomes plain IPv4 and IPv6 is written in its canonical short form.
public struct PeerAddress: Hashable, Sendable, CustomStringConvertible {
    /// An IPv4 or IPv6 literal, without brackets.
    public let host: String
    /// The TCP port.
    public let port: UInt16

    /// Makes an address, normalising `host` when it is an IP literal (other text is kept as
    /// given; use `init?(ipLiteral:port:)` to reject it instead).
    public init(host: String, port: UInt16) {
        self = PeerAddress(ipLiteral: host, port: port) ?? PeerAddress(unchecked: host, port: port)
    }

    /// Makes an address from an IP literal; nil when `ipLiteral` is not an IPv4 or IPv6 literal.
    public init?(ipLiteral: String, port: UInt16) {
        guard let bytes = PeerAddress.addressBytes(ipLiteral) else { return nil }
        self.init(addressBytes: bytes, port: port)
    }

    private init(unchecked host: String, port: UInt16) {
        self.host = host
        self.port = port
    }

    /// Makes an address from 4 (IPv4) or 16 (IPv6) network-order bytes; nil for other counts.
    public init?(addressBytes: [UInt8], port: UInt16) {
        var bytes = addressBytes
        if bytes.count == 16, bytes.prefix(12).elementsEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff]) {
            bytes = Array(bytes.suffix(4))
        }
        guard bytes.count == 4 || bytes.count == 16 else { return nil }
        var text = [CChar](repeating: 0, count: 64)
        let family = bytes.count == 4 ? AF_INET : AF_INET6
        guard bytes.withUnsafeBytes({ inet_ntop(family, $0.baseAddress, &text, socklen_t(text.count)) }) != nil else { return nil }
        host = String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        self.port = port
    }

    /// Whether the host is an IPv6 address (after normalisation).
    public var isIPv6: Bool { host.contains(":") }

    /// The host's network-order bytes: 4 for IPv4, 16 for IPv6, empty when the host is not an IP literal.
    public var addressBytes: [UInt8] { PeerAddress.addressBytes(host) ?? [] }

    /// `1.2.3.4:6881` or `[::1]:6881`.
    public var description: String { isIPv6 ? "[\(host)]:\(port)" : "\(host):\(port)" }

    /// Parses an IP literal to 4 or 16 bytes.
    static func addressBytes(_ host: String) -> [UInt8]? {
        var v4 = [UInt8](repeating: 0, count: 4)
        if inet_pton(AF_INET, host, &v4) == 1 { return v4 }
        var v6 = [UInt8](repeating: 0, count: 16)
        if inet_pton(AF_INET6, host, &v6) == 1 { return v6 }
        return nil
    }

    /// The compact form (BEP 23 / BEP 7): address bytes then the port, big-endian; empty
    /// when the host is not an IP literal.
    public var compact: [UInt8] {
        let address = addressBytes
        return address.isEmpty ? [] : address + [UInt8(port >> 8), UInt8(port & 0xff)]
    }

    /// Splits a compact peer list into addresses; nil when the length is not a multiple of
    /// `entrySize` (6 for IPv4, 18 for IPv6).
    public static func parseCompact(_ bytes: [UInt8], entrySize: Int) -> [PeerAddress]? {
        guard entrySize == 6 || entrySize == 18, bytes.count % entrySize == 0 else { return nil }
        return stride(from: 0, to: bytes.count, by: entrySize).compactMap { start in
            let address = Array(bytes[start..<start + entrySize - 2])
            let port = UInt16(bytes[start + entrySize - 2]) << 8 | UInt16(bytes[start + entrySize - 1])
            return PeerAddress(addressBytes: address, port: port)
        }
    }
}
