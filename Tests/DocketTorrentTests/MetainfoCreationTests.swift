import DocketCore
@testable import DocketTorrent
import Foundation
import Testing

@Suite struct MetainfoCreationTests {
    private func withFile<T>(_ bytes: [UInt8], _ body: (String) throws -> T) throws -> T {
        let path = NSTemporaryDirectory() + "/metainfo-create-\(UUID().uuidString)"
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        return try body(path)
    }

    private func content(_ count: Int) -> [UInt8] {
        (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 9) }
    }

    @Test func hashesEveryPieceIncludingAShortLastOne() throws {
        let bytes = content(3 * 65536 + 123)
        let meta = try withFile(bytes) { try Metainfo.create(fileAt: $0, name: "blob", pieceLength: 65536, isPrivate: false, announce: nil, urlList: []) }
        #expect(meta.pieceCount == 4)
        #expect(meta.pieceSize(3) == 123)
        for index in 0..<4 {
            let slice = Array(bytes[(index * 65536)..<min((index + 1) * 65536, bytes.count)])
            #expect(meta.pieceHashes[index] == Hasher.sha1(slice))
        }
        #expect(meta.totalLength == Int64(bytes.count))
    }

    @Test func piecesLargerThanOneReadAreHashedWhole() throws {
        let pieceLength = 4 * PieceHasher.readSize
        let bytes = content(pieceLength + PieceHasher.readSize + 5)
        let meta = try withFile(bytes) { try Metainfo.create(fileAt: $0, name: "big", pieceLength: pieceLength, isPrivate: false, announce: nil, urlList: []) }
        #expect(meta.pieceHashes == [Hasher.sha1(Array(bytes[..<pieceLength])), Hasher.sha1(Array(bytes[pieceLength...]))])
    }

    @Test func infoDictionaryIsExactlyTheDeterministicOne() throws {
        let bytes = content(100_000)
        let meta = try withFile(bytes) {
            try Metainfo.create(fileAt: $0, name: "sha", pieceLength: 32768, isPrivate: true, announce: "http://r/announce", urlList: ["http://r/blob"])
        }
        let expected: BencodeValue = [
            "length": 100_000, "name": "sha", "piece length": 32768,
            "pieces": .bytes(meta.pieceHashes.flatMap { $0 }), "private": 1,
        ]
        #expect(meta.rawInfo == Bencode.encode(expected))
        #expect(meta.infoHash == InfoHash(hashingInfo: Bencode.encode(expected)))
        let parsed = try Metainfo.parse(meta.encoded())
        #expect(parsed == meta)
        #expect(parsed.isPrivate)
        #expect(parsed.urlList == ["http://r/blob"])
    }

    @Test func threadCountDoesNotChangeTheResult() throws {
        let bytes = content(1_000_000)
        let hashes = try withFile(bytes) { path in
            try [1, 2, 3, 7, 100].map {
                try Metainfo.create(fileAt: path, name: "x", pieceLength: 16384, isPrivate: false, announce: nil, urlList: [], threads: $0).infoHash
            }
        }
        #expect(Set(hashes).count == 1)
    }

    @Test func defaultPieceLengthFollowsTheRule() throws {
        let meta = try withFile(content(300_000)) { try Metainfo.create(fileAt: $0, name: "x", isPrivate: false, announce: nil, urlList: []) }
        #expect(meta.pieceLength == 64 << 10)
        #expect(meta.pieceCount == 5)
    }

    @Test func emptyFileHasNoPieces() throws {
        let meta = try withFile([]) { try Metainfo.create(fileAt: $0, name: "empty", isPrivate: false, announce: nil, urlList: []) }
        #expect(meta.pieceCount == 0)
        #expect(try Metainfo.parse(meta.encoded()).totalLength == 0)
    }

    @Test func reportsBadInput() throws {
        #expect(throws: MetainfoError.io(path: "/nonexistent/file", operation: "open", errno: ENOENT)) {
            try Metainfo.create(fileAt: "/nonexistent/file", name: "x", isPrivate: false, announce: nil, urlList: [])
        }
        try withFile([1, 2, 3]) { path in
            #expect(throws: MetainfoError.invalidValue(field: "info.piece length", reason: "must be a power of two from 16 KiB to 1 GiB, got 20000")) {
                try Metainfo.create(fileAt: path, name: "x", pieceLength: 20000, isPrivate: false, announce: nil, urlList: [])
            }
            #expect(throws: MetainfoError.self) {
                try Metainfo.create(fileAt: path, name: "../x", isPrivate: false, announce: nil, urlList: [])
            }
        }
    }
}
