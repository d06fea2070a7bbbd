import DocketCore
import Foundation
import Testing

@Suite struct RateLimiterTests {
    /// 600 KB at 1 MB/s from two threads: after the quarter-second burst, at least 0.3 s of pacing.
    @Test func readersTogetherKeepToTheRate() async throws {
        let limiter = RateLimiter(bytesPerSecond: 1_000_000)
        let started = ContinuousClock.now
        async let first: Void = Blocking.run { for _ in 0..<20 { limiter.pace(15_000) } }
        async let second: Void = Blocking.run { for _ in 0..<20 { limiter.pace(15_000) } }
        _ = try await (first, second)
        #expect(started.duration(to: .now) >= .milliseconds(300))
    }

    @Test func aRaisedFlagEndsTheWait() {
        let limiter = RateLimiter(bytesPerSecond: 1024)
        let flag = CancellationFlag()
        flag.cancel()
        let started = ContinuousClock.now
        // 10 MB at 1 KiB/s would take hours.
        #expect(limiter.pace(10_000_000, cancellation: flag) == false)
        #expect(started.duration(to: .now) < .seconds(5))
    }
}
