@testable import DocketTorrent
import DocketCore
import Foundation
import Testing

@Suite(.serialized) struct SessionSwarmTests {
    /// One upload-limited seed and three leechers that know each other: everyone ends with the
    /// seed's bytes, and the leechers trade pieces among themselves.
    @Test func threeLeechersDownloadFromOneSeedAndEachOther() async throws {
        let dir = try SessionTestSupport.temporaryDirectory("swarm")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let source = dir + "/source.bin"
        try SessionTestSupport.writeRandomFile(source, size: 4 << 20)
        let metainfo = try Metainfo.create(fileAt: source, name: "source.bin", pieceLength: 64 << 10, isPrivate: false, announce: nil, urlList: [])

        var seedConfiguration = TorrentClient.Configuration.testing
        seedConfiguration.uploadRateLimit = 2 << 20
        seedConfiguration.peerID = .random(prefix: PeerID.registrySeederPrefix)
        let seed = try TorrentClient(configuration: seedConfiguration)
        defer { seed.shutdown() }
        let seedHandle = try seed.add(metainfo, path: source, seeding: true)
        #expect(seedHandle.status().isComplete)

        let (clients, handles) = try await SessionTestSupport.leechSwarm(metainfo, seed: seed, count: 3, directory: dir, timeout: 60)
        defer { clients.forEach { $0.shutdown() } }
        let sourceSHA256 = Hasher.sha256(try Data(contentsOf: URL(fileURLWithPath: source)))
        for index in 0..<3 {
            #expect(SessionTestSupport.filesEqual(source, dir + "/leecher\(index).bin"))
            let status = handles[index].status()
            #expect(status.isComplete)
            // Completion comes with the content's sha256, read back from the leecher's file.
            #expect(status.contentSHA256 == sourceSHA256)
            #expect(status.verifiedBytes == 4 << 20)
            #expect(status.bytesFromRegistrySeed + status.bytesFromOtherPeers >= 4 << 20)
            #expect(status.bytesFromWebSeed == 0)
        }
        let fromOthers = handles.map { $0.status().bytesFromOtherPeers }
        #expect(fromOthers.contains { $0 > 0 }, "bytes from other leechers: \(fromOthers)")
        let traded = handles.map { $0.status().bytesUploaded }
        #expect(traded.contains { $0 > 0 }, "leechers uploaded \(traded)")
    }
}
