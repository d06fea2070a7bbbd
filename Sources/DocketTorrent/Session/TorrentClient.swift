import DocketCore
import Foundation

/// A BitTorrent v1 client: one event-loop thread (epoll, non-blocking sockets) serving any
/// number of torrents, each downloading and then seeding until stopped.
public final class TorrentClient: Sendable {
    /// How the client listens, identifies itself and limits its traffic.
    public struct Configuration: Sendable {
        /// The IPv4 or IPv6 literal to listen on.
        public var bindAddress: String
        /// The TCP port to listen on; 0 lets the system choose (see `listenPort`).
        public var port: UInt16
        /// This client's peer id; `-DR…` marks a registry seeder.
        public var peerID: PeerID
        /// Connections per torrent, both directions.
        public var maxPeersPerTorrent: Int
        /// Upload payload limit in bytes per second for the whole client; nil for none.
        public var uploadRateLimit: Int64?
        /// Download payload limit in bytes per second for the whole client; nil for none.
        public var downloadRateLimit: Int64?
        /// Where the client logs (connections at debug, torrent events at info).
        public var logger: Logger
        /// Super-seeding (after BEP 16) for complete torrents: instead of a full bitfield each peer is
        /// shown a few pieces at a time, chosen so that every piece goes out about once, and is shown
        /// more as it announces what it got. A registry's seeder uses it so that the fleet, not the
        /// registry, spreads the copies. Off by default.
        public var superSeeding = false

        public init(bindAddress: String = "0.0.0.0", port: UInt16 = 0, peerID: PeerID = .random(prefix: PeerID.clientPrefix),
                    maxPeersPerTorrent: Int = 50, uploadRateLimit: Int64? = nil, downloadRateLimit: Int64? = nil,
                    logger: Logger = .silent) {
            self.bindAddress = bindAddress
            self.port = port
            self.peerID = peerID
            self.maxPeersPerTorrent = maxPeersPerTorrent
            self.uploadRateLimit = uploadRateLimit
            self.downloadRateLimit = downloadRateLimit
            self.logger = logger
        }

        /// Loopback, any port, a fresh client id, silent.
        public static var testing: Configuration { Configuration(bindAddress: "127.0.0.1") }
    }

    private struct State {
        var handles: [InfoHash: TorrentHandle] = [:]
        var shutDown = false
    }

    /// The configuration the client was made with.
    public let configuration: Configuration
    /// The TCP port the client accepts peers on.
    public let listenPort: UInt16
    private let channel: CommandChannel
    private let state = LockedBox(State())
    private let finished = DispatchSemaphore(value: 0)

    /// Opens the listening socket and starts the event-loop thread.
    /// - Throws: `SocketError` text when the address cannot be bound.
    public init(configuration: Configuration) throws {
        self.configuration = configuration
        let engine = try Engine(configuration: configuration)
        listenPort = engine.listenPort
        channel = engine.channel
        let box = EngineBox(engine: engine)
        let finished = self.finished
        let thread = Thread {
            box.engine.run()
            box.engine = nil
            finished.signal()
        }
        thread.name = "docket.torrent-loop"
        thread.stackSize = 1 << 20
        thread.start()
    }

    deinit { shutdown() }

    /// Adds a torrent whose data lives at `path` (a file; a directory for multi-file torrents).
    /// With `seeding` the data must be complete and is served as is; otherwise it is downloaded.
    ///
    /// A download resumes: when `<path>.docket-resume` (written while downloading) names this
    /// torrent and the data has the right size, the pieces it claims are hashed again on a thread of
    /// their own and those that match count as verified (`TorrentStatus.bytesResumed`); the rest,
    /// and any that do not match, are downloaded. The resume file is removed on completion. Without
    /// one, a file shorter than the data (a plain download's start) has its whole pieces checked
    /// the same way.
    public func add(_ metainfo: Metainfo, path: String, seeding: Bool) throws -> TorrentHandle {
        try state.withLockedValue { s in
            guard !s.shutDown else { throw TorrentError.clientShutDown }
            if let existing = s.handles[metainfo.infoHash], !existing.shared.isFinished {
                throw TorrentError.alreadyAdded(metainfo.infoHash)
            }
            let claimed = seeding ? nil : ResumeFile.claimedPieces(of: metainfo, at: path) ?? ResumeFile.prefixPieces(of: metainfo, at: path)
            let storage = try PieceStorage(metainfo: metainfo, path: path, seeding: seeding)
            let initial = TorrentStatus(verifiedBytes: seeding ? metainfo.totalLength : 0, totalBytes: metainfo.totalLength,
                                        isComplete: seeding || metainfo.pieceCount == 0)
            let shared = TorrentShared(infoHash: metainfo.infoHash, status: initial)
            let handle = TorrentHandle(shared: shared, channel: channel)
            let setup = TorrentSetup(metainfo: metainfo, storage: storage, shared: shared, seeding: seeding, checking: claimed != nil)
            guard channel.send(.add(setup)) else {
                storage.close()
                throw TorrentError.clientShutDown
            }
            if let claimed {
                ResumeCheck.start(metainfo: metainfo, path: path, claimed: claimed, shared: shared, channel: channel)
            }
            s.handles[metainfo.infoHash] = handle
            return handle
        }
    }

    /// Stops every torrent (announcing `stopped`, bounded to a few seconds), closes all sockets
    /// and joins the loop thread. Idempotent; blocks the caller until done.
    public func shutdown() {
        let first = state.withLockedValue { s in
            defer { s.shutDown = true }
            return !s.shutDown
        }
        guard first else { return }
        if channel.send(.shutdown) { finished.wait() }
    }
}

/// Hands the non-Sendable engine to its thread.
private final class EngineBox: @unchecked Sendable {
    var engine: Engine!
    init(engine: Engine) { self.engine = engine }
}
