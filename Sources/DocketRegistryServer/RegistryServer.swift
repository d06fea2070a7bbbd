import DocketKit
import DocketTorrent
import Foundation

/// The Docket registry: the OCI Distribution API (pull and push, as docker, podman and skopeo use it),
/// image-archive push, blob torrents, a built-in tracker and a seeder,
/// all on one HTTP port (see docs/DESIGN.md, "Registry HTTP API").
public final class RegistryServer: Sendable {
    /// Where the registry keeps its data, how it listens and seeds.
    public struct Configuration: Sendable {
        /// Blobs, torrents, the SQLite database and temporary uploads live here.
        public var dataDirectory: String
        /// IPv4 literal to listen on (HTTP and the seeder).
        public var bindAddress: String
        /// HTTP port; 0 picks a free one (see `RegistryServer.port`).
        public var port: UInt16
        /// Announce URL put in torrents instead of this registry's own `/announce`; the
        /// registry's seeder announces there too.
        public var externalTracker: String?
        /// The external tracker's whitelist file (opentracker in whitelist mode), rewritten with
        /// every served torrent's info-hash at start and whenever torrents are added; nil for none.
        public var trackerWhitelist: TrackerWhitelist?
        /// Blobs smaller than this (bytes) get no torrent and go over plain HTTP.
        public var smallBlobThreshold: Int64
        /// Upload limit of the registry's seeder in bytes per second; nil for none.
        public var seederUploadLimit: Int?
        /// Limit on blob bodies served over HTTP (OCI blob GETs, the web seed) in bytes per second,
        /// all connections together; nil for none.
        public var httpUploadLimit: Int?
        /// Whether the registry seeds its blobs over BitTorrent itself.
        public var seeding: Bool
        /// Where the registry logs (requests at debug, pushes and seeding at info).
        public var logger: Logger
        /// Seconds an OCI blob upload session may stay idle before it and its data are removed.
        public var uploadSessionTimeout: TimeInterval = 3600
        /// Seconds a connection may stay silent (while sending a request or idle between requests)
        /// before it is closed: a client trickling a byte a minute is dropped.
        public var connectionIdleTimeout: UInt32 = 30
        /// Concurrent HTTP connections in all (each gets a thread).
        public var maxConnections: UInt32 = 512
        /// Concurrent HTTP connections from one client address.
        public var maxConnectionsPerClient: UInt32 = 64

        /// A configuration with the defaults above.
        public init(dataDirectory: String, bindAddress: String = "0.0.0.0", port: UInt16 = 5000, externalTracker: String? = nil,
                    smallBlobThreshold: Int64 = 1 << 20, seederUploadLimit: Int? = nil, seeding: Bool = true, logger: Logger = .silent) {
            self.dataDirectory = dataDirectory
            self.bindAddress = bindAddress
            self.port = port
            self.externalTracker = externalTracker
            self.smallBlobThreshold = smallBlobThreshold
            self.seederUploadLimit = seederUploadLimit
            self.seeding = seeding
            self.logger = logger
        }

        /// Loopback, any free port, the given (temporary) directory, silent.
        public static func testing(dataDirectory: String) -> Configuration {
            Configuration(dataDirectory: dataDirectory, bindAddress: "127.0.0.1", port: 0)
        }
    }

    private struct Running: Sendable {
        var http: HTTPServer
        var torrents: BlobTorrents
        var store: BlobStore
        var sweeper: UploadSweeper
    }

    /// What the registry was made with.
    public let configuration: Configuration
    private let running = LockedBox<Running?>(nil)

    /// A registry that is not running yet; call `start()` or `run()`.
    public init(configuration: Configuration) {
        self.configuration = configuration
    }

    deinit { stop() }

    /// The HTTP port, once started (0 before).
    public var port: UInt16 { running.withLockedValue { $0?.http.port ?? 0 } }

    /// The seeder's BitTorrent port, once started with seeding on.
    public var seederPort: UInt16? { running.withLockedValue { $0?.torrents.seederPort } }

    /// Opens the data directory, starts listening and seeds every stored blob. Blocking: from async
    /// code use `run()`. A data directory this call created is removed again when it fails (a port
    /// in use, say), so a mistyped start leaves nothing behind.
    public func start() throws {
        let createdHere = !FileManager.default.fileExists(atPath: configuration.dataDirectory)
        do {
            try open()
        } catch {
            if createdHere { try? FileManager.default.removeItem(atPath: configuration.dataDirectory) }
            throw error
        }
    }

    private func open() throws {
        let config = configuration
        let logger = config.logger
        try config.trackerWhitelist?.check()
        // Before anything binds (the seeder would fail first, on a port of its own).
        try HTTPServer.checkBindAddress(config.bindAddress, port: config.port)
        let store = try BlobStore(root: config.dataDirectory)
        store.clearTemporaryFiles()
        let metadata = try RegistryMetadata(path: config.dataDirectory + "/registry.sqlite")
        let seeder: (any BlobSeeding)? = config.seeding
            ? try EngineSeeder(bindAddress: config.bindAddress, uploadRateLimit: config.seederUploadLimit, logger: logger)
            : nil
        let torrents = try BlobTorrents(directory: config.dataDirectory + "/torrents", threshold: config.smallBlobThreshold,
                                        store: store, seeder: seeder, externalTracker: config.externalTracker,
                                        whitelist: config.trackerWhitelist, logger: logger)
        let uploads = try UploadSessions(directory: config.dataDirectory + "/uploads", timeout: config.uploadSessionTimeout)
        uploads.clear()   // sessions live in memory: a restart ends them
        let router = RegistryRouter(store: store, metadata: metadata, torrents: torrents,
                                    pusher: RegistryPush(store: store, metadata: metadata, logger: logger), uploads: uploads,
                                    tracker: TrackerSwarms(), externalTracker: config.externalTracker, logger: logger)
        var limits = HTTPServer.Limits()
        limits.connectionTimeoutSeconds = config.connectionIdleTimeout
        limits.connectionLimit = config.maxConnections
        limits.perIPConnectionLimit = config.maxConnectionsPerClient
        limits.fileUploadLimit = config.httpUploadLimit.map { Int64($0) }
        let http = HTTPServer(bindAddress: config.bindAddress, port: config.port, uploadDirectory: store.temporaryDirectory,
                              limits: limits, logger: logger, precheck: router.precheck, handler: router.handle)
        do {
            try http.start()
        } catch {
            torrents.shutdown()
            store.unlock()
            throw error
        }
        let sweeper = UploadSweeper(sessions: uploads, interval: min(60, max(1, config.uploadSessionTimeout / 4)), logger: logger)
        running.withLockedValue { $0 = Running(http: http, torrents: torrents, store: store, sweeper: sweeper) }
        do {
            try torrents.seedAll(try metadata.allBlobs())
        } catch {
            stop()
            throw error
        }
    }

    /// Starts, serves until the task is cancelled, then stops gracefully.
    public func run() async throws {
        try await Blocking.run(name: "docket.registry-start") { try self.start() }
        while !Task.isCancelled {
            do { try await Task.sleep(for: .seconds(3600)) } catch { break }
        }
        _ = try? await Blocking.run(name: "docket.registry-stop") { self.stop() }
    }

    /// Stops accepting connections, lets requests in flight finish (up to 10 s), stops seeding.
    /// Blocking; idempotent.
    public func stop() {
        guard let current = running.withLockedValue({ state -> Running? in
            defer { state = nil }
            return state
        }) else { return }
        current.http.stop()
        current.sweeper.stop()
        current.torrents.shutdown()
        current.store.unlock()
    }
}
