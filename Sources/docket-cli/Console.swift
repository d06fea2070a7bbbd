import DocketKit
import Foundation

/// Writes to stdout/stderr without buffering surprises; safe from any thread.
enum Console {
    private static let lock = NSLock()

    static let isTerminal = isatty(STDOUT_FILENO) == 1

    static func out(_ text: String) {
        lock.lock()
        defer { lock.unlock() }
        FileHandle.standardOutput.write(Data(text.utf8))
    }

    static func line(_ text: String) { out(text + "\n") }

    static func error(_ text: String) {
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }

    /// `message` as the one line a failing command prints.
    static func describe(_ error: Error) -> String {
        switch error {
        case let error as DocketError: error.description
        case let error as CustomStringConvertible: error.description
        default: "\(error)"
        }
    }
}
