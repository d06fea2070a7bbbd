/// One HTTP tracker announce (BEP 3, compact peers per BEP 23).
public struct AnnounceRequest: Sendable, Equatable {
    /// The announce `event` parameter.
    public enum Event: String, Sendable {
        case started, completed, stopped
    }

    /// The torrent.
    public var infoHash: InfoHash
    /// The announcing peer's id.
    public var peerID: PeerID
    /// The port the peer accepts connections on.
    public var port: UInt16
    /// Payload bytes sent so far.
    public var uploaded: Int64
    /// Payload bytes received so far.
    public var downloaded: Int64
    /// Bytes still missing.
    public var left: Int64
    /// Sent on start, completion and stop; nil for regular announces.
    public var event: Event?
    /// How many peers to ask for; nil leaves it to the tracker.
    public var numWant: Int?

    /// Makes a request.
    public init(infoHash: InfoHash, peerID: PeerID, port: UInt16, uploaded: Int64, downloaded: Int64, left: Int64,
                event: Event? = nil, numWant: Int? = nil)
    {
        self.infoHash = infoHash
        self.peerID = peerID
        self.port = port
        self.uploaded = uploaded
        self.downloaded = downloaded
        self.left = left
        self.event = event
        self.numWant = numWant
    }

    /// The announce URL: `base` (which may already hold a query) plus this request's
    /// parameters, with `info_hash` and `peer_id` percent-encoded byte by byte and `compact=1`.
    public func url(base: String) -> String {
        var parameters = [
            "info_hash=" + PercentEncoding.encode(infoHash.bytes),
            "peer_id=" + PercentEncoding.encode(peerID.bytes),
            "port=\(port)",
            "uploaded=\(uploaded)",
            "downloaded=\(downloaded)",
            "left=\(left)",
            "compact=1",
        ]
        if let event { parameters.append("event=\(event.rawValue)") }
        if let numWant { parameters.append("numwant=\(numWant)") }
        let separator = !base.contains("?") ? "?" : (base.hasSuffix("?") || base.hasSuffix("&")) ? "" : "&"
        return base + separator + parameters.joined(separator: "&")
    }
}
