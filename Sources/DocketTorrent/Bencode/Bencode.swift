/// Strict bencode (BEP 3) decoding and canonical encoding.
///
/// The decoder rejects every non-canonical form of a number (`i03e`, `i-0e`, `ie`, `i-e`,
/// `03:abc`), truncated input, trailing bytes, non-string and duplicate dictionary keys, and
/// inputs that would nest, allocate or count beyond `Limits`. Dictionary keys out of order
/// are accepted by default (real torrents contain them) unless `Limits.allowsUnsortedKeys`
/// is false; hashes over received data (the info-hash) must therefore always be taken over
/// the raw bytes, never over a re-encoding.
public enum Bencode {
    /// Bounds that keep hostile input from exhausting the stack or memory.
    public struct Limits: Sendable, Equatable {
        /// Deepest nesting of lists and dictionaries; the top-level container is depth 1.
        public var maxDepth: Int
        /// Largest accepted input, in bytes.
        public var maxBytes: Int
        /// Most values (of any kind, nested ones included) in one input.
        public var maxItems: Int
        /// Whether dictionary keys may appear out of bytewise order (duplicates are always rejected).
        public var allowsUnsortedKeys: Bool

        /// Makes limits; the defaults suit metainfo files and tracker responses.
        public init(maxDepth: Int = 64, maxBytes: Int = 64 << 20, maxItems: Int = 1 << 20, allowsUnsortedKeys: Bool = true) {
            self.maxDepth = maxDepth
            self.maxBytes = maxBytes
            self.maxItems = maxItems
            self.allowsUnsortedKeys = allowsUnsortedKeys
        }

        /// Depth 64, 64 MiB, about a million values, unsorted keys accepted.
        public static let `default` = Limits()
    }

    /// Decodes exactly one value that spans the whole input.
    /// - Throws: `BencodeError` naming the reason and byte offset.
    public static func decode(_ bytes: [UInt8], limits: Limits = .default) throws -> BencodeValue {
        try decodeRecordingSpans(bytes, limits: limits).value
    }

    /// Decodes like `decode`, and also returns the byte range of each value of the top-level
    /// dictionary, by key, so that callers can hash a value exactly as it was received.
    static func decodeRecordingSpans(_ bytes: [UInt8], limits: Limits = .default) throws
        -> (value: BencodeValue, spans: [[UInt8]: Range<Int>])
    {
        guard bytes.count <= limits.maxBytes else { throw BencodeError(.tooLarge(limit: limits.maxBytes), at: 0) }
        return try bytes.withUnsafeBufferPointer { buffer in
            var decoder = BencodeDecoder(input: buffer, limits: limits)
            let value = try decoder.decodeValue(depth: 0)
            guard decoder.position == buffer.count else {
                throw BencodeError(.trailingBytes(count: buffer.count - decoder.position), at: decoder.position)
            }
            return (value, decoder.topLevelSpans)
        }
    }

    /// Encodes canonically: dictionary keys sorted bytewise, integers without leading zeros.
    public static func encode(_ value: BencodeValue) -> [UInt8] {
        var out: [UInt8] = []
        encode(value, into: &out)
        return out
    }

    /// Appends the canonical encoding of `value` to `out`.
    static func encode(_ value: BencodeValue, into out: inout [UInt8]) {
        switch value {
        case .integer(let number):
            out.append(UInt8(ascii: "i"))
            out.append(contentsOf: String(number).utf8)
            out.append(UInt8(ascii: "e"))
        case .bytes(let bytes):
            appendString(bytes, into: &out)
        case .list(let elements):
            out.append(UInt8(ascii: "l"))
            for element in elements { encode(element, into: &out) }
            out.append(UInt8(ascii: "e"))
        case .dictionary(let entries):
            encodeDictionary(entries, rawValues: [:], into: &out)
        }
    }

    /// Appends a dictionary whose entries come from `entries` and, already encoded, from
    /// `rawValues` (copied unchanged); all keys are written in bytewise order.
    static func encodeDictionary(_ entries: [[UInt8]: BencodeValue], rawValues: [[UInt8]: [UInt8]], into out: inout [UInt8]) {
        out.append(UInt8(ascii: "d"))
        let keys = Set(entries.keys).union(rawValues.keys).sorted { $0.lexicographicallyPrecedes($1) }
        for key in keys {
            appendString(key, into: &out)
            if let raw = rawValues[key] {
                out.append(contentsOf: raw)
            } else if let value = entries[key] {
                encode(value, into: &out)
            }
        }
        out.append(UInt8(ascii: "e"))
    }

    private static func appendString(_ bytes: [UInt8], into out: inout [UInt8]) {
        out.append(contentsOf: String(bytes.count).utf8)
        out.append(UInt8(ascii: ":"))
        out.append(contentsOf: bytes)
    }
}
