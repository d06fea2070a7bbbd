import DocketCore
@testable import DocketTorrent
import Testing

@Suite struct MetainfoTests {
    private static let hash20 = BencodeValue.bytes(Array(repeating: 0xAB, count: 20))

    private func pieces(_ count: Int) -> BencodeValue { .bytes(Array(repeating: 0x11, count: 20 * count)) }

    private func torrent(info: BencodeValue, extra: [String: BencodeValue] = [:]) -> [UInt8] {
        guard case .dictionary(var entries) = BencodeValue(dictionaryLiteral: ("info", info)) else { return [] }
        for (key, value) in extra { entries[Array(key.utf8)] = value }
        return Bencode.encode(.dictionary(entries))
    }

    private func parseError(_ bytes: [UInt8]) -> MetainfoError? {
        do {
            _ = try Metainfo.parse(bytes)
            return nil
        } catch {
            return error as? MetainfoError
        }
    }

    @Test func parsesSingleFile() throws {
        let info: BencodeValue = ["name": "blob", "length": 40_000, "piece length": 16384, "pieces": pieces(3)]
        let meta = try Metainfo.parse(torrent(info: info, extra: ["announce": "http://r/announce"]))
        #expect(meta.name == "blob")
        #expect(!meta.isMultiFile)
        #expect(meta.files == [Metainfo.FileEntry(path: ["blob"], length: 40_000)])
        #expect(meta.totalLength == 40_000)
        #expect(meta.pieceCount == 3)
        #expect(meta.pieceSize(0) == 16384)
        #expect(meta.pieceSize(2) == 40_000 - 2 * 16384)
        #expect(meta.rawInfo == Bencode.encode(info))
        #expect(meta.infoHash.bytes == Hasher.sha1(Bencode.encode(info)))
        #expect(meta.announce == "http://r/announce")
        #expect(!meta.isPrivate)
    }

    @Test func lastPieceIsFullWhenLengthDivides() throws {
        let meta = try Metainfo.parse(torrent(info: ["name": "a", "length": 32768, "piece length": 16384, "pieces": pieces(2)]))
        #expect(meta.pieceSize(1) == 16384)
    }

    @Test func lengthsAboveFourGiB() throws {
        let length: Int64 = 5_000_000_000
        let pieceLength: Int64 = 4 << 20
        let count = Int((length + pieceLength - 1) / pieceLength)
        #expect(count == 1193)
        let meta = try Metainfo.parse(torrent(info: ["name": "big", "length": .integer(length), "piece length": .integer(pieceLength), "pieces": pieces(count)]))
        #expect(meta.totalLength == 5_000_000_000)
        #expect(meta.pieceSize(1192) == 389_632)
        #expect(meta.pieceSize(0) == 4 << 20)
    }

    @Test func parsesMultiFile() throws {
        let info: BencodeValue = [
            "name": "dir", "piece length": 32768, "pieces": pieces(2),
            "files": [["length": 30000, "path": ["a", "b.txt"]], ["length": 0, "path": ["c"]], ["length": 5000, "path": ["d"]]],
        ]
        let meta = try Metainfo.parse(torrent(info: info))
        #expect(meta.isMultiFile)
        #expect(meta.files.map(\.path) == [["a", "b.txt"], ["c"], ["d"]])
        #expect(meta.totalLength == 35000)
        #expect(meta.pieceSize(1) == 35000 - 32768)
    }

    @Test func infoHashIsOverRawBytesEvenWhenNotCanonical() throws {
        // Keys out of order inside info: the hash must be over these bytes, not a re-encoding.
        let rawInfo = Array("d6:lengthi5e4:name1:x12:piece lengthi16384e6:pieces20:".utf8) + Array(repeating: 0xAB, count: 20) + Array("e".utf8)
        let file = Array("d8:announce3:url4:info".utf8) + rawInfo + Array("e".utf8)
        let unsorted = Array("d4:name1:x6:lengthi5e12:piece lengthi16384e6:pieces20:".utf8) + Array(repeating: 0xAB, count: 20) + Array("e".utf8)
        let unsortedFile = Array("d4:info".utf8) + unsorted + Array("e".utf8)
        let sorted = try Metainfo.parse(file)
        let meta = try Metainfo.parse(unsortedFile)
        #expect(sorted.rawInfo == rawInfo)
        #expect(meta.rawInfo == unsorted)
        #expect(meta.infoHash.bytes == Hasher.sha1(unsorted))
        #expect(meta.infoHash != sorted.infoHash)
        // And encoding keeps them as received.
        #expect(try Metainfo.parse(meta.encoded()).infoHash == meta.infoHash)
    }

