@testable import DocketRegistryServer
import Testing

@Suite struct ByteRangeTests {
    @Test func parsesTheThreeSingleRangeForms() {
        #expect(ByteRange(header: "bytes=0-9", size: 100) == .partial(first: 0, last: 9))
        #expect(ByteRange(header: "bytes=90-", size: 100) == .partial(first: 90, last: 99))
        #expect(ByteRange(header: "bytes=-10", size: 100) == .partial(first: 90, last: 99))
        #expect(ByteRange(header: "bytes=-500", size: 100) == .partial(first: 0, last: 99))
        #expect(ByteRange(header: "bytes=50-5000", size: 100) == .partial(first: 50, last: 99))
    }

    @Test func unsatisfiableAndIgnored() {
        #expect(ByteRange(header: "bytes=100-", size: 100) == .unsatisfiable)
        #expect(ByteRange(header: "bytes=-0", size: 100) == .unsatisfiable)
        #expect(ByteRange(header: "bytes=0-", size: 0) == .unsatisfiable)
        #expect(ByteRange(header: nil, size: 100) == .whole)
        #expect(ByteRange(header: "bytes=0-1,5-6", size: 100) == .whole)
        #expect(ByteRange(header: "items=0-1", size: 100) == .whole)
        #expect(ByteRange(header: "bytes=9-1", size: 100) == .whole)
        #expect(ByteRange(header: "bytes=x-1", size: 100) == .whole)
    }
}
