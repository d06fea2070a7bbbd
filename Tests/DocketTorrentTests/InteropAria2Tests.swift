@testable import DocketTorrent
import DocketCore
import Foundation
import Testing

/// Docket against aria2c 1.36 through opentracker, both directions, byte-verified.
@Suite(.serialized)
struct InteropAria2Tests {
    let size = 6 << 20

    private func makeTorrent(_ dir: String) throws -> (source: String, metainfo: Metainfo, torrentFile: String, tracker: InteropTracker) {
        let source = dir + "/payload.bin"
        try SessionTestSupport.writeRandomFile(source, size: size, seed: 99)
        // The announce URL needs the tracker's port, and the tracker's whitelist needs the info-hash:
        // the info-hash does not depend on the announce URL, so create once without it.
        let bare = try Metainfo.create(fileAt: source, name: "payload.bin", pieceLength: 256 << 10, isPrivate: true, announce: nil, urlList: [])
        let tracker = try InteropTracker.start(dir: dir, infoHashes: [bare.infoHash])
        let metainfo = bare.with(announce: tracker.announceURL, announceList: [], urlList: [])
        let torrentFile = dir + "/payload.torrent"
        try Data(metainfo.encoded()).write(to: URL(fileURLWithPath: torrentFile))
        return (source, metainfo, torrentFile, tracker)
    }

    @Test func aria2cDownloadsFromDocket() async throws {
        let dir = try SessionTestSupport.temporaryDirectory("interop-a")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (source, metainfo, torrentFile, tracker) = try makeTorrent(dir)
        defer { tracker.process.stop() }

        var configuration = TorrentClient.Configuration.testing
        if ProcessInfo.processInfo.environment["DOCKET_TEST_DEBUG"] != nil { configuration.logger = Logger(label: "seed", level: .debug) }
        let client = try TorrentClient(configuration: configuration)
        defer { client.shutdown() }
        let seed = try client.add(metainfo, path: source, seeding: true)
        #expect(tracker.waitForSeeder(metainfo.infoHash), "Docket's started announce never reached the tracker")

        let aria = try SessionChildProcess(Aria2.path, try Aria2.arguments(dir: dir + "/aria", torrent: torrentFile, seed: false))
        defer { aria.stop() }
        let exited = aria.waitForExit(timeout: 90)
        if !exited { while let line = aria.readLine(timeout: 0.5) { print("aria2c: \(line)") } }
        #expect(exited, "aria2c did not finish within 90 s")
        if exited { #expect(aria.process.terminationStatus == 0) }
        #expect(SessionTestSupport.filesEqual(source, dir + "/aria/payload.bin"))
        #expect(seed.status().bytesUploaded >= Int64(size))
        #expect(seed.status().trackerError == nil)
    }

    @Test func docketDownloadsFromAria2c() async throws {
        let dir = try SessionTestSupport.temporaryDirectory("interop-b")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (source, metainfo, torrentFile, tracker) = try makeTorrent(dir)
        defer { tracker.process.stop() }
        try FileManager.default.createDirectory(atPath: dir + "/aria", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: source, toPath: dir + "/aria/payload.bin")

        let aria = try SessionChildProcess(Aria2.path, try Aria2.arguments(dir: dir + "/aria", torrent: torrentFile, seed: true))
        defer { aria.stop() }
        #expect(tracker.waitForSeeder(metainfo.infoHash), "aria2c's announce never reached the tracker")

        let client = try TorrentClient(configuration: .testing)
        defer { client.shutdown() }
        let handle = try client.add(metainfo, path: dir + "/docket.bin", seeding: false)
        try await SessionTestSupport.withTimeout(90, "Docket downloading from aria2c") { try await handle.waitUntilComplete() }
        #expect(SessionTestSupport.filesEqual(source, dir + "/docket.bin"))
        let status = handle.status()
        #expect(status.bytesFromOtherPeers >= Int64(size))
        #expect(status.trackerError == nil)
    }
}
