/// How many block requests to keep outstanding with one peer: enough to cover `targetQueueTime`
/// of the rate the peer is measured to deliver, within `minimum...maximum`.
///
/// A slow peer then holds only a few blocks (which other peers could fetch in endgame, and which a
/// super-seeding registry would rather spread), while a fast one (loopback, a LAN) gets a deep queue.
/// The rule feeds itself: a queue too shallow for the round trip caps the measured rate at
/// depth × block / RTT, and the next depth is that rate × `targetQueueTime`, so the queue grows by
/// `targetQueueTime` / RTT per measurement until the peer's real rate is the limit.
struct RequestPipeline: Equatable {
    /// Seconds of the peer's measured rate to keep requested. Short, because a block requested
    /// now arrives only after everything already queued with that peer, and a piece can be passed
    /// on only when whole: swarm lab N = 8 (100 MB, 100 Mbit/s), last host at 1.28 x T_min with 1 s,
    /// 1.19-1.20 with 0.2 s or 0.1 s (0.1 s slower at N = 2); a fixed 64 blocks gave 1.32.
    static let targetQueueTime = 0.2
    /// Never fewer: even a slow peer needs a few blocks in flight to cover its round trip.
    static let minimum = 4
    /// Never more: other clients drop requests beyond a queue of about 250.
    static let maximum = 250
    /// Before the first measurement.
    static let initial = 16
    /// Shortest span the rate is measured over.
    static let window = 0.25

    /// Requests to keep outstanding now.
    private(set) var depth = Self.initial
    /// Smoothed payload rate in bytes per second; nil until measured.
    private(set) var rate: Double?
    private var windowStart: Double
    private var windowBytes = 0

    init(now: Double) {
        windowStart = now
    }

    /// The depth for a rate in bytes per second.
    static func depth(forRate rate: Double) -> Int {
        let blocks = (rate * targetQueueTime / Double(PeerWire.blockSize)).rounded(.up)
        guard blocks.isFinite else { return maximum }
        return Int(min(Double(maximum), max(Double(minimum), blocks)))
    }

    /// Requests beyond this many are surplus (the depth fell since they were sent): the engine
    /// cancels them so other peers can fetch those blocks. Twice the depth, so that the rate's
    /// ordinary ups and downs cancel nothing.
    var surplusThreshold: Int { 2 * depth }

    /// A block of `bytes` arrived; re-measures once a window has passed. True when it re-measured.
    @discardableResult
    mutating func received(_ bytes: Int, now: Double) -> Bool {
        windowBytes += bytes
        let elapsed = now - windowStart
        guard elapsed >= Self.window else { return false }
        let sample = Double(windowBytes) / elapsed
        let smoothed = rate.map { ($0 + sample) / 2 } ?? sample
        rate = smoothed
        depth = Self.depth(forRate: smoothed)
        windowStart = now
        windowBytes = 0
        return true
    }

    /// Nothing was outstanding (choked, nothing to ask for): the time until the next request does
    /// not count against the peer's rate.
    mutating func idle(now: Double) {
        windowStart = now
        windowBytes = 0
    }
}
