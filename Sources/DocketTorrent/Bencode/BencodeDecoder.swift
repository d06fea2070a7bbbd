/// The recursive-descent decoder behind `Bencode.decode`, reading from one buffer.
struct BencodeDecoder {
    let input: UnsafeBufferPointer<UInt8>
    let limits: Bencode.Limits
    private(set) var position = 0
    private var items = 0
    /// Byte ranges of the values of the top-level dictionary, by key.
    private(set) var topLevelSpans: [[UInt8]: Range<Int>] = [:]

    init(input: UnsafeBufferPointer<UInt8>, limits: Bencode.Limits) {
        self.input = input
        self.limits = limits
    }

    /// Decodes the value at `position`; `depth` counts the containers around it.
    mutating func decodeValue(depth: Int) throws -> BencodeValue {
        items += 1
        guard items <= limits.maxItems else { throw BencodeError(.tooManyItems(limit: limits.maxItems), at: position) }
        let byte = try peek()
        switch byte {
        case UInt8(ascii: "i"):
            return .integer(try decodeInteger())
        case UInt8(ascii: "0")...UInt8(ascii: "9"):
            return .bytes(try decodeString())
        case UInt8(ascii: "-"):
            throw BencodeError(.negativeLength, at: position)
        case UInt8(ascii: "l"), UInt8(ascii: "d"):
            guard depth < limits.maxDepth else { throw BencodeError(.tooDeep(limit: limits.maxDepth), at: position) }
            position += 1
            return byte == UInt8(ascii: "l") ? try decodeList(depth: depth + 1) : try decodeDictionary(depth: depth + 1)
        default:
            throw BencodeError(.unexpectedByte(byte), at: position)
        }
    }

    private func peek() throws -> UInt8 {
        guard position < input.count else { throw BencodeError(.unexpectedEnd, at: position) }
        return input[position]
    }

    private mutating func decodeList(depth: Int) throws -> BencodeValue {
        var elements: [BencodeValue] = []
        while try peek() != UInt8(ascii: "e") {
            elements.append(try decodeValue(depth: depth))
        }
        position += 1
        return .list(elements)
    }

    private mutating func decodeDictionary(depth: Int) throws -> BencodeValue {
        var entries: [[UInt8]: BencodeValue] = [:]
        var previous: [UInt8]?
        while try peek() != UInt8(ascii: "e") {
            let keyOffset = position
            guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(input[position]) else {
                throw BencodeError(.nonStringKey, at: keyOffset)
            }
            let key = try decodeString()
            if entries[key] != nil { throw BencodeError(.duplicateKey(key), at: keyOffset) }
            if !limits.allowsUnsortedKeys, let previous, !previous.lexicographicallyPrecedes(key) {
                throw BencodeError(.unsortedKey(key), at: keyOffset)
            }
            let valueStart = position
            entries[key] = try decodeValue(depth: depth)
            if depth == 1 { topLevelSpans[key] = valueStart..<position }
            previous = key
        }
        position += 1
        return .dictionary(entries)
    }

    /// Reads `i<digits>e` into an Int64, rejecting every non-canonical spelling.
    private mutating func decodeInteger() throws -> Int64 {
        let start = position
        position += 1
        let negative = try peek() == UInt8(ascii: "-")
        if negative { position += 1 }
        let digitsStart = position
        let negated = try readDigits(until: UInt8(ascii: "e"), numberStart: start)
        let digitCount = position - digitsStart
        guard digitCount > 0 else { throw BencodeError(.emptyInteger, at: start) }
        if input[digitsStart] == UInt8(ascii: "0") {
            if digitCount > 1 { throw BencodeError(.leadingZero, at: start) }
            if negative { throw BencodeError(.negativeZero, at: start) }
        }
        position += 1
        if negative { return negated }
        guard negated != .min else { throw BencodeError(.integerOverflow, at: start) }
        return -negated
    }

    /// Reads decimal digits up to `terminator` (left unread) and returns their value negated,
    /// so that Int64.min fits; overflow is reported at `numberStart`.
    private mutating func readDigits(until terminator: UInt8, numberStart: Int) throws -> Int64 {
        var negated: Int64 = 0
        while true {
            let byte = try peek()
            if byte == terminator { return negated }
            guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) else {
                throw BencodeError(.unexpectedByte(byte), at: position)
            }
            let (times10, overflow1) = negated.multipliedReportingOverflow(by: 10)
            let (next, overflow2) = times10.subtractingReportingOverflow(Int64(byte - UInt8(ascii: "0")))
            guard !overflow1, !overflow2 else { throw BencodeError(.integerOverflow, at: numberStart) }
            negated = next
            position += 1
        }
    }

    /// Reads `<length>:<bytes>`, checking the length against the remaining input before allocating.
    private mutating func decodeString() throws -> [UInt8] {
        let start = position
        let negated = try readDigits(until: UInt8(ascii: ":"), numberStart: start)
        guard negated != .min else { throw BencodeError(.integerOverflow, at: start) }
        let length = -negated
        if input[start] == UInt8(ascii: "0"), position - start > 1 { throw BencodeError(.leadingZero, at: start) }
        position += 1
        let remaining = input.count - position
        guard length <= Int64(remaining) else {
            throw BencodeError(.lengthExceedsInput(declared: length, remaining: remaining), at: start)
        }
        let end = position + Int(length)
        let bytes = Array(input[position..<end])
        position = end
        return bytes
    }
}
