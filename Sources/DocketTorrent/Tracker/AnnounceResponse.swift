/// A tracker's answer to an announce.
public struct AnnounceResponse: Sendable, Equatable {
    /// Seconds to wait before the next regular announce.
    public var interval: Int
    /// Seconds the tracker asks clients to wait at least, when given.
    public var minInterval: Int?
    /// Peers from `peers` (compact or dictionary form), then from `peers6` (BEP 7).
    public var peers: [PeerAddress]
    /// The tracker's `warning message`, when given.
    public var warning: String?
    /// Seeders, when the tracker reports them.
    public var complete: Int?
    /// Leechers, when the tracker reports them.
    public var incomplete: Int?

    /// Makes a response.
    public init(interval: Int, minInterval: Int? = nil, peers: [PeerAddress], warning: String? = nil,
                complete: Int? = nil, incomplete: Int? = nil)
    {
        self.interval = interval
        self.minInterval = minInterval
        self.peers = peers
        self.warning = warning
        self.complete = complete
        self.incomplete = incomplete
    }

    /// Parses a bencoded announce response.
    /// - Throws: `TrackerError.failure` whenever `failure reason` is present (even next to
    ///   `interval`); `TrackerError.invalidResponse` for anything malformed.
    public static func parse(_ bytes: [UInt8]) throws -> AnnounceResponse {
        let value: BencodeValue
        do {
            value = try Bencode.decode(bytes)
        } catch {
            throw TrackerError.invalidResponse("\(error)")
        }
        guard case .dictionary = value else { throw TrackerError.invalidResponse("the top level is not a dictionary") }
        if let reason = value["failure reason"] {
            throw TrackerError.failure(reason.string ?? String(decoding: reason.bytes ?? [], as: UTF8.self))
        }
        guard let interval = value["interval"]?.integer, interval >= 0, interval <= Int64(Int32.max) else {
            throw TrackerError.invalidResponse("'interval' is missing or not a non-negative integer")
        }
        var peers: [PeerAddress] = []
        switch value["peers"] {
        case nil:
            break
        case .bytes(let compact)?:
            guard let parsed = PeerAddress.parseCompact(compact, entrySize: 6) else {
                throw TrackerError.invalidResponse("compact 'peers' has \(compact.count) bytes, not a multiple of 6")
            }
            peers += parsed
        case .list(let entries)?:
            peers += entries.compactMap(dictionaryPeer)
        default:
            throw TrackerError.invalidResponse("'peers' is neither a byte string nor a list")
        }
        if let compact6 = value["peers6"] {
            guard let bytes = compact6.bytes, let parsed = PeerAddress.parseCompact(bytes, entrySize: 18) else {
                throw TrackerError.invalidResponse("'peers6' is not a byte string whose length is a multiple of 18")
            }
            peers += parsed
        }
        return AnnounceResponse(
            interval: Int(interval), minInterval: value["min interval"]?.integer.map { Int(clamping: $0) }, peers: peers,
            warning: value["warning message"]?.string, complete: value["complete"]?.integer.map { Int(clamping: $0) },
            incomplete: value["incomplete"]?.integer.map { Int(clamping: $0) })
    }

    /// A `{ip, port}` entry; entries with a host name or a bad port are skipped.
    private static func dictionaryPeer(_ entry: BencodeValue) -> PeerAddress? {
        guard let ip = entry["ip"]?.string, let port = entry["port"]?.integer, (1...65535).contains(port) else { return nil }
        return PeerAddress(ipLiteral: ip, port: UInt16(port))
    }
}
