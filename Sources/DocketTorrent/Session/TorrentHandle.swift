/// One torrent inside a `TorrentClient`: progress, completion and control.
public final class TorrentHandle: Sendable {
    /// The torrent's identity.
    public let infoHash: InfoHash
    let shared: TorrentShared
    let channel: CommandChannel

    init(shared: TorrentShared, channel: CommandChannel) {
        self.infoHash = shared.infoHash
        self.shared = shared
        self.channel = channel
    }

    /// A new stream of status snapshots: the current one first, then at most ~4 per second
    /// while something changes, and one on completion or failure. It ends when the torrent stops.
    public var events: AsyncStream<TorrentStatus> { shared.makeStream() }

    /// The latest status snapshot.
    public func status() -> TorrentStatus { shared.status }

    /// Returns once every piece is verified; throws `TorrentError.failed`, `.stopped`, or
    /// `CancellationError` when the task is cancelled.
    public func waitUntilComplete() async throws { try await shared.waitUntilComplete() }

    /// Stops downloading and seeding, announces `stopped` and closes the file. Idempotent. Returns
    /// at once; the engine does it next (`stopAndWait()` waits). A torrent of the same info-hash
    /// added again later is not affected.
    public func stop() { _ = channel.send(.stop(infoHash, shared)) }

    /// `stop()`, returning once the engine has done it: the torrent's connections are closed and
    /// nothing writes to its file any more, so the file can be reused, moved or removed.
    public func stopAndWait() async {
        stop()
        // Commands run in order: this one runs after the stop.
        _ = await inspect { _ in () }
    }

    /// Runs `body` on the event loop with the torrent's internal state (nil once stopped); for tests.
    func inspect<T: Sendable>(_ body: @escaping @Sendable (Torrent?) -> T) async -> T? {
        await withCheckedContinuation { (continuation: CheckedContinuation<T?, Never>) in
            let sent = channel.send(.inspect(infoHash) { torrent in continuation.resume(returning: body(torrent)) })
            if !sent { continuation.resume(returning: nil) }
        }
    }

    /// Adds peers to connect to (besides those from trackers).
    public func addPeers(_ peers: [PeerAddress]) { _ = channel.send(.addPeers(infoHash, peers)) }
}
