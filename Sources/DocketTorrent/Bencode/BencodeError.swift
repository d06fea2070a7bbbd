/// Why bencoded input was rejected, and the byte offset where the problem starts.
public struct BencodeError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The closed set of reasons the decoder rejects input.
    public enum Reason: Equatable, Sendable {
        /// The input ended inside a value.
        case unexpectedEnd
        /// A byte that cannot start or continue a value here.
        case unexpectedByte(UInt8)
        /// An integer with no digits (`ie`, `i-e`).
        case emptyInteger
        /// A number with a redundant leading zero (`i03e`, `03:abc`).
        case leadingZero
        /// The integer `i-0e`, which BEP 3 forbids.
        case negativeZero
        /// An integer outside Int64.
        case integerOverflow
        /// A string length with a minus sign.
        case negativeLength
        /// A string length larger than the input that is left (rejected before allocating).
        case lengthExceedsInput(declared: Int64, remaining: Int)
        /// Bytes after the end of the top-level value.
        case trailingBytes(count: Int)
        /// A dictionary key that is not a byte string.
        case nonStringKey
        /// A dictionary key that appears twice.
        case duplicateKey([UInt8])
        /// A dictionary key that sorts before the previous one (only with `Limits.allowsUnsortedKeys == false`).
        case unsortedKey([UInt8])
        /// Lists and dictionaries nested deeper than `Limits.maxDepth`.
        case tooDeep(limit: Int)
        /// Input longer than `Limits.maxBytes`.
        case tooLarge(limit: Int)
        /// More values than `Limits.maxItems`.
        case tooManyItems(limit: Int)
    }

    /// What was wrong.
    public let reason: Reason
    /// The byte offset in the input where the problem was found.
    public let offset: Int

    /// Makes an error for `reason` at `offset`.
    public init(_ reason: Reason, at offset: Int) {
        self.reason = reason
        self.offset = offset
    }

    public var description: String {
        let what: String = switch reason {
        case .unexpectedEnd: "input ends inside a value"
        case .unexpectedByte(let byte): "unexpected byte 0x\(String(byte, radix: 16))"
        case .emptyInteger: "integer has no digits"
        case .leadingZero: "number has a leading zero"
        case .negativeZero: "integer -0 is not allowed"
        case .integerOverflow: "integer does not fit in 64 bits"
        case .negativeLength: "string length is negative"
        case .lengthExceedsInput(let declared, let remaining):
            "string length \(declared) exceeds the \(remaining) bytes left"
        case .trailingBytes(let count): "\(count) bytes follow the top-level value"
        case .nonStringKey: "dictionary key is not a byte string"
        case .duplicateKey(let key): "duplicate dictionary key '\(String(decoding: key, as: UTF8.self))'"
        case .unsortedKey(let key): "dictionary key '\(String(decoding: key, as: UTF8.self))' is out of order"
        case .tooDeep(let limit): "nesting deeper than \(limit) levels"
        case .tooLarge(let limit): "input larger than \(limit) bytes"
        case .tooManyItems(let limit): "more than \(limit) values"
        }
        return "invalid bencode at byte \(offset): \(what)"
    }
}
