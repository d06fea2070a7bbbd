import DocketCore
@testable import DocketTorrent
import Foundation
import Testing

/// A download hashes its content (sha256) in piece order as pieces verify, so the blob's digest is
/// known the moment the last piece is in.
@Suite struct SessionContentHashTests {
    @Test func completedDownloadReportsTheContentSHA256() async throws {
        let dir = try SessionTestSupport.temporaryDirectory("content-hash")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let source = dir + "/source.bin"
        try SessionTestSupport.writeRandomFile(source, size: (3 << 20) + 12345, seed: 51)
        let metainfo = try Metainfo.create(fileAt: source, name: "source.bin", pieceLength: 64 << 10, isPrivate: true, announce: nil, urlList: [])
        let seed = try TorrentClient(configuration: .testing)
        defer { seed.shutdown() }
        let seedHandle = try seed.add(metainfo, path: source, seeding: true)
        let (clients, handles) = try await SessionTestSupport.leechSwarm(metainfo, seed: seed, count: 2, directory: dir, timeout: 60)
        defer { clients.forEach { $0.shutdown() } }
        let expected = Hasher.sha256(try Data(contentsOf: URL(fileURLWithPath: source)))
        for handle in handles {
            #expect(handle.status().contentSHA256 == expected)
        }
        #expect(seedHandle.status().contentSHA256 == nil, "a seed hashes nothing")
    }

    /// Pieces verified out of order are read back when the gap before them closes.
    @Test func outOfOrderPiecesAreReadBack() throws {
        let dir = try SessionTestSupport.temporaryDirectory("content-hash-order")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let source = dir + "/source.bin"
        try SessionTestSupport.writeRandomFile(source, size: 4 << 16, seed: 52)
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: source)))
        let metainfo = try Metainfo.create(fileAt: source, name: "source.bin", pieceLength: 1 << 16, isPrivate: true, announce: nil, urlList: [])
        let storage = try PieceStorage(metainfo: metainfo, path: source, seeding: true)
        defer { storage.close() }
        let torrent = Torrent(setup: TorrentSetup(metainfo: metainfo, storage: storage, shared: TorrentShared(infoHash: metainfo.infoHash, status: TorrentStatus(totalBytes: metainfo.totalLength)), seeding: false), now: 0)
        let hash = try #require(torrent.contentHash)
        for index in [2, 3, 0, 1] {
            torrent.have.insert(index)
            hash.pieceVerified(index, data: Array(bytes[index << 16 ..< (index + 1) << 16]), in: torrent)
            #expect((hash.digest != nil) == (index == 1))
        }
        #expect(hash.digest == Hasher.sha256(bytes))
    }
}
