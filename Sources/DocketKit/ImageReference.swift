import Foundation

/// `name[:tag]` or `name@sha256:…`, as users type it (`team/app:1.0`). Tag defaults to `latest`.
public struct ImageReference: Hashable, Sendable, CustomStringConvertible {
    /// Repository name: lowercase path components `[a-z0-9]+([._-][a-z0-9]+)*` joined by `/`.
    public var name: String
    /// A tag, or a digest string (`sha256:…`).
    public var reference: String

    public enum ParseError: Error, CustomStringConvertible, Equatable {
        case invalidName(String)
        case invalidTag(String)
        public var description: String {
            switch self {
            case .invalidName(let s): "invalid image name '\(s)': use lowercase letters, digits and . _ - separated by /, e.g. team/app:1.0"
            case .invalidTag(let s): "invalid tag '\(s)': use up to 128 of [A-Za-z0-9_.-], not starting with . or -"
            }
        }
    }

    public init(name: String, reference: String = "latest") throws {
        guard Self.isValidName(name) else { throw ParseError.invalidName(name) }
        if reference.hasPrefix("sha256:") {
            _ = try Digest(parsing: reference)
        } else if !Self.isValidTag(reference) {
            throw ParseError.invalidTag(reference)
        }
        self.name = name
        self.reference = reference
    }

    /// Parses `name`, `name:tag` or `name@digest`.
    public init(parsing string: String) throws {
        let lastSlash = string.lastIndex(of: "/")
        let tail = lastSlash.map { string[string.index(after: $0)...] } ?? string[...]
        if !string.contains("@"), tail.filter({ $0 == ":" }).count > 1 {
            throw ParseError.invalidTag(String(tail.drop { $0 != ":" }.dropFirst()))
        }
        if let at = string.firstIndex(of: "@") {
            try self.init(name: String(string[..<at]), reference: String(string[string.index(after: at)...]))
            return
        }
        if let colon = string.lastIndex(of: ":"), lastSlash.map({ colon > $0 }) ?? true {
            try self.init(name: String(string[..<colon]), reference: String(string[string.index(after: colon)...]))
        } else {
            try self.init(name: string)
        }
    }

    public var isDigest: Bool { reference.hasPrefix("sha256:") }

    public var description: String { isDigest ? "\(name)@\(reference)" : "\(name):\(reference)" }

    public static func isValidName(_ name: String) -> Bool {
        guard !name.isEmpty, name.utf8.count <= 255 else { return false }
        return name.split(separator: "/", omittingEmptySubsequences: false).allSatisfy(isValidComponent)
    }

    private static func isValidComponent(_ component: Substring) -> Bool {
        let bytes = Array(component.utf8)
        guard let first = bytes.first, let last = bytes.last, isAlnum(first), isAlnum(last) else { return false }
        var previousSeparator = false
        for (i, b) in bytes.enumerated() {
            if isAlnum(b) { previousSeparator = false; continue }
            guard b == 0x2e || b == 0x5f || b == 0x2d else { return false }
            // Allowed separators: ".", "_", "__", "-" (runs of dashes).
            if previousSeparator && !(b == 0x2d && bytes[i - 1] == 0x2d) && !(b == 0x5f && bytes[i - 1] == 0x5f) { return false }
            previousSeparator = true
        }
        return true
    }

    private static func isAlnum(_ b: UInt8) -> Bool { (0x30...0x39).contains(b) || (0x61...0x7a).contains(b) }

    public static func isValidTag(_ tag: String) -> Bool {
        let bytes = Array(tag.utf8)
        guard let first = bytes.first, bytes.count <= 128, first != 0x2e, first != 0x2d else { return false }
        return bytes.allSatisfy { isAlnum($0) || (0x41...0x5a).contains($0) || $0 == 0x5f || $0 == 0x2e || $0 == 0x2d }
    }
}
