import DocketTorrent
import Foundation

/// Chooses and configures a `TorrentSeeder` backend: the one place where a backend is picked by
/// name, so the CLI (`--backend`) and library users select it the same way.
///
/// ```swift
/// let seeder = try TorrentSeederConfiguration(backend: .ctorrent).makeSeeder()
/// ```
public struct TorrentSeederConfiguration: Sendable {
    /// The BitTorrent implementations a `TorrentSeeder` can run on.
    public enum Backend: String, Sendable, CaseIterable {
        /// Docket's own engine in this process (`DocketTorrentSeeder`), the default.
        case docket
        /// One `ctorrent` process per transfer (`CTorrentSeeder`); peer wire only, no web seeds, no rate limits.
        case ctorrent
    }

    public var backend: Backend
    /// The address to listen on (docket backend; ctorrent picks its own loopback address or listens on all).
    public var bindAddress: String
    /// The BitTorrent listen port; nil means any free port (docket) or 6881 upwards (ctorrent).
    public var port: UInt16?
    /// Upload and download caps in bytes per second (docket backend only; nil for none).
    public var uploadRateLimit: Int64?
    public var downloadRateLimit: Int64?
    /// A download that receives no byte for this long is stopped and fails (see `TorrentSeeder`).
    public var stallTimeout: Duration
    /// Where the ctorrent backend keeps its torrent and bitfield files while a transfer runs.
    public var temporaryDirectory: String
    /// The ctorrent executable.
    public var ctorrentExecutable: String

    public init(backend: Backend = .docket, bindAddress: String = "0.0.0.0", port: UInt16? = nil,
                uploadRateLimit: Int64? = nil, downloadRateLimit: Int64? = nil, stallTimeout: Duration = .seconds(30),
                temporaryDirectory: String = NSTemporaryDirectory(), ctorrentExecutable: String = "/usr/bin/ctorrent") {
        self.backend = backend
        self.bindAddress = bindAddress
        self.port = port
        self.uploadRateLimit = uploadRateLimit
        self.downloadRateLimit = downloadRateLimit
        self.stallTimeout = stallTimeout
        self.temporaryDirectory = temporaryDirectory
        self.ctorrentExecutable = ctorrentExecutable
    }

    /// Makes the configured seeder. Throws `DocketError.torrent` when the backend cannot run here
    /// (ctorrent not installed, a rate limit asked of ctorrent, the port taken).
    public func makeSeeder() throws -> any TorrentSeeder {
        switch backend {
        case .docket:
            var configuration = TorrentClient.Configuration(bindAddress: bindAddress, port: port ?? 0,
                                                            uploadRateLimit: uploadRateLimit, downloadRateLimit: downloadRateLimit)
            configuration.logger = .silent
            do {
                return try DocketTorrentSeeder(configuration: configuration, stallTimeout: stallTimeout)
            } catch let error as DocketError {
                throw error
            } catch {
                throw DocketError.torrent("cannot start the BitTorrent engine on \(bindAddress):\(port ?? 0): \(error)")
            }
        case .ctorrent:
            guard uploadRateLimit == nil && downloadRateLimit == nil else {
                throw DocketError.torrent("the ctorrent backend has no rate limits: drop them or use the docket backend")
            }
            return try CTorrentSeeder(configuration: CTorrentSeeder.Configuration(
                executable: ctorrentExecutable, port: port ?? 6881, temporaryDirectory: temporaryDirectory,
                stallTimeout: stallTimeout))
        }
    }
}
