@testable import DocketTorrent
import Testing

@Suite struct TrackerTiersTests {
    /// A fixed-seed generator so shuffles reproduce.
    private struct SeededGenerator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return state ^ (state >> 31)
        }
    }

    @Test func announceAloneIsTheSingleTier() {
        let tiers = TrackerTiers(announce: "http://a/announce", announceList: [])
        #expect(tiers.tiers == [["http://a/announce"]])
        #expect(tiers.order == ["http://a/announce"])
        #expect(TrackerTiers(announce: nil, announceList: []).isEmpty)
        // An announce-list with no URL at all counts as absent.
        #expect(TrackerTiers(announce: "http://a/announce", announceList: [[], []]).order == ["http://a/announce"])
    }

    @Test func announceListReplacesAnnounce() {
        let tiers = TrackerTiers(announce: "http://main/announce", announceList: [["http://t1/announce"], ["http://b1/announce"], ["http://b2/announce"]])
        #expect(tiers.order == ["http://t1/announce", "http://b1/announce", "http://b2/announce"])
        #expect(!tiers.order.contains("http://main/announce"))
    }

    @Test func keepsOnlyHTTPTrackersAndFirstOccurrences() {
        let tiers = TrackerTiers(ordered: [])
        #expect(tiers.isEmpty)
        var generator = SeededGenerator(state: 1)
        let filtered = TrackerTiers(announce: nil, announceList: [
            ["udp://u:80/announce", "HTTPS://s/announce"], ["http://a/announce", "HTTPS://s/announce"], ["udp://only"], ["http://a/announce"],
        ], using: &generator)
        #expect(filtered.tiers == [["HTTPS://s/announce"], ["http://a/announce"]])
        // Only UDP in announce-list: announce is still ignored (BEP 12), so there is no tracker.
        #expect(TrackerTiers(announce: "http://main/announce", announceList: [["udp://u:80/announce"]]).isEmpty)
    }

    @Test func shufflesWithinTiersOnlyAndKeepsEveryTracker() {
        let tier1 = (0..<8).map { "http://t\($0)/announce" }
        let tier2 = (0..<8).map { "http://b\($0)/announce" }
        var orders: Set<[String]> = []
        for seed in 1...20 as ClosedRange<UInt64> {
            var generator = SeededGenerator(state: seed)
            let tiers = TrackerTiers(announce: nil, announceList: [tier1, tier2], using: &generator)
            #expect(tiers.tiers.count == 2)
            #expect(tiers.tiers[0].sorted() == tier1.sorted())
            #expect(tiers.tiers[1].sorted() == tier2.sorted())
            orders.insert(tiers.tiers[0])
        }
        // 20 shuffles of 8 trackers: the same order every time would mean no shuffle at all.
        #expect(orders.count > 10)
    }

    /// The example of BEP 12: trackers of one tier, already shuffled as 1, 2, 3.
    @Test func answeringTrackerMovesToTheFrontOfItsTier() {
        var tiers = TrackerTiers(ordered: [["tracker1", "tracker2", "tracker3"]])
        tiers.answered("tracker2")
        #expect(tiers.order == ["tracker2", "tracker1", "tracker3"])
        tiers.answered("tracker3")
        #expect(tiers.order == ["tracker3", "tracker2", "tracker1"])
        tiers.answered("tracker3")
        #expect(tiers.order == ["tracker3", "tracker2", "tracker1"])
        tiers.answered("unknown")
        #expect(tiers.order == ["tracker3", "tracker2", "tracker1"])
    }

    /// Tiers keep their order: a backup that answers moves up within its own tier, never above tier 1.
    @Test func tiersStayInOrder() {
        var tiers = TrackerTiers(ordered: [["tracker1"], ["backup1", "backup2"], ["backup3"]])
        tiers.answered("backup2")
        #expect(tiers.tiers == [["tracker1"], ["backup2", "backup1"], ["backup3"]])
        tiers.answered("backup3")
        #expect(tiers.order == ["tracker1", "backup2", "backup1", "backup3"])
    }
}