    @Test func rejectsBadPieces() {
        let base: [String: BencodeValue] = ["name": "a", "length": 40_000, "piece length": 16384]
        func info(_ pieces: BencodeValue) -> BencodeValue {
            var entries = base
            entries["pieces"] = pieces
            return .dictionary(Dictionary(uniqueKeysWithValues: entries.map { (Array($0.key.utf8), $0.value) }))
        }
        #expect(parseError(torrent(info: info(.bytes(Array(repeating: 1, count: 59))))) ==
            .invalidValue(field: "info.pieces", reason: "has 59 bytes; 40000 bytes in pieces of 16384 need 3 hashes of 20 bytes"))
        if case .invalidValue(let field, _)? = parseError(torrent(info: info(pieces(2)))) { #expect(field == "info.pieces") } else { Issue.record("2 hashes for 3 pieces accepted") }
        if case .invalidValue(let field, _)? = parseError(torrent(info: info(pieces(4)))) { #expect(field == "info.pieces") } else { Issue.record("4 hashes for 3 pieces accepted") }
        #expect(parseError(torrent(info: info(1))) == .wrongType(field: "info.pieces", expected: "a byte string"))
    }

    @Test(arguments: ["", ".", "..", "a/b", "/etc", "a\u{0}b", "a\\b"])
    func rejectsUnsafePathElements(_ element: String) {
        let multi: BencodeValue = ["name": "dir", "piece length": 16384, "pieces": pieces(1), "files": [["length": 1, "path": ["ok", .bytes(Array(element.utf8))]]]]
        if case .invalidValue(let field, _)? = parseError(torrent(info: multi)) { #expect(field == "info.files[0].path") } else { Issue.record("path element '\(element)' accepted") }
        let single: BencodeValue = ["name": .bytes(Array(element.utf8)), "piece length": 16384, "pieces": pieces(1), "length": 1]
        if case .invalidValue(let field, _)? = parseError(torrent(info: single)) { #expect(field == "info.name") } else { Issue.record("name '\(element)' accepted") }
    }

    @Test func rejectsStructuralProblems() {
        #expect(parseError(Array("i1e".utf8)) == .wrongType(field: "(top level)", expected: "a dictionary"))
        #expect(parseError(Array("d8:announce1:xe".utf8)) == .missingField("info"))
        #expect(parseError(Array("d4:infoi1ee".utf8)) == .wrongType(field: "info", expected: "a dictionary"))
        if case .malformed(let error)? = parseError(Array("d4:info".utf8)) { #expect(error.offset == 7) } else { Issue.record("truncated file accepted") }
        #expect(parseError(torrent(info: ["name": "a", "piece length": 16384, "pieces": pieces(1)])) ==
            .invalidValue(field: "info", reason: "must have exactly one of 'length' (one file) or 'files' (several)"))
        #expect(parseError(torrent(info: ["name": "a", "length": 1, "files": [], "piece length": 16384, "pieces": pieces(1)]))?.description.contains("exactly one") == true)
        #expect(parseError(torrent(info: ["name": "a", "length": -1, "piece length": 16384, "pieces": pieces(0)])) == .invalidValue(field: "info.length", reason: "is negative: -1"))
        #expect(parseError(torrent(info: ["name": "a", "length": 1, "piece length": 0, "pieces": pieces(1)]))?.description.contains("piece length") == true)
        #expect(parseError(torrent(info: ["length": 1, "piece length": 16384, "pieces": pieces(1)])) == .missingField("info.name"))
        #expect(parseError(torrent(info: ["name": "d", "files": [["length": 1, "path": []]], "piece length": 16384, "pieces": pieces(1)])) ==
            .invalidValue(field: "info.files[0].path", reason: "is empty"))
        let overflow: BencodeValue = ["name": "d", "piece length": 16384, "pieces": pieces(1),
                                      "files": [["length": .integer(.max), "path": ["a"]], ["length": 1, "path": ["b"]]]]
        #expect(parseError(torrent(info: overflow)) == .invalidValue(field: "info.files", reason: "total length overflows 64 bits"))
    }

    @Test func parsesTrackersWebSeedsAndPrivate() throws {
        let info: BencodeValue = ["name": "a", "length": 1, "piece length": 16384, "pieces": pieces(1), "private": 1]
        let meta = try Metainfo.parse(torrent(info: info, extra: [
            "announce-list": [["http://a/1", "http://a/2"], [], ["udp://b"]],
            "url-list": "http://seed/blob",
        ]))
        #expect(meta.isPrivate)
        #expect(meta.announce == nil)
        #expect(meta.announceList == [["http://a/1", "http://a/2"], ["udp://b"]])
        #expect(meta.urlList == ["http://seed/blob"])
        let listed = try Metainfo.parse(torrent(info: info, extra: ["url-list": ["http://s1/", "", "http://s2/"]]))
        #expect(listed.urlList == ["http://s1/", "http://s2/"])
        #expect(parseError(torrent(info: info, extra: ["url-list": 5])) == .wrongType(field: "url-list", expected: "a string or a list of strings"))
        #expect(parseError(torrent(info: info, extra: ["announce-list": ["x"]])) == .wrongType(field: "announce-list", expected: "a list of lists of strings"))
    }

    @Test func encodedRoundTripsAndWithKeepsInfoHash() throws {
        let info: BencodeValue = ["name": "a", "length": 70000, "piece length": 32768, "pieces": pieces(3)]
        let meta = try Metainfo.parse(torrent(info: info, extra: ["announce": "http://x/announce", "comment": "dropped"]))
        let again = try Metainfo.parse(meta.encoded())
        #expect(again == meta)
        #expect(meta.encoded() == Bencode.encode(["announce": "http://x/announce", "info": info]))
        let moved = meta.with(announce: "http://y/announce", announceList: [["http://y/announce"]], urlList: ["http://y/blob"])
        let reparsed = try Metainfo.parse(moved.encoded())
        #expect(reparsed.infoHash == meta.infoHash)
        #expect(reparsed.rawInfo == meta.rawInfo)
        #expect(reparsed.announce == "http://y/announce")
        #expect(reparsed.announceList == [["http://y/announce"]])
        #expect(reparsed.urlList == ["http://y/blob"])
    }

    @Test func pieceLengthRule() {
        #expect(Metainfo.pieceLength(forTotalSize: 0) == 64 << 10)
        #expect(Metainfo.pieceLength(forTotalSize: 10 << 20) == 64 << 10)
        #expect(Metainfo.pieceLength(forTotalSize: 100 << 20) == 64 << 10)
        #expect(Metainfo.pieceLength(forTotalSize: 200 << 20) == 128 << 10)
        #expect(Metainfo.pieceLength(forTotalSize: 600 << 20) == 512 << 10)
        #expect(Metainfo.pieceLength(forTotalSize: 1 << 30) == 1 << 20)
        #expect(Metainfo.pieceLength(forTotalSize: (1 << 30) + 1) == 1 << 20)
        #expect(Metainfo.pieceLength(forTotalSize: 4 << 30) == 4 << 20)
        #expect(Metainfo.pieceLength(forTotalSize: 1 << 40) == 16 << 20)
        for size: Int64 in [300 << 20, 1 << 30, 3 << 30, 20 << 30] {
            let length = Int64(Metainfo.pieceLength(forTotalSize: size))
            #expect(length & (length - 1) == 0)
            let count = (size + length - 1) / length
            #expect(count > 1000 && count <= 2000, "size \(size) gives \(count) pieces")
        }
    }
}
