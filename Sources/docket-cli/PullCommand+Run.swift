import DocketKit
import DocketTorrent
import Foundation

extension PullCommand {
    func run() async throws {
        let registry = HTTPRegistry(url: registry, downloadLimit: downloadLimit)
        let store = FileImageStore(root: storeDirectory)
        try await store.prepare()
        let deployer: any Deployer = if let outputPath {
            ArchiveDeployer(path: outputPath)
        } else {
            DockerEngineDeployer(engine: try DockerEngine())
        }
        try await deployer.prepare()
        let seeder = peerToPeer ? try makeSeeder() : nil
        let view = PullProgressView(mode: json ? .json : Console.isTerminal ? .terminal : .plain)
        let puller = ImagePuller(registry: registry, store: store, seeder: seeder,
                                 options: PullOptions(peerToPeer: peerToPeer, seedTime: .seconds(seedSeconds)))
        do {
            let result = try await puller.download(reference) { view.show($0) }
            do {
                try await deployer.deploy(result.image)
                if let outputPath {
                    view.show(.notice("wrote \(outputPath) (load it with `docker load -i \(outputPath)`)"))
                } else {
                    view.show(.notice("loaded \(reference) into Docker"))
                }
            } catch {
                await result.seeding.stop()
                throw error
            }
            await result.seeding.seed(for: .seconds(seedSeconds)) { view.show($0) }
        } catch {
            await seeder?.shutdown()
            throw error
        }
        await seeder?.shutdown()
    }

    private func makeSeeder() throws -> any TorrentSeeder {
        try TorrentSeederConfiguration(backend: backend, port: port, uploadRateLimit: uploadLimit,
                                       downloadRateLimit: downloadLimit).makeSeeder()
    }
}
