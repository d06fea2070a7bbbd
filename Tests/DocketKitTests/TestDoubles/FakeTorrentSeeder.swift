import Foundation
@testable import DocketKit

/// A `TorrentSeeder` whose "swarm" is a dictionary: a download writes the swarm's bytes for the
/// torrent's digest (the fake torrent is just the digest string) and completes at once.
final class FakeTorrentSeeder: TorrentSeeder {
    /// What peers hand out, by digest; may differ from the real bytes to simulate a bad swarm.
    let swarm: [Digest: Data]
    /// Digests whose download fails as a BitTorrent error.
    let failing: Set<Digest>
    private let log = LockedBox<(downloads: [Digest], seeds: [Digest], stopped: Int, live: Int)>(([], [], 0, 0))

    /// Downloads that never finish on their own (until stopped), to test cancellation.
    let hanging: Bool

    init(swarm: [Digest: Data], failing: Set<Digest> = [], hanging: Bool = false) {
        self.swarm = swarm
        self.failing = failing
        self.hanging = hanging
    }

    static func torrent(for digest: Digest) -> Data { Data(digest.description.utf8) }

    var downloads: [Digest] { log.withLockedValue { $0.downloads } }
    var seeds: [Digest] { log.withLockedValue { $0.seeds } }
    /// Transfers started and not yet stopped.
    var liveTransfers: Int { log.withLockedValue { $0.live } }

    var continuesSeedingAfterRename: Bool { true }

    func download(torrent: Data, to path: String) async throws -> any TorrentTransfer {
        let digest = try Digest(parsing: String(decoding: torrent, as: UTF8.self))
        log.withLockedValue { $0.downloads.append(digest) }
        if failing.contains(digest) { throw DocketError.torrent("no peers for \(digest)") }
        let data = swarm[digest] ?? Data()
        if hanging { return started(size: Int64(data.count), hanging: true) }
        try data.write(to: URL(fileURLWithPath: path))
        return started(size: Int64(data.count))
    }

    func seed(torrent: Data, from path: String) async throws -> any TorrentTransfer {
        let digest = try Digest(parsing: String(decoding: torrent, as: UTF8.self))
        log.withLockedValue { $0.seeds.append(digest) }
        return started(size: 0)
    }

    func shutdown() async {}

    private func started(size: Int64, hanging: Bool = false) -> FakeTransfer {
        log.withLockedValue { $0.live += 1 }
        return FakeTransfer(size: size, hanging: hanging) { [log] in log.withLockedValue { $0.live -= 1 } }
    }
}

/// A transfer that is complete from the start (all bytes "from peers"), or, when hanging, one that
/// waits until it is stopped and then fails.
final class FakeTransfer: TorrentTransfer {
    let size: Int64
    let hanging: Bool
    private let onStop: @Sendable () -> Void
    private let stopped = LockedBox(false)
    private let waiters = LockedBox<[CheckedContinuation<Void, Error>]?>([])

    init(size: Int64, hanging: Bool = false, onStop: @escaping @Sendable () -> Void) {
        self.size = size
        self.hanging = hanging
        self.onStop = onStop
    }

    var final: TransferProgress {
        hanging ? TransferProgress(totalBytes: size)
            : TransferProgress(verifiedBytes: size, totalBytes: size, bytesFromPeers: size, isComplete: true)
    }

    var progress: AsyncStream<TransferProgress> {
        AsyncStream { continuation in
            continuation.yield(final)
            continuation.finish()
        }
    }

    func currentProgress() async -> TransferProgress { final }

    func waitUntilComplete() async throws {
        guard hanging else { return }
        try await withCheckedThrowingContinuation { (waiter: CheckedContinuation<Void, Error>) in
            let parked = waiters.withLockedValue { list -> Bool in
                guard list != nil else { return false }
                list!.append(waiter)
                return true
            }
            if !parked { waiter.resume(throwing: DocketError.torrent("stopped")) }
        }
    }

    func stop() async {
        let first = stopped.withLockedValue { value in
            defer { value = true }
            return !value
        }
        guard first else { return }
        onStop()
        let parked = waiters.withLockedValue { list in
            defer { list = nil }
            return list ?? []
        }
        parked.forEach { $0.resume(throwing: DocketError.torrent("stopped")) }
    }
}
