import Foundation

/// A small logger facade: libraries take a `Logger` from their caller and log through its handler.
public struct Logger: Sendable {
    public enum Level: Int, Sendable, Comparable, CustomStringConvertible {
        case trace, debug, info, warning, error
        public static func < (a: Level, b: Level) -> Bool { a.rawValue < b.rawValue }
        public var description: String { ["trace", "debug", "info", "warning", "error"][rawValue] }
    }

    public typealias Handler = @Sendable (Level, String, [String: String]) -> Void

    public var label: String
    public var level: Level
    private let handler: Handler

    public init(label: String, level: Level = .info, handler: @escaping Handler = Logger.standardError) {
        self.label = label
        self.level = level
        self.handler = handler
    }

    /// Discards everything; the default for library components that were given no logger.
    public static let silent = Logger(label: "silent", level: .error, handler: { _, _, _ in })

    public static let standardError: Handler = { level, message, metadata in
        let meta = metadata.isEmpty ? "" : " " + metadata.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        FileHandle.standardError.write(Data("[\(level)] \(message)\(meta)\n".utf8))
    }

    public func log(_ level: Level, _ message: @autoclosure () -> String, _ metadata: [String: String] = [:]) {
        guard level >= self.level else { return }
        handler(level, message(), metadata)
    }

    public func trace(_ m: @autoclosure () -> String, _ md: [String: String] = [:]) { log(.trace, m(), md) }
    public func debug(_ m: @autoclosure () -> String, _ md: [String: String] = [:]) { log(.debug, m(), md) }
    public func info(_ m: @autoclosure () -> String, _ md: [String: String] = [:]) { log(.info, m(), md) }
    public func warning(_ m: @autoclosure () -> String, _ md: [String: String] = [:]) { log(.warning, m(), md) }
    public func error(_ m: @autoclosure () -> String, _ md: [String: String] = [:]) { log(.error, m(), md) }
}
