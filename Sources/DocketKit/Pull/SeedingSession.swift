import Foundation

/// The torrents a pull left seeding. Seed for a while, then stop; stopping twice is harmless.
public final class SeedingSession: Sendable {
    private let transfers: LockedBox<[any TorrentTransfer]>

    public init(transfers: [any TorrentTransfer]) {
        self.transfers = LockedBox(transfers)
    }

    /// How many torrents are seeding.
    public var count: Int { transfers.withLockedValue { $0.count } }

    /// Bytes uploaded so far by every transfer.
    public func uploadedBytes() async -> Int64 {
        var total: Int64 = 0
        for transfer in transfers.withLockedValue({ $0 }) { total += await transfer.currentProgress().bytesUploaded }
        return total
    }

    /// Seeds for `duration` (or until the task is cancelled), then stops every transfer.
    public func seed(for duration: Duration, events: @Sendable (PullEvent) -> Void = { _ in }) async {
        guard count > 0, duration > .zero else {
            await stop()
            return
        }
        let seconds = Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
        events(.seeding(layers: count, seconds: seconds))
        try? await Task.sleep(for: duration)
        let uploaded = await uploadedBytes()
        await stop()
        events(.seedingStopped(uploaded: uploaded))
    }

    /// Stops every transfer now.
    public func stop() async {
        let all = transfers.withLockedValue { list in
            defer { list = [] }
            return list
        }
        for transfer in all { await transfer.stop() }
    }
}
