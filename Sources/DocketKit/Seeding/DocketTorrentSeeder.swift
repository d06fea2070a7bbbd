import DocketTorrent
import Foundation

/// A `TorrentSeeder` over Docket's own BitTorrent engine (`TorrentClient`): one listening socket
/// and one event-loop thread for every transfer. A finished download keeps seeding after its file is
/// renamed into the store.
public final class DocketTorrentSeeder: TorrentSeeder {
    public let client: TorrentClient
    /// A download that receives no byte (peers, web seed) for this long is stopped and fails.
    public let stallTimeout: Duration

    public init(client: TorrentClient, stallTimeout: Duration = .seconds(30)) {
        self.client = client
        self.stallTimeout = stallTimeout
    }

    public convenience init(configuration: TorrentClient.Configuration, stallTimeout: Duration = .seconds(30)) throws {
        self.init(client: try TorrentClient(configuration: configuration), stallTimeout: stallTimeout)
    }

    /// The port peers reach this seeder on.
    public var listenPort: UInt16 { client.listenPort }

    public var continuesSeedingAfterRename: Bool { true }

    public func download(torrent: Data, to path: String) async throws -> any TorrentTransfer {
        try add(torrent, path: path, seeding: false)
    }

    public func seed(torrent: Data, from path: String) async throws -> any TorrentTransfer {
        try add(torrent, path: path, seeding: true)
    }

    public func shutdown() async {
        let client = self.client
        _ = try? await Blocking.run(name: "docket.torrent.shutdown") { client.shutdown() }
    }

    private func add(_ torrent: Data, path: String, seeding: Bool) throws -> DocketTorrentTransfer {
        let metainfo: Metainfo
        do {
            metainfo = try Metainfo.parse([UInt8](torrent))
        } catch {
            throw DocketError.torrent("the registry sent an unreadable torrent: \(error)")
        }
        do {
            return DocketTorrentTransfer(handle: try client.add(metainfo, path: path, seeding: seeding),
                                         name: metainfo.name, stallTimeout: stallTimeout)
        } catch {
            throw DocketError.torrent("cannot start torrent \(metainfo.name) at \(path): \(error)")
        }
    }
}

/// One torrent in a `TorrentClient`.
final class DocketTorrentTransfer: TorrentTransfer {
    let handle: TorrentHandle
    private let name: String
    private let stallTimeout: Duration

    init(handle: TorrentHandle, name: String, stallTimeout: Duration) {
        self.handle = handle
        self.name = name
        self.stallTimeout = stallTimeout
    }

    /// What a tracker failure means for the user: the web seed and known peers still work.
    static let trackerNotice = "tracker unreachable, using web seed and known peers"

    static func progress(_ status: TorrentStatus) -> TransferProgress {
        TransferProgress(verifiedBytes: status.verifiedBytes, totalBytes: status.totalBytes,
                         bytesFromPeers: status.bytesFromOtherPeers,
                         bytesFromRegistry: status.bytesFromRegistrySeed + status.bytesFromWebSeed,
                         bytesUploaded: status.bytesUploaded, connectedPeers: status.connectedPeers,
                         isComplete: status.isComplete, notice: status.trackerError == nil ? nil : trackerNotice,
                         bytesResumed: status.bytesResumed,
                         contentDigest: status.contentSHA256.map { Digest(sha256Bytes: $0) })
    }

    var progress: AsyncStream<TransferProgress> {
        let (stream, continuation) = AsyncStream.makeStream(of: TransferProgress.self, bufferingPolicy: .bufferingNewest(16))
        let events = handle.events
        let forwarder = Task {
            for await status in events { continuation.yield(Self.progress(status)) }
            continuation.finish()
        }
        continuation.onTermination = { _ in forwarder.cancel() }
        return stream
    }

    func currentProgress() -> TransferProgress { Self.progress(handle.status()) }

    /// Waits for every piece; a download that gains no byte for `stallTimeout` is stopped and fails.
    func waitUntilComplete() async throws {
        let handle = self.handle
        do {
            try await StallWatch.wait(for: "torrent \(name)", timeout: stallTimeout,
                                      progress: { Self.progress(handle.status()) }, stop: { handle.stop() }) {
                try await handle.waitUntilComplete()
            }
        } catch let error as DocketError {
            throw error
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            throw DocketError.torrent("\(error)")
        }
    }

    func stop() async { await handle.stopAndWait() }
}
