import DocketCore

/// The part of a torrent other threads see: the latest status, event streams and completion waiters.
/// The event loop publishes into it; handles read from it.
final class TorrentShared: Sendable {
    private struct State {
        var status: TorrentStatus
        var streams: [Int: AsyncStream<TorrentStatus>.Continuation] = [:]
        var waiters: [Int: CheckedContinuation<Void, Error>] = [:]
        var nextID = 0
        var finished = false
    }

    let infoHash: InfoHash
    private let state: LockedBox<State>

    init(infoHash: InfoHash, status: TorrentStatus) {
        self.infoHash = infoHash
        state = LockedBox(State(status: status))
    }

    var status: TorrentStatus { state.withLockedValue { $0.status } }

    /// The torrent was stopped (its streams are finished).
    var isFinished: Bool { state.withLockedValue { $0.finished } }

    /// Stores and streams a new status; resolves waiters on completion or failure.
    func publish(_ status: TorrentStatus) {
        state.withLockedValue { s in
            s.status = status
            for continuation in s.streams.values { continuation.yield(status) }
            if status.isComplete || status.failure != nil { resolveWaiters(&s) }
        }
    }

    /// Ends streams and fails waiters: the torrent was stopped.
    func finish() {
        let streams = state.withLockedValue { s in
            s.finished = true
            resolveWaiters(&s)
            defer { s.streams = [:] }
            return Array(s.streams.values)
        }
        // Outside the lock: finishing runs `onTermination`, which takes the lock.
        for continuation in streams { continuation.finish() }
    }

    private func resolveWaiters(_ s: inout State) {
        for waiter in s.waiters.values { waiter.resume(with: outcome(s)) }
        s.waiters = [:]
    }

    private func outcome(_ s: State) -> Result<Void, Error> {
        if s.status.isComplete { return .success(()) }
        if let failure = s.status.failure { return .failure(TorrentError.failed(infoHash, failure)) }
        return .failure(TorrentError.stopped(infoHash))
    }

    func makeStream() -> AsyncStream<TorrentStatus> {
        let (stream, continuation) = AsyncStream.makeStream(of: TorrentStatus.self, bufferingPolicy: .bufferingNewest(8))
        state.withLockedValue { s in
            continuation.yield(s.status)
            if s.finished {
                continuation.finish()
                return
            }
            let id = s.nextID
            s.nextID += 1
            s.streams[id] = continuation
            continuation.onTermination = { [weak self] _ in
                self?.state.withLockedValue { _ = $0.streams.removeValue(forKey: id) }
            }
        }
        return stream
    }

    func waitUntilComplete() async throws {
        let id = state.withLockedValue { s in
            defer { s.nextID += 1 }
            return s.nextID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, Error>) in
                state.withLockedValue { s in
                    if s.finished || s.status.isComplete || s.status.failure != nil || Task.isCancelled {
                        continuation.resume(with: Task.isCancelled && !s.status.isComplete ? .failure(CancellationError()) : outcome(s))
                    } else {
                        s.waiters[id] = continuation
                    }
                }
            }
        } onCancel: {
            state.withLockedValue { s in
                s.waiters.removeValue(forKey: id)?.resume(throwing: CancellationError())
            }
        }
    }
}
