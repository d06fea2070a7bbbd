/// One bencoded value (BEP 3). Byte strings stay raw bytes: many BitTorrent strings
/// (piece hashes, compact peers, info-hashes) are not text.
public indirect enum BencodeValue: Hashable, Sendable {
    case integer(Int64)
    case bytes([UInt8])
    case list([BencodeValue])
    case dictionary([[UInt8]: BencodeValue])

    /// The value stored under a text key, when this is a dictionary holding it.
    public subscript(key: String) -> BencodeValue? {
        guard case .dictionary(let entries) = self else { return nil }
        return entries[Array(key.utf8)]
    }

    /// The integer, when this is an integer.
    public var integer: Int64? {
        if case .integer(let value) = self { value } else { nil }
    }

    /// The raw bytes, when this is a byte string.
    public var bytes: [UInt8]? {
        if case .bytes(let value) = self { value } else { nil }
    }

    /// The byte string as text, when this is a byte string holding valid UTF-8.
    public var string: String? {
        guard case .bytes(let value) = self else { return nil }
        return String(validating: value, as: UTF8.self)
    }

    /// The elements, when this is a list.
    public var list: [BencodeValue]? {
        if case .list(let value) = self { value } else { nil }
    }

    /// The entries, when this is a dictionary.
    public var dictionary: [[UInt8]: BencodeValue]? {
        if case .dictionary(let value) = self { value } else { nil }
    }
}

extension BencodeValue: ExpressibleByIntegerLiteral, ExpressibleByStringLiteral,
    ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral
{
    /// An integer value.
    public init(integerLiteral value: Int64) { self = .integer(value) }

    /// A byte string holding the UTF-8 of the literal.
    public init(stringLiteral value: String) { self = .bytes(Array(value.utf8)) }

    /// A list value.
    public init(arrayLiteral elements: BencodeValue...) { self = .list(elements) }

    /// A dictionary whose keys are the UTF-8 of the literal keys; a repeated key keeps its last value.
    public init(dictionaryLiteral elements: (String, BencodeValue)...) {
        var entries: [[UInt8]: BencodeValue] = [:]
        for (key, value) in elements { entries[Array(key.utf8)] = value }
        self = .dictionary(entries)
    }
}
