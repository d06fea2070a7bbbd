@testable import DocketTorrent
import Foundation
import Testing

@Suite(.serialized) struct SessionSuperSeedTests {
    /// A registry-style seed (rate-limited, as a real link would be) and five leechers that know each
    /// other; returns how many copies of the file the seed sent.
    private func copiesSentBySeed(superSeeding: Bool) async throws -> Double {
        let dir = try SessionTestSupport.temporaryDirectory("superseed")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let source = dir + "/source.bin"
        let size = 6 << 20
        try SessionTestSupport.writeRandomFile(source, size: size)
        let metainfo = try Metainfo.create(fileAt: source, name: "source.bin", pieceLength: 64 << 10, isPrivate: false, announce: nil, urlList: [])

        var seedConfiguration = TorrentClient.Configuration.testing
        seedConfiguration.uploadRateLimit = 3 << 20
        seedConfiguration.peerID = .random(prefix: PeerID.registrySeederPrefix)
        seedConfiguration.superSeeding = superSeeding
        let seed = try TorrentClient(configuration: seedConfiguration)
        defer { seed.shutdown() }
        let seedHandle = try seed.add(metainfo, path: source, seeding: true)

        let (clients, _) = try await SessionTestSupport.leechSwarm(metainfo, seed: seed, count: 5, directory: dir, timeout: 90)
        defer { clients.forEach { $0.shutdown() } }
        for index in 0..<5 {
            #expect(SessionTestSupport.filesEqual(source, dir + "/leecher\(index).bin"))
        }
        try await Task.sleep(for: .milliseconds(300))
        return Double(seedHandle.status().bytesUploaded) / Double(size)
    }

    /// Super-seeding shows each leecher a few pieces at a time; everyone still completes, and the
    /// seed sends little more than one copy (plain seeding sends each leecher much of the file).
    @Test func superSeedingSendsAboutOneCopyAndEveryoneCompletes() async throws {
        let superCopies = try await copiesSentBySeed(superSeeding: true)
        #expect(superCopies >= 1.0)
        #expect(superCopies < 1.5, "super-seeding seed sent \(superCopies) copies")
    }
}
