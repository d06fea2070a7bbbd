import Foundation

/// Paces readers on any number of threads to `bytesPerSecond` in total: `pace` sleeps until the
/// bytes just read fit under the rate. Idle time earns at most a quarter second of burst.
public final class RateLimiter: Sendable {
    public let bytesPerSecond: Int64
    /// When the bytes taken so far are paid for.
    private let due = LockedBox<ContinuousClock.Instant?>(nil)
    private static let burst = Duration.milliseconds(250)

    public init(bytesPerSecond: Int64) {
        precondition(bytesPerSecond > 0, "a rate limit must be positive")
        self.bytesPerSecond = bytesPerSecond
    }

    /// Takes `count` bytes, sleeping (in slices of at most 100 ms) until they fit; returns early,
    /// false, once `cancellation` is raised.
    @discardableResult
    public func pace(_ count: Int, cancellation: CancellationFlag? = nil) -> Bool {
        let now = ContinuousClock.now
        let until = due.withLockedValue { due -> ContinuousClock.Instant in
            let start = max(due ?? now, now - Self.burst)
            let end = start + .seconds(Double(count) / Double(bytesPerSecond))
            due = end
            return end
        }
        while ContinuousClock.now < until {
            if cancellation?.isCancelled == true { return false }
            let left = ContinuousClock.now.duration(to: until)
            Thread.sleep(forTimeInterval: min(0.1, Double(left.components.seconds) + Double(left.components.attoseconds) / 1e18))
        }
        return true
    }
}
