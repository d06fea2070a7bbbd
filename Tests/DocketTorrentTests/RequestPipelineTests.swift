@testable import DocketTorrent
import Testing

@Suite struct RequestPipelineTests {
    /// Feeds `bytesPerSecond` in 16 KiB blocks for `seconds`, starting at time 0.
    private func measured(bytesPerSecond: Double, seconds: Double) -> RequestPipeline {
        var pipeline = RequestPipeline(now: 0)
        let block = PeerWire.blockSize
        let interval = Double(block) / bytesPerSecond
        var now = 0.0
        while now < seconds {
            now += interval
            pipeline.received(block, now: now)
        }
        return pipeline
    }

    @Test func startsAtTheInitialDepth() {
        #expect(RequestPipeline(now: 5).depth == RequestPipeline.initial)
        #expect(RequestPipeline(now: 5).rate == nil)
    }

    @Test func fastPeerGetsADeepQueue() {
        let pipeline = measured(bytesPerSecond: 500e6, seconds: 1)
        #expect(pipeline.depth == RequestPipeline.maximum)
        #expect(pipeline.depth > RequestPipeline.initial)
    }

    @Test func slowPeerHoldsFewBlocks() {
        let pipeline = measured(bytesPerSecond: 64 * 1024, seconds: 3)
        #expect(pipeline.depth == RequestPipeline.minimum)
        let modest = measured(bytesPerSecond: 1_048_576, seconds: 3)
        // 0.2 s of 1 MiB/s is 12.8 blocks.
        #expect(RequestPipeline.targetQueueTime == 0.2)
        #expect((12...14).contains(modest.depth))
        #expect(abs((modest.rate ?? 0) - Double(1 << 20)) < Double(1 << 20) * 0.1)
    }

    @Test func depthFollowsTheRateBothWays() {
        var pipeline = measured(bytesPerSecond: 100e6, seconds: 1)
        #expect(pipeline.depth == RequestPipeline.maximum)
        var now = 1.0
        for _ in 0..<40 {
            now += 0.35
            pipeline.received(PeerWire.blockSize, now: now)
        }
        #expect(pipeline.depth == RequestPipeline.minimum)
    }

    @Test func ruleIsClampedAndMonotonic() {
        #expect(RequestPipeline.depth(forRate: 0) == RequestPipeline.minimum)
        #expect(RequestPipeline.depth(forRate: .infinity) == RequestPipeline.maximum)
        #expect(RequestPipeline.depth(forRate: 1e12) == RequestPipeline.maximum)
        var last = 0
        for rate in stride(from: 0.0, through: 10e6, by: 50_000) {
            let depth = RequestPipeline.depth(forRate: rate)
            #expect(depth >= last && depth >= RequestPipeline.minimum && depth <= RequestPipeline.maximum)
            last = depth
        }
    }

    /// Time with nothing outstanding is not counted against the peer.
    @Test func idleTimeDoesNotLowerTheRate() {
        var pipeline = measured(bytesPerSecond: 2_097_152, seconds: 1)
        let before = pipeline.depth
        #expect((24...28).contains(before))
        pipeline.idle(now: 100)
        for step in 1...40 { pipeline.received(PeerWire.blockSize, now: 100 + Double(step) * Double(PeerWire.blockSize) / Double(2 << 20)) }
        #expect(pipeline.depth == before)
    }
}
