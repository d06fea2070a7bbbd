@testable import DocketTorrent
import DocketCore
import Foundation
import Testing

/// Peers that vanish mid-transfer.
@Suite(.serialized)
struct HostileSwarmTests {
    /// An aria2c seeder killed with SIGKILL while a capped leecher pulls from it, a slow Docket
    /// seeder and the web seed: the remaining peer and the web seed finish the file byte-identical.
    @Test func seederKilledMidSwarmLeavesTheOthersToFinish() async throws {
        // aria2c and opentracker again: not at the same time as the interop suites.
        await InteropGate.shared.acquire()
        defer { Task { await InteropGate.shared.release() } }
        let size = 8 << 20
        let dir = try SessionTestSupport.temporaryDirectory("hostile-kill9")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(atPath: dir + "/www", withIntermediateDirectories: true)
        let source = dir + "/www/payload.bin"
        try SessionTestSupport.writeRandomFile(source, size: size, seed: 31)
        let (server, webPort) = try RangeFileServer.start(root: dir + "/www")
        defer { server.stop() }
        let bare = try Metainfo.create(fileAt: source, name: "payload.bin", pieceLength: 256 << 10, isPrivate: true, announce: nil, urlList: [])
        let tracker = try InteropTracker.start(dir: dir, infoHashes: [bare.infoHash])
        defer { tracker.process.stop() }
        let metainfo = bare.with(announce: tracker.announceURL, announceList: [], urlList: ["http://127.0.0.1:\(webPort)/payload.bin"])
        let torrentFile = dir + "/payload.torrent"
        try Data(metainfo.with(announce: tracker.announceURL, announceList: [], urlList: []).encoded()).write(to: URL(fileURLWithPath: torrentFile))

        try FileManager.default.createDirectory(atPath: dir + "/aria", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: source, toPath: dir + "/aria/payload.bin")
        let ariaArguments = try Aria2.arguments(dir: dir + "/aria", torrent: torrentFile, seed: true)
        let ariaPort = ariaArguments.first { $0.hasPrefix("--listen-port=") }.flatMap { UInt16($0.dropFirst("--listen-port=".count)) }
        let aria = try SessionChildProcess(Aria2.path, ariaArguments)
        defer { aria.stop() }
        #expect(tracker.waitForSeeder(metainfo.infoHash), "aria2c's announce never reached the tracker")

        var slow = TorrentClient.Configuration.testing
        slow.uploadRateLimit = 128 << 10
        let docketSeeder = try TorrentClient(configuration: slow)
        defer { docketSeeder.shutdown() }
        _ = try docketSeeder.add(metainfo, path: source, seeding: true)

        var capped = TorrentClient.Configuration.testing
        capped.downloadRateLimit = 512 << 10
        let leecher = try TorrentClient(configuration: capped)
        defer { leecher.shutdown() }
        let handle = try leecher.add(metainfo, path: dir + "/download.bin", seeding: false)
        // aria2c comes from the tracker too, but naming it directly keeps the test off the tracker's timing.
        handle.addPeers([SessionTestSupport.loopback(docketSeeder)] + (ariaPort.map { [PeerAddress(host: "127.0.0.1", port: $0)] } ?? []))

        // Kill aria2c once it has delivered something and the pull is far from done.
        let deadline = Date().addingTimeInterval(120)
        while Date() < deadline, handle.status().bytesFromOtherPeers < Int64(1 << 20) || handle.status().connectedPeers < 2 {
            try await Task.sleep(nanoseconds: 100_000_000)
        }
        let before = handle.status()
        #expect(before.connectedPeers >= 2 && before.bytesFromOtherPeers > 0 && !before.isComplete, "the kill must come mid-swarm: \(before)")
        kill(aria.pid, SIGKILL)
        _ = aria.waitForExit(timeout: 5)

        try await SessionTestSupport.withTimeout(150, "finishing after the seeder died") { try await handle.waitUntilComplete() }
        #expect(SessionTestSupport.filesEqual(source, dir + "/download.bin"))
        let after = handle.status()
        #expect(after.verifiedBytes == Int64(size))
        #expect(after.bytesFromWebSeed + after.bytesFromOtherPeers >= Int64(size))
    }
}
