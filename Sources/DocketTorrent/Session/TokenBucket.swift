import Foundation

/// A token bucket for a byte rate: `take` succeeds while tokens last; `refill` adds rate × elapsed.
struct TokenBucket {
    let rate: Double
    let burst: Double
    private(set) var tokens: Double
    private var last: Double

    init(bytesPerSecond: Int64, now: Double) {
        rate = Double(max(bytesPerSecond, 1))
        // Enough for a few blocks, at most a quarter second of traffic.
        burst = max(Double(PeerWire.blockSize) * 2, rate / 4)
        tokens = burst
        last = now
    }

    mutating func refill(now: Double) {
        tokens = min(burst, tokens + (now - last) * rate)
        last = now
    }

    /// Takes `n` tokens if available (the balance may not go below zero).
    mutating func take(_ n: Int) -> Bool {
        guard tokens >= Double(n) else { return false }
        tokens -= Double(n)
        return true
    }

    /// Takes `n` tokens even past zero, for transfers larger than the burst (a web seed's whole
    /// piece): the debt holds everything else back until refills pay it.
    mutating func charge(_ n: Int) {
        tokens -= Double(n)
    }
}

/// A clock for the engine: monotonic seconds.
enum MonotonicClock {
    static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }
}
