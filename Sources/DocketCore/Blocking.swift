import Foundation

/// Runs blocking work (syscalls, libcurl, big file reads) on a thread of its own, never on
/// Swift's cooperative pool, and hands the result back to the awaiting task.
public enum Blocking {
    public static func run<T: Sendable>(name: String = "docket.blocking", _ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            let thread = Thread {
                continuation.resume(with: Result { try body() })
            }
            thread.name = name
            thread.stackSize = 1 << 20
            thread.start()
        }
    }

    /// `run` for work that can stop early: cancelling the awaiting task raises the flag that `body`
    /// polls (`HTTPClient.perform` does), so a long transfer ends soon after an interrupt.
    public static func runCancellable<T: Sendable>(name: String = "docket.blocking",
                                                   _ body: @escaping @Sendable (CancellationFlag) throws -> T) async throws -> T {
        let flag = CancellationFlag()
        return try await withTaskCancellationHandler {
            try await run(name: name) { try body(flag) }
        } onCancel: {
            flag.cancel()
        }
    }
}

/// Raised once, from any thread, when the task waiting for blocking work is cancelled.
public final class CancellationFlag: Sendable {
    private let raised = LockedBox(false)

    public init() {}

    public var isCancelled: Bool { raised.withLockedValue { $0 } }

    public func cancel() { raised.withLockedValue { $0 = true } }
}
