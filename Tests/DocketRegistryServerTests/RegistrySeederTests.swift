import DocketKit
import DocketRegistryServer
import DocketTorrent
import Foundation
import Testing

/// The registry's own seeder, reached through its tracker: a BitTorrent client with no web seed
/// downloads a pushed layer entirely from it.
@Suite struct RegistrySeederTests {
    @Test func clientDownloadsALayerFromTheRegistrySeeder() async throws {
        try await LiveRegistry.with { registry, work in
            let image = try TestImage.make(in: work, largeLayerSize: 3_000_000)
            #expect(try await registry.push(image.archivePath, name: "team/app", tag: "1").status == 201)

            let served = try Metainfo.parse([UInt8](try await registry.get("/docket/v1/blobs/\(image.layerDigests[1])/torrent").body))
            let peerOnly = served.with(announce: served.announce, announceList: [], urlList: [])
            let client = try TorrentClient(configuration: .testing)
            defer { client.shutdown() }
            let target = work + "/downloaded"
            let handle = try client.add(peerOnly, path: target, seeding: false)

            // Guard against a hang only; the assertions below are about bytes, not time.
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await handle.waitUntilComplete() }
                group.addTask {
                    try await Task.sleep(for: .seconds(60))
                    throw CancellationError()
                }
                try await group.next()
                group.cancelAll()
            }
            let status = handle.status()
            #expect(status.isComplete)
            #expect(status.bytesFromRegistrySeed >= Int64(image.layers[1].count))
            #expect(status.bytesFromWebSeed == 0)
            #expect(FileManager.default.contents(atPath: target) == image.layers[1])
        }
    }
}
