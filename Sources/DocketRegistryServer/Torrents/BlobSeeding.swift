import DocketCore
import DocketTorrent
import Foundation

/// What the registry needs from a BitTorrent engine: seed complete files and say where peers reach it.
protocol BlobSeeding: Sendable {
    /// The TCP port peers connect to.
    var listenPort: UInt16 { get }
    /// Starts seeding the complete file at `path`.
    func seed(_ metainfo: Metainfo, path: String) throws
    /// Stops every torrent and closes the socket.
    func shutdown()
}

/// Seeds with an in-process `TorrentClient` whose peer id says "registry seed" (`-DR0010-`).
final class EngineSeeder: BlobSeeding {
    private let client: TorrentClient

    init(bindAddress: String, uploadRateLimit: Int?, logger: Logger) throws {
        var configuration = TorrentClient.Configuration(
            bindAddress: bindAddress, port: 0, peerID: .random(prefix: PeerID.registrySeederPrefix),
            maxPeersPerTorrent: 200, uploadRateLimit: uploadRateLimit.map(Int64.init), logger: logger)
        // Send each piece about once and let the pullers spread the copies.
        configuration.superSeeding = true
        client = try TorrentClient(configuration: configuration)
    }

    var listenPort: UInt16 { client.listenPort }

    func seed(_ metainfo: Metainfo, path: String) throws {
        _ = try client.add(metainfo, path: path, seeding: true)
    }

    func shutdown() { client.shutdown() }
}
