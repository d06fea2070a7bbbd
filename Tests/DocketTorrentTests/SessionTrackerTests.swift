@testable import DocketTorrent
import Foundation
import Testing

/// The engine against real HTTP trackers in the test process: BEP 12 tiers, and a tracker that
/// dies in the middle of a download.
@Suite(.serialized) struct SessionTrackerTests {
    private func payload(_ dir: String, size: Int) throws -> (String, Metainfo) {
        let source = dir + "/source.bin"
        try SessionTestSupport.writeRandomFile(source, size: size, seed: UInt64(size))
        return (source, try Metainfo.create(fileAt: source, name: "source.bin", pieceLength: 64 << 10, isPrivate: true, announce: nil, urlList: []))
    }

    private func client(_ peerID: PeerID, uploadRateLimit: Int64? = nil) throws -> TorrentClient {
        var configuration = TorrentClient.Configuration.testing
        configuration.peerID = peerID
        configuration.uploadRateLimit = uploadRateLimit
        return try TorrentClient(configuration: configuration)
    }

    /// Polls `condition` every 50 ms off the cooperative pool; false after `seconds`.
    private func eventually(_ seconds: Double, _ condition: @escaping @Sendable () -> Bool) async -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if condition() { return true }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return condition()
    }

    /// Tier 1 is a dead port, tier 2 holds two trackers that refuse and one that answers. `announce`
    /// names another tracker, which must be ignored because `announce-list` is present. The
    /// leecher finds the seed through tier 2 and, once that tracker answered, asks it first: the
    /// refusing trackers are never asked after the first answer. (When the shuffle puts the
    /// answering tracker first, that part holds trivially; `TrackerTiersTests` pins the rule.)
    @Test func triesTiersInOrderAndKeepsTheTrackerThatAnswered() async throws {
        let dir = try SessionTestSupport.temporaryDirectory("tracker-tiers")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (source, bare) = try payload(dir, size: 400_000)
        let ignored = try InProcessTracker(.answer)
        let refusing = try InProcessTracker(.refuse("not this one"))
        let refusingToo = try InProcessTracker(.refuse("nor this one"))
        let answering = try InProcessTracker(.answer)
        defer { [ignored, refusing, refusingToo, answering].forEach { $0.stop() } }
        let dead = "http://127.0.0.1:\(try InteropTracker.freePort())/announce"
        let metainfo = bare.with(announce: ignored.announceURL, announceList: [[dead], [refusing.announceURL, refusingToo.announceURL, answering.announceURL]], urlList: [])

        let seedID = PeerID.random(prefix: "-DK0010-")
        let seed = try client(seedID)
        defer { seed.shutdown() }
        _ = try seed.add(metainfo, path: source, seeding: true)
        #expect(await eventually(20) { answering.announces.contains { $0.query.peerID == seedID } }, "the seed never reached the answering tracker")

        let leecherID = PeerID.random(prefix: "-DK0010-")
        let leecher = try client(leecherID)
        defer { leecher.shutdown() }
        let handle = try leecher.add(metainfo, path: dir + "/out.bin", seeding: false)
        try await SessionTestSupport.withTimeout(60, "download with peers from tier 2") { try await handle.waitUntilComplete() }
        #expect(SessionTestSupport.filesEqual(source, dir + "/out.bin"))
        #expect(handle.status().bytesFromOtherPeers == 400_000)
        // The `completed` announce goes to the tracker that answered before.
        #expect(await eventually(20) { answering.announces.contains { $0.query.peerID == leecherID && $0.query.event == .completed } },
                "the leecher never announced completed to the tracker that answered")

        let fromLeecher = { (tracker: InProcessTracker) in tracker.announces.filter { $0.query.peerID == leecherID } }
        let answered = fromLeecher(answering)
        #expect(answered.count >= 2)
        #expect(answered.first?.query.event == .started)
        let firstAnswer = try #require(answered.first).sequence
        for tracker in [refusing, refusingToo] {
            let refused = fromLeecher(tracker)
            #expect(refused.allSatisfy { $0.sequence < firstAnswer }, "a refusing tracker was asked after the answering one moved to the front: \(refused.map(\.sequence)) vs \(firstAnswer)")
            #expect(refused.count <= 1)
        }
        #expect(ignored.announces.isEmpty, "`announce` must be ignored when `announce-list` is present")
        #expect(handle.status().trackerError == nil)
    }

    /// The only tracker stops answering after the leecher's first announce: the leecher reports
    /// the tracker error and still finishes from the seed it already knows.
    @Test func downloadFinishesFromKnownPeersWhenTheTrackerDies() async throws {
        let dir = try SessionTestSupport.temporaryDirectory("tracker-dies")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let size = 1 << 20
        let (source, bare) = try payload(dir, size: size)
        let tracker = try InProcessTracker(.answer)
        defer { tracker.stop() }
        let metainfo = bare.with(announce: tracker.announceURL, announceList: [], urlList: [])

        // About 13 s to send the whole file: the leecher re-announces (5 s later, it knows one
        // peer only) while the download is still going.
        let seedID = PeerID.random(prefix: "-DK0010-")
        let seed = try client(seedID, uploadRateLimit: 80_000)
        defer { seed.shutdown() }
        _ = try seed.add(metainfo, path: source, seeding: true)
        #expect(await eventually(20) { tracker.announces.contains { $0.query.peerID == seedID } }, "the seed never announced")

        let leecherID = PeerID.random(prefix: "-DK0010-")
        let leecher = try client(leecherID)
        defer { leecher.shutdown() }
        let handle = try leecher.add(metainfo, path: dir + "/out.bin", seeding: false)
        let events = handle.events
        #expect(await eventually(20) { tracker.announces.contains { $0.query.peerID == leecherID } }, "the leecher never announced")
        tracker.stop()

        let whenReported = try await SessionTestSupport.withTimeout(30, "tracker error in the status") {
            for await status in events where status.trackerError != nil { return status }
            return handle.status()
        }
        #expect(whenReported.trackerError?.contains("127.0.0.1:\(tracker.port)") == true)
        #expect(!whenReported.isComplete, "the tracker error should show while the download is still going")
        try await SessionTestSupport.withTimeout(60, "download after the tracker died") { try await handle.waitUntilComplete() }
        #expect(SessionTestSupport.filesEqual(source, dir + "/out.bin"))
        let status = handle.status()
        #expect(status.bytesFromOtherPeers == Int64(size))
        #expect(status.trackerError != nil)
    }
}
