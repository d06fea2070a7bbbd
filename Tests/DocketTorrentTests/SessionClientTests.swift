@testable import DocketTorrent
import Foundation
import Testing

@Suite struct SessionClientTests {
    private func smallTorrent(_ dir: String, announce: String? = nil) throws -> (String, Metainfo) {
        let source = dir + "/source.bin"
        try SessionTestSupport.writeRandomFile(source, size: 300_000, seed: 3)
        return (source, try Metainfo.create(fileAt: source, name: "source.bin", pieceLength: 64 << 10, isPrivate: false, announce: announce, urlList: []))
    }

    @Test func stopBeforeCompletionFailsWaitersAndEndsEvents() async throws {
        let dir = try SessionTestSupport.temporaryDirectory("client-stop")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (_, metainfo) = try smallTorrent(dir)
        let client = try TorrentClient(configuration: .testing)
        defer { client.shutdown() }
        let handle = try client.add(metainfo, path: dir + "/out.bin", seeding: false)
        #expect(throws: TorrentError.alreadyAdded(metainfo.infoHash)) { try client.add(metainfo, path: dir + "/other.bin", seeding: false) }
        let events = handle.events
        handle.stop()
        await #expect(throws: TorrentError.stopped(metainfo.infoHash)) {
            try await SessionTestSupport.withTimeout(10, "waiter after stop") { try await handle.waitUntilComplete() }
        }
        var seen: [TorrentStatus] = []
        try await SessionTestSupport.withTimeout(10, "events to end") {
            var collected: [TorrentStatus] = []
            for await status in events { collected.append(status) }
            return collected
        }.forEach { seen.append($0) }
        #expect(seen.first?.totalBytes == 300_000)
        #expect(seen.allSatisfy { !$0.isComplete })
        // Stopped torrents may be added again.
        let again = try client.add(metainfo, path: dir + "/out.bin", seeding: false)
        #expect(again.status().verifiedBytes == 0)
        // A late stop of the old handle leaves the torrent added again running.
        handle.stop()
        #expect(await again.inspect { $0 != nil } == true)
        #expect(!again.shared.isFinished)
        // stopAndWait returns with the torrent gone from the engine: it can be added again at once.
        await again.stopAndWait()
        #expect(await again.inspect { $0 == nil } == true)
        _ = try client.add(metainfo, path: dir + "/out.bin", seeding: false)
    }

    @Test func seedingRequiresTheWholeFile() throws {
        let dir = try SessionTestSupport.temporaryDirectory("client-short")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (_, metainfo) = try smallTorrent(dir)
        try Data(count: 1000).write(to: URL(fileURLWithPath: dir + "/short.bin"))
        let client = try TorrentClient(configuration: .testing)
        defer { client.shutdown() }
        #expect(throws: TorrentError.self) { try client.add(metainfo, path: dir + "/short.bin", seeding: true) }
        #expect(throws: TorrentError.self) { try client.add(metainfo, path: dir + "/missing/x.bin", seeding: true) }
    }

    /// A dead tracker is reported in the status while the download goes on with known peers.
    @Test func unreachableTrackerIsReportedAndDownloadContinues() async throws {
        let dir = try SessionTestSupport.temporaryDirectory("client-tracker")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let deadPort = try InteropTracker.freePort()
        let (source, metainfo) = try smallTorrent(dir, announce: "http://127.0.0.1:\(deadPort)/announce")
        let seed = try TorrentClient(configuration: .testing)
        defer { seed.shutdown() }
        _ = try seed.add(metainfo, path: source, seeding: true)
        let client = try TorrentClient(configuration: .testing)
        defer { client.shutdown() }
        let handle = try client.add(metainfo, path: dir + "/out.bin", seeding: false)
        var reported: String?
        for await status in handle.events where status.trackerError != nil {
            reported = status.trackerError
            break
        }
        #expect(reported?.contains("127.0.0.1:\(deadPort)") == true)
        handle.addPeers([SessionTestSupport.loopback(seed)])
        try await SessionTestSupport.withTimeout(30, "download without tracker") { try await handle.waitUntilComplete() }
        #expect(SessionTestSupport.filesEqual(source, dir + "/out.bin"))
        #expect(handle.status().trackerError != nil)
    }

    /// A finished download renamed by its owner (into a content store) keeps seeding from its open file.
    @Test func seedingContinuesAfterTheFinishedFileIsRenamed() async throws {
        let dir = try SessionTestSupport.temporaryDirectory("client-rename")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (source, metainfo) = try smallTorrent(dir)
        let origin = try TorrentClient(configuration: .testing)
        defer { origin.shutdown() }
        let originHandle = try origin.add(metainfo, path: source, seeding: true)
        let first = try TorrentClient(configuration: .testing)
        defer { first.shutdown() }
        let firstHandle = try first.add(metainfo, path: dir + "/partial.bin", seeding: false)
        firstHandle.addPeers([SessionTestSupport.loopback(origin)])
        try await SessionTestSupport.withTimeout(30, "first download") { try await firstHandle.waitUntilComplete() }
        try FileManager.default.moveItem(atPath: dir + "/partial.bin", toPath: dir + "/store-blob")
        originHandle.stop()

        let second = try TorrentClient(configuration: .testing)
        defer { second.shutdown() }
        let secondHandle = try second.add(metainfo, path: dir + "/second.bin", seeding: false)
        secondHandle.addPeers([SessionTestSupport.loopback(first)])
        try await SessionTestSupport.withTimeout(30, "download from the renamed seed") { try await secondHandle.waitUntilComplete() }
        #expect(SessionTestSupport.filesEqual(source, dir + "/second.bin"))
        #expect(SessionTestSupport.filesEqual(source, dir + "/store-blob"))
        // Status snapshots refresh every 250 ms: wait for the one that counts the upload.
        let uploaded = try await SessionTestSupport.withTimeout(10, "upload count") {
            for await status in firstHandle.events where status.bytesUploaded >= 300_000 { return status.bytesUploaded }
            return firstHandle.status().bytesUploaded
        }
        #expect(uploaded >= 300_000)
    }
}
