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
}
