import DocketCore

/// What other threads ask of the event loop.
enum EngineCommand: Sendable {
    case add(TorrentSetup)
    case addPeers(InfoHash, [PeerAddress])
    /// Stops the torrent added with this `TorrentShared` (not a later one of the same info-hash).
    case stop(InfoHash, TorrentShared)
    case trackerResult(InfoHash, Result<[PeerAddress], TrackerFailure>)
    case webSeedResult(InfoHash, piece: Int, Result<[UInt8], TrackerFailure>)
    /// The pieces of a resume file that hashed correctly, for the torrent whose shared state is given.
    case resumeChecked(InfoHash, TorrentShared, Bitfield)
    /// The disk writer's answer for one piece of the torrent whose shared state is given.
    case pieceWritten(InfoHash, TorrentShared, piece: Int, WrittenContent.WriteOutcome)
    /// The sha256 of a download's whole content, read back from disk; nil when reading back failed.
    case contentHashed(InfoHash, TorrentShared, [UInt8]?)
    case shutdown
    /// Runs a closure on the loop thread with the torrent (nil when unknown); tests use it to look inside.
    case inspect(InfoHash, @Sendable (Torrent?) -> Void)
}

/// A failure text carried back to the loop (tracker or web seed).
struct TrackerFailure: Error, Sendable {
    var message: String
}

/// Everything the loop needs to start a torrent, prepared by `TorrentClient.add` on the caller's thread.
struct TorrentSetup: Sendable {
    var metainfo: Metainfo
    var storage: PieceStorage
    var shared: TorrentShared
    var seeding: Bool
    /// A resume file claims pieces: request nothing until `ResumeCheck` answers.
    var checking = false
}

/// The command queue of one event loop plus its eventfd; sending wakes the loop.
final class CommandChannel: Sendable {
    private let queue = LockedBox<(items: [EngineCommand], open: Bool)>(([], true))
    private let wakeFD: Int32

    init(wakeFD: Int32) { self.wakeFD = wakeFD }

    /// Queues a command; false once the loop has ended.
    @discardableResult
    func send(_ command: EngineCommand) -> Bool {
        queue.withLockedValue { q in
            guard q.open else { return false }
            q.items.append(command)
            Epoll.wake(wakeFD)
            return true
        }
    }

    func drain() -> [EngineCommand] {
        queue.withLockedValue { q in
            defer { q.items.removeAll() }
            return q.items
        }
    }

    /// Refuses further commands; called by the loop before it closes the eventfd.
    func close() -> [EngineCommand] {
        queue.withLockedValue { q in
            q.open = false
            defer { q.items.removeAll() }
            return q.items
        }
    }
}
