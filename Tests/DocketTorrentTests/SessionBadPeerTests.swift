@testable import DocketTorrent
import Foundation
import Testing

@Suite struct SessionBadPeerTests {
    /// A peer serving corrupt data (a seed of altered bytes) next to an honest seed: its pieces
    /// fail the SHA-1 check, it is dropped, and the download still ends byte-identical.
    @Test func corruptPeerCannotSpoilTheDownload() async throws {
        let dir = try SessionTestSupport.temporaryDirectory("badpeer")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let source = dir + "/source.bin"
        let size = 2 << 20
        try SessionTestSupport.writeRandomFile(source, size: size, seed: 5)
        var corrupt = try Data(contentsOf: URL(fileURLWithPath: source))
        for index in stride(from: 0, to: corrupt.count, by: 4096) { corrupt[index] ^= 0xff }
        try corrupt.write(to: URL(fileURLWithPath: dir + "/corrupt.bin"))
        let metainfo = try Metainfo.create(fileAt: source, name: "source.bin", pieceLength: 64 << 10, isPrivate: false, announce: nil, urlList: [])

        var honestConfiguration = TorrentClient.Configuration.testing
        honestConfiguration.uploadRateLimit = 1 << 20
        let honest = try TorrentClient(configuration: honestConfiguration)
        defer { honest.shutdown() }
        _ = try honest.add(metainfo, path: source, seeding: true)
        let liar = try TorrentClient(configuration: .testing)
        defer { liar.shutdown() }
        let liarHandle = try liar.add(metainfo, path: dir + "/corrupt.bin", seeding: true)

        let leecher = try TorrentClient(configuration: .testing)
        defer { leecher.shutdown() }
        let handle = try leecher.add(metainfo, path: dir + "/download.bin", seeding: false)
        handle.addPeers([SessionTestSupport.loopback(honest), SessionTestSupport.loopback(liar)])
        try await SessionTestSupport.withTimeout(60, "download next to a corrupt peer") { try await handle.waitUntilComplete() }

        #expect(SessionTestSupport.filesEqual(source, dir + "/download.bin"))
        #expect(handle.status().verifiedBytes == Int64(size))
        #expect(liarHandle.status().bytesUploaded > 0, "the corrupt peer was never asked for data")
    }
}
