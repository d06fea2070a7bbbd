import DocketKit
import DocketRegistryServer
import DocketTorrent
import Foundation

/// A registry on a loopback port with one real image pushed into it.
struct LiveRegistry {
    let server: RegistryServer
    let directory: TemporaryDirectory
    let url: String
    let reference: ImageReference
    let resolved: ResolvedImage

    /// Starts a registry, builds an image with scripts/make-image.sh and pushes it over HTTP.
    static func start(payloadMB: Int, seederUploadLimit: Int? = nil, label: String) async throws -> LiveRegistry {
        let directory = try TemporaryDirectory(label)
        var configuration = RegistryServer.Configuration.testing(dataDirectory: directory.path + "/registry")
        configuration.seederUploadLimit = seederUploadLimit
        let server = RegistryServer(configuration: configuration)
        try server.start()
        let url = "http://127.0.0.1:\(server.port)"
        let reference = try ImageReference(parsing: "it/\(label):1.0")
        let archive = directory.path + "/image.tar"
        try await ImageFixture.build(at: archive, reference: reference.description, payloadMB: payloadMB)
        let resolved = try await HTTPRegistry(url: url).push(archiveAt: archive, as: reference)
        return LiveRegistry(server: server, directory: directory, url: url, reference: reference, resolved: resolved)
    }

    func stop() {
        server.stop()
        directory.remove()
    }

    /// Every blob of the image: config first, then layers.
    var blobs: [Descriptor] { [resolved.manifest.config] + resolved.manifest.layers }
}

/// A client like `docket-cli pull`: its own store and its own BitTorrent engine.
struct PullingClient {
    let store: FileImageStore
    let root: String
    let torrents: TorrentClient

    init(root: String) throws {
        self.root = root
        store = FileImageStore(root: root)
        torrents = try TorrentClient(configuration: .testing)
    }

    func puller(registry: String, peerToPeer: Bool = true) -> ImagePuller {
        ImagePuller(registry: HTTPRegistry(url: registry), store: store, seeder: DocketTorrentSeeder(client: torrents),
                    options: PullOptions(peerToPeer: peerToPeer, seedTime: .seconds(0)))
    }

    /// The stored blob's sha256, recomputed from disk.
    func verifiedDigest(of digest: Digest) async throws -> Digest? {
        guard let path = await store.path(of: digest) else { return nil }
        return try Digest.sha256(ofFileAt: path)
    }
}
