@testable import DocketTorrent
import Foundation
import Testing

@Suite(.serialized) struct SessionWebSeedTests {
    /// No peers at all: every piece comes from the BEP 19 web seed by Range requests.
    @Test func downloadsFromWebSeedAlone() async throws {
        let dir = try SessionTestSupport.temporaryDirectory("webseed")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(atPath: dir + "/www", withIntermediateDirectories: true)
        let source = dir + "/www/blob.bin"
        try SessionTestSupport.writeRandomFile(source, size: 1_500_000, seed: 7)
        let (server, port) = try RangeFileServer.start(root: dir + "/www")
        defer { server.stop() }
        let metainfo = try Metainfo.create(fileAt: source, name: "blob.bin", pieceLength: 256 << 10, isPrivate: true,
                                           announce: nil, urlList: ["http://127.0.0.1:\(port)/blob.bin"])
        let client = try TorrentClient(configuration: .testing)
        defer { client.shutdown() }
        let handle = try client.add(metainfo, path: dir + "/download.bin", seeding: false)
        try await SessionTestSupport.withTimeout(60, "web seed download") { try await handle.waitUntilComplete() }
        #expect(SessionTestSupport.filesEqual(source, dir + "/download.bin"))
        let status = handle.status()
        #expect(status.bytesFromWebSeed == 1_500_000)
        #expect(status.bytesFromOtherPeers == 0)
        #expect(status.verifiedBytes == 1_500_000)
    }

    /// A server that ignores Range and answers 200 gives nothing: only a 206 for the asked range counts.
    @Test func refusesWebSeedThatIgnoresRange() async throws {
        let dir = try SessionTestSupport.temporaryDirectory("webseed-norange")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(atPath: dir + "/www", withIntermediateDirectories: true)
        let source = dir + "/www/blob.bin"
        try SessionTestSupport.writeRandomFile(source, size: 600_000, seed: 8)
        let (server, port) = try RangeFileServer.start(root: dir + "/www", honourRange: false)
        defer { server.stop() }
        let metainfo = try Metainfo.create(fileAt: source, name: "blob.bin", pieceLength: 256 << 10, isPrivate: true,
                                           announce: nil, urlList: ["http://127.0.0.1:\(port)/blob.bin"])
        let client = try TorrentClient(configuration: .testing)
        defer { client.shutdown() }
        let handle = try client.add(metainfo, path: dir + "/download.bin", seeding: false)
        // Wait until the server has answered three piece requests, then check nothing was accepted.
        var served = 0
        while served < 3, let line = server.readLine(timeout: 30) { served += line.components(separatedBy: "served").count - 1 }
        #expect(served >= 3)
        #expect(handle.status().verifiedBytes == 0)
        #expect(handle.status().bytesFromWebSeed == 0)
    }
}
