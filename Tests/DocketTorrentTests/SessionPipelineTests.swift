import DocketCore
@testable import DocketTorrent
import Foundation
import Testing

/// The request pipeline in a live engine: a slow seeder is asked for few blocks, a fast one for many.
@Suite(.serialized) struct SessionPipelineTests {
    /// Downloads from one seeder limited to `seederRate` and reports the leecher's outstanding
    /// requests to it and its pipeline depth once `ready` holds for the status. Watched and looked at
    /// from a thread of its own, so a busy cooperative pool cannot delay the look past the download.
    private func pipeline(seederRate: Int64, size: Int, when ready: @escaping @Sendable (TorrentStatus, Double) -> Bool)
        async throws -> (outstanding: Int, depth: Int) {
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
        let seen = try await Blocking.run { () -> (Int, Int, Bool)? in
            let start = Date()
            while !ready(handle.status(), Date().timeIntervalSince(start)) {
                guard Date().timeIntervalSince(start) < 60 else { throw SessionTestSupport.TimedOut(what: "the pipeline's moment") }
                usleep(10_000)
            }
            let answer = LockedBox<(Int, Int, Bool)?>(nil)
            let done = DispatchSemaphore(value: 0)
            let sent = handle.channel.send(.inspect(handle.infoHash) { torrent in
                answer.withLockedValue { value in
                    value = torrent?.peers.values.first.map { ($0.outstanding.count, $0.pipeline.depth, torrent!.isComplete) }
                }
                done.signal()
            })
            if sent { done.wait() }
            return answer.withLockedValue { $0 }
        }
        let (outstanding, depth, complete) = try #require(seen)
        #expect(!complete, "the download finished before the pipeline was looked at")
        return (outstanding, depth)
    }

    @Test func slowSeederIsAskedForFewBlocks() async throws {
        // 64 KiB/s is 4 blocks a second: 0.2 s of it is below the minimum depth.
        let seen = try await pipeline(seederRate: 64 << 10, size: 4 << 20) { _, elapsed in elapsed >= 3 }
        // It started with `initial` requests; those past twice the measured depth were cancelled.
        #expect(seen.depth <= 8)
        #expect(seen.outstanding <= 2 * seen.depth, "outstanding \(seen.outstanding), depth \(seen.depth)")
    }

    @Test func fastSeederGetsADeepPipeline() async throws {
        // 8 MiB/s is 512 blocks a second, 0.2 s of it 102; at least 64 (5 MiB/s measured) on a busy
        // machine. Looked at after an eighth (1 s of 8).
        let seen = try await pipeline(seederRate: 8 << 20, size: 64 << 20) { status, _ in status.verifiedBytes >= 8 << 20 }
        #expect(seen.depth >= 64 && seen.depth <= 120, "depth \(seen.depth)")
    }
}
