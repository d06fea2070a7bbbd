@testable import DocketTorrent
import Testing

@Suite struct BencodeTests {
    private func decode(_ text: String, limits: Bencode.Limits = .default) throws -> BencodeValue {
        try Bencode.decode(Array(text.utf8), limits: limits)
    }

    private func error(_ text: String, limits: Bencode.Limits = .default) -> BencodeError? {
        do {
            _ = try decode(text, limits: limits)
            return nil
        } catch {
            return error as? BencodeError
        }
    }

    @Test func decodesEveryKind() throws {
        let value = try decode("d3:bar4:spam3:fooi42e4:listli-7e0:ee")
        #expect(value == ["bar": "spam", "foo": 42, "list": [-7, ""]])
        #expect(value["foo"]?.integer == 42)
        #expect(value["bar"]?.string == "spam")
        #expect(value["list"]?.list?.count == 2)
        #expect(value["missing"] == nil)
    }

    @Test func integerExtremes() throws {
        #expect(try decode("i0e") == 0)
        #expect(try decode("i9223372036854775807e") == .integer(.max))
        #expect(try decode("i-9223372036854775808e") == .integer(.min))
        #expect(error("i9223372036854775808e") == BencodeError(.integerOverflow, at: 0))
        #expect(error("i-9223372036854775809e") == BencodeError(.integerOverflow, at: 0))
        #expect(error("i99999999999999999999999e")?.reason == .integerOverflow)
    }

    @Test func rejectsNonCanonicalIntegers() {
        #expect(error("i03e") == BencodeError(.leadingZero, at: 0))
        #expect(error("i-03e") == BencodeError(.leadingZero, at: 0))
        #expect(error("i-0e") == BencodeError(.negativeZero, at: 0))
        #expect(error("ie") == BencodeError(.emptyInteger, at: 0))
        #expect(error("i-e") == BencodeError(.emptyInteger, at: 0))
        #expect(error("i1.5e") == BencodeError(.unexpectedByte(UInt8(ascii: ".")), at: 2))
        #expect(error("i+1e") == BencodeError(.unexpectedByte(UInt8(ascii: "+")), at: 1))
        #expect(error("li12") == BencodeError(.unexpectedEnd, at: 4))
    }

    @Test func rejectsBadStringLengths() {
        #expect(error("03:abc") == BencodeError(.leadingZero, at: 0))
        #expect(error("-3:abc") == BencodeError(.negativeLength, at: 0))
        #expect(error("l-1:ae") == BencodeError(.negativeLength, at: 1))
        #expect(error("3abc") == BencodeError(.unexpectedByte(UInt8(ascii: "a")), at: 1))
        #expect(error("5:abc") == BencodeError(.lengthExceedsInput(declared: 5, remaining: 3), at: 0))
        #expect(error("3:") == BencodeError(.lengthExceedsInput(declared: 3, remaining: 0), at: 0))
        #expect(error("12") == BencodeError(.unexpectedEnd, at: 2))
        #expect(error("99999999999999999999:x")?.reason == .integerOverflow)
        #expect(try! decode("0:") == .bytes([]))
    }

    @Test func rejectsSizeBombBeforeAllocating() {
        // Nine quintillion bytes declared, three present: must fail on the length, not on allocation.
        #expect(error("9000000000000000000:abc") == BencodeError(.lengthExceedsInput(declared: 9_000_000_000_000_000_000, remaining: 3), at: 0))
        #expect(error("l4294967296:xe")?.reason == .lengthExceedsInput(declared: 4_294_967_296, remaining: 2))
    }

    @Test func rejectsTruncationAndTrailingBytes() {
        #expect(error("") == BencodeError(.unexpectedEnd, at: 0))
        #expect(error("l") == BencodeError(.unexpectedEnd, at: 1))
        #expect(error("d3:foo") == BencodeError(.unexpectedEnd, at: 6))
        #expect(error("i1ei2e") == BencodeError(.trailingBytes(count: 3), at: 3))
        #expect(error("lee") == BencodeError(.trailingBytes(count: 1), at: 2))
        #expect(error("x") == BencodeError(.unexpectedByte(UInt8(ascii: "x")), at: 0))
    }

