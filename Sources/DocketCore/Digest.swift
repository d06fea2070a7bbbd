import Foundation

/// A content digest such as `sha256:4f2a…`. Docket stores and verifies sha256 only.
public struct Digest: Hashable, Sendable, Codable, CustomStringConvertible, Comparable {
    public let algorithm: String
    /// Lowercase hex of the hash.
    public let hex: String

    public enum ParseError: Error, CustomStringConvertible, Equatable {
        case invalid(String)
        public var description: String {
            switch self {
            case .invalid(let s): "invalid digest '\(s)': expected sha256:<64 lowercase hex digits>"
            }
        }
    }

    public init(parsing string: String) throws {
        let parts = string.split(separator: ":", maxSplits: 1)
        guard parts.count == 2, parts[0] == "sha256", parts[1].utf8.count == 64,
              parts[1].utf8.allSatisfy({ (0x30...0x39).contains($0) || (0x61...0x66).contains($0) })
        else { throw ParseError.invalid(string) }
        algorithm = "sha256"
        hex = String(parts[1])
    }

    public init(sha256Bytes bytes: [UInt8]) {
        precondition(bytes.count == 32)
        algorithm = "sha256"
        hex = Hex.encode(bytes)
    }

    public static func sha256(of bytes: some ContiguousBytes) -> Digest {
        Digest(sha256Bytes: Hasher.sha256(bytes))
    }

    /// Hashes a file in 1 MiB reads; call it off the cooperative pool for large files.
    public static func sha256(ofFileAt path: String) throws -> Digest {
        let handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
        defer { try? handle.close() }
        var hasher = Hasher(.sha256)
        while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty {
            hasher.update(chunk)
        }
        return Digest(sha256Bytes: hasher.finalize())
    }

    public var description: String { "\(algorithm):\(hex)" }

    public static func < (lhs: Digest, rhs: Digest) -> Bool { lhs.description < rhs.description }

    public init(from decoder: Decoder) throws {
        try self.init(parsing: try decoder.singleValueContainer().decode(String.self))
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
