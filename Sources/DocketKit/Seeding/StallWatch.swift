import Foundation

/// The "never hang" half of the `TorrentSeeder` contract, shared by every backend: waits for a
/// transfer while watching how many bytes it has received, and gives up when that number stays
/// still for `timeout`.
enum StallWatch {
    /// Bytes a transfer has gained so far, from any source (verified, from peers, from the registry).
    static func received(_ progress: TransferProgress) -> Int64 {
        progress.verifiedBytes + progress.bytesFromPeers + progress.bytesFromRegistry
    }

    /// Runs `wait` until it returns; if `progress` shows no new byte for `timeout` first, calls
    /// `stop` and throws `DocketError.torrent` naming `what` (and `detail`, e.g. the helper's last output).
    static func wait(for what: String, timeout: Duration, detail: @escaping @Sendable () -> String = { "" },
                     progress: @escaping @Sendable () async -> TransferProgress,
                     stop: @escaping @Sendable () async -> Void,
                     _ wait: @escaping @Sendable () async throws -> Void) async throws {
        let stall = LockedBox<DocketError?>(nil)
        do {
            try await waitOrStall(for: what, timeout: timeout, detail: detail, progress: progress, stop: stop, stall: stall, wait)
        } catch {
            // Stopping a stalled transfer fails its wait too: report why it was stopped.
            if let stalled = stall.withLockedValue({ $0 }) { throw stalled }
            throw error
        }
    }

    private static func waitOrStall(for what: String, timeout: Duration, detail: @escaping @Sendable () -> String,
                                    progress: @escaping @Sendable () async -> TransferProgress,
                                    stop: @escaping @Sendable () async -> Void, stall: LockedBox<DocketError?>,
                                    _ wait: @escaping @Sendable () async throws -> Void) async throws {
        try await withThrowingTaskGroup(of: Bool.self) { group in
            group.addTask {
                try await wait()
                return true
            }
            group.addTask {
                let clock = ContinuousClock()
                var last = received(await progress())
                var lastChange = clock.now
                let tick = min(timeout / 4, .seconds(1))
                while true {
                    try await Task.sleep(for: tick)
                    let current = await progress()
                    if current.isComplete { return false }
                    if received(current) != last {
                        last = received(current)
                        lastChange = clock.now
                    } else if clock.now - lastChange >= timeout {
                        let error = DocketError.torrent("\(what) received nothing for \(timeout) and was stopped: no peer or web "
                            + "seed answered (is the registry's seeder or tracker reachable from here?)" + detail())
                        stall.withLockedValue { $0 = error }
                        await stop()
                        throw error
                    }
                }
            }
            // `wait` decides once it returns; the watcher ends early only by throwing (a stall) or
            // by seeing completion, after which `wait` returns too.
            while let waited = try await group.next() {
                if waited { break }
            }
            group.cancelAll()
        }
    }
}
