import DocketCore
@testable import DocketTorrent
import Foundation
import Testing

/// The request pipeline in a live engine: a slow seeder is asked for few blocks, a fast one for many.
@Suite(.serialized) struct SessionPipelineTests {
    /// Downloads from one seeder limited to `rate`, and reports the leecher's outstanding requests to
    /// it and the pipeline depth once `after` seconds have passed.
    private func pipeline(seederRate: Int64, size: Int, after seconds: Double) async throws -> (outstanding: Int, depth: Int) {
        let dir = try SessionTestSupport.temporaryDirectory("pipeline")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let source = dir + "/source.bin"
        try SessionTestSupport.writeRandomFile(source, size: size, seed: 5)
        let metainfo = try Metainfo.create(fileAt: source, name: "source.bin", pieceLength: 256 << 10, isPrivate: false, announce: nil, urlList: [])
        var limited = TorrentClient.Configuration.testing
        limited.uploadRateLimit = seederRate
        let seed = try TorrentClient(configuration: limited)
        defer { seed.shutdown() }
        _ = try seed.add(metainfo, path: source, seeding: true)
        let client = try TorrentClient(configuration: .testing)
        defer { client.shutdown() }
        let handle = try client.add(metainfo, path: dir + "/out.bin", seeding: false)
        handle.addPeers([SessionTestSupport.loopback(seed)])
        try await Task.sleep(for: .seconds(seconds))
        let seen = await handle.inspect { torrent in torrent?.peers.values.first.map { ($0.outstanding.count, $0.pipeline.depth) } }
        #expect(handle.status().isComplete == false, "the download finished before the pipeline was looked at")
        return try #require(seen ?? nil)
    }

    @Test func slowSeederIsAskedForFewBlocks() async throws {
        // 64 KiB/s is 4 blocks a second: one second's worth is the minimum depth.
        let seen = try await pipeline(seederRate: 64 << 10, size: 4 << 20, after: 3)
        // It started with `initial` requests; those past twice the measured depth were cancelled.
        #expect(seen.depth <= 8)
        #expect(seen.outstanding <= 2 * seen.depth, "outstanding \(seen.outstanding), depth \(seen.depth)")
    }

    @Test func fastSeederGetsADeepPipeline() async throws {
        let seen = try await pipeline(seederRate: 16 << 20, size: 64 << 20, after: 1.5)
        #expect(seen.depth == RequestPipeline.maximum)
    }
}