    @Test func dictionaryKeys() throws {
        #expect(error("di1ei2ee") == BencodeError(.nonStringKey, at: 1))
        #expect(error("dli1ee1:ae") == BencodeError(.nonStringKey, at: 1))
        #expect(error("d1:ai1e1:ai2ee") == BencodeError(.duplicateKey(Array("a".utf8)), at: 7))
        #expect(error("d1:bi1e1:ai2e1:bi3ee") == BencodeError(.duplicateKey(Array("b".utf8)), at: 13))
        // Unsorted keys: accepted by default, rejected when asked.
        #expect(try decode("d1:bi1e1:ai2ee") == ["a": 2, "b": 1])
        let strict = Bencode.Limits(allowsUnsortedKeys: false)
        #expect(error("d1:bi1e1:ai2ee", limits: strict) == BencodeError(.unsortedKey(Array("a".utf8)), at: 7))
        #expect(try decode("d1:ai1e2:aai2e1:bi3ee", limits: strict) == ["a": 1, "aa": 2, "b": 3])
    }

    @Test func depthLimit() throws {
        let ok = String(repeating: "l", count: 64) + String(repeating: "e", count: 64)
        #expect(throws: Never.self) { try decode(ok) }
        let bomb = String(repeating: "l", count: 65) + String(repeating: "e", count: 65)
        #expect(error(bomb) == BencodeError(.tooDeep(limit: 64), at: 64))
        // A deep bomb far beyond the stack must be refused quickly, not crash.
        #expect(error(String(repeating: "l", count: 1_000_000))?.reason == .tooDeep(limit: 64))
        #expect(error("d1:ad1:ad1:ad1:aleeee", limits: .init(maxDepth: 3))?.reason == .tooDeep(limit: 3))
    }

    @Test func sizeAndItemLimits() {
        #expect(error("4:spam", limits: .init(maxBytes: 5)) == BencodeError(.tooLarge(limit: 5), at: 0))
        #expect(error("li1ei2ei3ee", limits: .init(maxItems: 3)) == BencodeError(.tooManyItems(limit: 3), at: 7))
    }

    @Test func encodesCanonically() {
        let value: BencodeValue = ["zeta": 1, "alpha": ["x", -12, 0], "Beta": [:]]
        #expect(String(decoding: Bencode.encode(value), as: UTF8.self) == "d4:Betade5:alphal1:xi-12ei0ee4:zetai1ee")
        #expect(Bencode.encode(.integer(.min)) == Array("i-9223372036854775808e".utf8))
        // Keys sort bytewise, not by Unicode-aware string comparison.
        let bytewise: BencodeValue = .dictionary([[0xff]: 1, [0x61]: 2, [0x61, 0x00]: 3])
        #expect(Bencode.encode(bytewise) == Array("d1:ai2e2:a".utf8) + [0, 0x69, 0x33, 0x65, 0x31, 0x3a, 0xff] + Array("i1ee".utf8))
    }

    @Test func roundTrips() throws {
        let values: [BencodeValue] = [
            0, -1, .integer(.max), "", .bytes([0, 0xff, 0x3a, 0x65]), [], [:],
            ["announce": "http://t/a", "info": ["length": 5_000_000_000, "pieces": .bytes(Array(repeating: 7, count: 40))]],
            [[[["deep"]]], ["d": ["e": []]]],
        ]
        for value in values {
            #expect(try Bencode.decode(Bencode.encode(value)) == value)
        }
    }

    @Test func recordsTopLevelSpans() throws {
        let text = "d1:ai1e4:infod1:xi2e1:bi1ee1:zl1:yee"
        let (_, spans) = try Bencode.decodeRecordingSpans(Array(text.utf8))
        let info = try #require(spans[Array("info".utf8)])
        #expect(String(decoding: Array(text.utf8)[info], as: UTF8.self) == "d1:xi2e1:bi1ee")
        #expect(spans[Array("z".utf8)] == 30..<35)
        #expect(spans[Array("x".utf8)] == nil)
    }

    @Test func errorsNameTheOffset() {
        #expect(error("l5:abce")?.description == "invalid bencode at byte 1: string length 5 exceeds the 4 bytes left")
    }

    @Test func fuzzedInputNeverCrashes() {
        // Deterministic mutations of a valid document: every outcome is a value or a BencodeError.
        let seed = Bencode.encode(["a": [1, "xyz", ["k": -5]], "b": .bytes([0, 1, 2])])
        var state: UInt64 = 0x9e37_79b9_7f4a_7c15
        for _ in 0..<5000 {
            var bytes = seed
            for _ in 0..<3 {
                state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                let position = Int(state >> 33) % bytes.count
                bytes[position] = UInt8(truncatingIfNeeded: state >> 17)
            }
            do {
                let value = try Bencode.decode(bytes)
                #expect(try Bencode.decode(Bencode.encode(value)) == value)
            } catch {
                #expect(error is BencodeError)
            }
        }
    }
}
