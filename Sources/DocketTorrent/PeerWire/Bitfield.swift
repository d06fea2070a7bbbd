/// Which pieces a peer has, as sent in the `bitfield` message (high bit of byte 0 is piece 0).
public struct Bitfield: Hashable, Sendable {
    /// Number of pieces.
    public let count: Int
    /// The wire bytes; spare bits at the end are always zero.
    public private(set) var bytes: [UInt8]
    /// How many bits are set.
    public private(set) var setCount: Int = 0

    /// All pieces missing (or all present when `allSet`).
    public init(count: Int, allSet: Bool = false) {
        self.count = count
        self.bytes = [UInt8](repeating: 0, count: (count + 7) / 8)
        if allSet { for index in 0..<count { insert(index) } }
    }

    /// Reads a received bitfield: the byte length must be exact; set spare bits are cleared.
    public init?(wire: [UInt8], count: Int) {
        guard wire.count == (count + 7) / 8 else { return nil }
        var wire = wire
        if count % 8 != 0 { wire[wire.count - 1] &= ~(0xff >> UInt8(count % 8)) }
        self.count = count
        self.bytes = wire
        self.setCount = wire.reduce(0) { $0 + $1.nonzeroBitCount }
    }

    public var isComplete: Bool { setCount == count }

    public func contains(_ index: Int) -> Bool {
        guard index >= 0 && index < count else { return false }
        return bytes[index >> 3] & (0x80 >> UInt8(index & 7)) != 0
    }

    /// Sets a bit; returns false if it was already set.
    @discardableResult
    public mutating func insert(_ index: Int) -> Bool {
        precondition(index >= 0 && index < count, "piece \(index) out of range 0..<\(count)")
        let mask: UInt8 = 0x80 >> UInt8(index & 7)
        if bytes[index >> 3] & mask != 0 { return false }
        bytes[index >> 3] |= mask
        setCount += 1
        return true
    }
}
