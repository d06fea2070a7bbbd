@testable import DocketTorrent
import DocketCore
import Foundation
import Testing

/// The disk writer's per-download state: pieces checked and written once, and the content's sha256
/// read back from the file in order.
@Suite struct WrittenContentTests {
    private static let pieceLength = 32768

    /// A 5-piece torrent (the last piece short) of a random source, and an empty download of it.
    private func makeContent() throws -> (WrittenContent, source: [UInt8], dir: String) {
        let dir = try SessionTestSupport.temporaryDirectory("written")
        let sourcePath = dir + "/source.bin"
        try SessionTestSupport.writeRandomFile(sourcePath, size: 4 * Self.pieceLength + 1000)
        let source = [UInt8](try Data(contentsOf: URL(fileURLWithPath: sourcePath)))
        let metainfo = try Metainfo.create(fileAt: sourcePath, name: "source.bin", pieceLength: Self.pieceLength,
                                           isPrivate: false, announce: nil, urlList: [])
        let storage = try PieceStorage(metainfo: metainfo, path: dir + "/out.bin", seeding: false)
        let shared = TorrentShared(infoHash: metainfo.infoHash, status: TorrentStatus(totalBytes: metainfo.totalLength))
        return (WrittenContent(metainfo: metainfo, storage: storage, shared: shared), source, dir)
    }

    private func piece(_ index: Int, of source: [UInt8]) -> [UInt8] {
        Array(source[index * Self.pieceLength..<min(source.count, (index + 1) * Self.pieceLength)])
    }

    /// Writes `pieces` of `source`, each expected to land.
    private func writeAll(_ pieces: some Sequence<Int>, of source: [UInt8], to content: WrittenContent) {
        for index in pieces {
            #expect(content.write(piece: index, data: piece(index, of: source), verified: false) == .written)
        }
    }

    private func fileBytes(_ dir: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: URL(fileURLWithPath: dir + "/out.bin")))
    }

    @Test func outOfOrderPiecesHashToTheContentOnceTheLastIsIn() throws {
        let (content, source, dir) = try makeContent()
        defer { content.storage.close(); try? FileManager.default.removeItem(atPath: dir) }
        for index in [3, 1, 4, 2] {
            #expect(content.write(piece: index, data: piece(index, of: source), verified: false) == .written)
            #expect(content.advanceHash() == .pending)  // piece 0 is still missing
        }
        #expect(content.write(piece: 0, data: piece(0, of: source), verified: false) == .written)
        #expect(content.advanceHash() == .finished(Hasher.sha256(source)))
        #expect(content.advanceHash() == .pending)  // reported once
        #expect(try fileBytes(dir) == source)
    }

    @Test func readingBackStopsAtTheBudgetAndCarriesOn() throws {
        let (content, source, dir) = try makeContent()
        defer { content.storage.close(); try? FileManager.default.removeItem(atPath: dir) }
        writeAll(0..<5, of: source, to: content)
        // Two pieces per call: 0-1, 2-3, then 4 and the digest.
        #expect(content.advanceHash(budget: 2 * Self.pieceLength) == .more)
        #expect(content.advanceHash(budget: 2 * Self.pieceLength) == .more)
        #expect(content.advanceHash(budget: 2 * Self.pieceLength) == .finished(Hasher.sha256(source)))
    }

    @Test func wrongBytesAreNeitherWrittenNorHashed() throws {
        let (content, source, dir) = try makeContent()
        defer { content.storage.close(); try? FileManager.default.removeItem(atPath: dir) }
        var bad = piece(0, of: source)
        bad[7] ^= 0xff
        #expect(content.write(piece: 0, data: bad, verified: false) == .hashMismatch)
        #expect(try fileBytes(dir).prefix(Self.pieceLength).allSatisfy { $0 == 0 })
        writeAll(0..<5, of: source, to: content)
        #expect(content.advanceHash() == .finished(Hasher.sha256(source)))
    }

    @Test func aPieceOnDiskIsNeverWrittenAgain() throws {
        let (content, source, dir) = try makeContent()
        defer { content.storage.close(); try? FileManager.default.removeItem(atPath: dir) }
        #expect(content.write(piece: 0, data: piece(0, of: source), verified: false) == .written)
        _ = content.advanceHash()
        // Even bytes the caller vouches for (a web seed's, checked elsewhere) cannot replace hashed ones.
        let other = [UInt8](repeating: 0xab, count: Self.pieceLength)
        #expect(content.write(piece: 0, data: other, verified: true) == .alreadyOnDisk)
        #expect(try fileBytes(dir).prefix(Self.pieceLength).elementsEqual(piece(0, of: source)))
    }

    @Test func adoptedPiecesAreReadBackFromTheFile() throws {
        let (content, source, dir) = try makeContent()
        defer { content.storage.close(); try? FileManager.default.removeItem(atPath: dir) }
        // An earlier run left pieces 0-2 on disk (ResumeCheck confirmed them).
        let handle = try #require(FileHandle(forWritingAtPath: dir + "/out.bin"))
        try handle.write(contentsOf: Data(source.prefix(3 * Self.pieceLength)))
        try handle.close()
        var adopted = Bitfield(count: 5)
        for index in 0..<3 { adopted.insert(index) }
        content.adopt(adopted)
        #expect(content.advanceHash() == .pending)
        writeAll(3..<5, of: source, to: content)
        #expect(content.advanceHash() == .finished(Hasher.sha256(source)))
    }

    @Test func aFileThatCannotBeReadBackGivesNoDigest() throws {
        let (content, source, dir) = try makeContent()
        defer { content.storage.close(); try? FileManager.default.removeItem(atPath: dir) }
        writeAll(0..<5, of: source, to: content)
        // Someone cuts the file short before it is read back: the read hits its end.
        #expect(truncate(dir + "/out.bin", 100) == 0)
        #expect(content.advanceHash() == .finished(nil))
    }
}
