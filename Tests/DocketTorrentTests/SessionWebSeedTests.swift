@testable import DocketTorrent
import Foundation
import Testing

@Suite(.serialized) struct SessionWebSeedTests {
    /// A random file served by the Range server, its torrent with the server as web seed, and a client.
    private struct Fixture {
        let dir: String
        let source: String
        let server: SessionChildProcess
        let metainfo: Metainfo

        init(_ label: String, size: Int, honourRange: Bool = true) throws {
            dir = try SessionTestSupport.temporaryDirectory(label)
            try FileManager.default.createDirectory(atPath: dir + "/www", withIntermediateDirectories: true)
            source = dir + "/www/blob.bin"
            try SessionTestSupport.writeRandomFile(source, size: size, seed: UInt64(size))
            let port: UInt16
            (server, port) = try RangeFileServer.start(root: dir + "/www", honourRange: honourRange)
            metainfo = try Metainfo.create(fileAt: source, name: "blob.bin", pieceLength: 256 << 10, isPrivate: true,
                                           announce: nil, urlList: ["http://127.0.0.1:\(port)/blob.bin"])
        }

        func cleanUp() {
            server.stop()
            try? FileManager.default.removeItem(atPath: dir)
        }
    }

    /// No peers at all: every piece comes from the BEP 19 web seed by Range requests.
    @Test func downloadsFromWebSeedAlone() async throws {
        let fixture = try Fixture("webseed", size: 1_500_000)
        defer { fixture.cleanUp() }
        let (dir, source, metainfo) = (fixture.dir, fixture.source, fixture.metainfo)
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

    /// The download limit holds for web-seed bytes too: after the web seed's 2 s grace, 1.5 MB at
    /// 500 kB/s takes about 2.75 s more (a quarter second of burst aside), not the fraction of a
    /// second the loopback server needs.
    @Test func downloadLimitCoversTheWebSeed() async throws {
        let fixture = try Fixture("webseed-limit", size: 1_500_000)
        defer { fixture.cleanUp() }
        var configuration = TorrentClient.Configuration.testing
        configuration.downloadRateLimit = 500_000
        let client = try TorrentClient(configuration: configuration)
        defer { client.shutdown() }
        let started = ContinuousClock.now
        let handle = try client.add(fixture.metainfo, path: fixture.dir + "/download.bin", seeding: false)
        try await SessionTestSupport.withTimeout(60, "limited web seed download") { try await handle.waitUntilComplete() }
        let elapsed = ContinuousClock.now - started
        #expect(SessionTestSupport.filesEqual(fixture.source, fixture.dir + "/download.bin"))
        #expect(handle.status().bytesFromWebSeed == 1_500_000)
        #expect(elapsed > .seconds(4), "1.5 MB at 500 kB/s took \(elapsed)")
    }

    /// A server that ignores Range and answers 200 gives nothing: only a 206 for the asked range counts.
    @Test func refusesWebSeedThatIgnoresRange() async throws {
        let fixture = try Fixture("webseed-norange", size: 600_000, honourRange: false)
        defer { fixture.cleanUp() }
        let (dir, server, metainfo) = (fixture.dir, fixture.server, fixture.metainfo)
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
