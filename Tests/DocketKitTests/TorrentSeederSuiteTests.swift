import DocketTorrent
import Foundation
import Testing
@testable import DocketKit

/// The one suite every `TorrentSeeder` backend passes (the contract is documented on the protocol).
/// Real processes: ctorrent (/usr/bin/ctorrent) and Debian's opentracker in whitelist mode, on
/// loopback; each ctorrent transfer takes a 127.x.y.z address of its own because ctorrent drops
/// peers that share its IP.
@Suite(.serialized)
struct TorrentSeederSuiteTests {
    typealias Backend = TorrentSeederConfiguration.Backend

    @Test(arguments: Backend.allCases)
    func seedingACompleteFileReportsCompleteProgress(_ backend: Backend) async throws {
        let payload = try SeederPayload("seed-\(backend)", size: 300_000)
        defer { payload.remove() }
        let original = try Data(contentsOf: URL(fileURLWithPath: payload.path))
        let seeder = try backend.makeSeeder(directory: payload.directory)
        let transfer = try await seeder.seed(torrent: payload.torrent, from: payload.path)
        try await SeederTestSupport.within(.seconds(30), "\(backend) seed reaching complete") { try await transfer.waitUntilComplete() }
        let progress = await transfer.currentProgress()
        #expect(progress.isComplete)
        #expect(progress.totalBytes == 300_000)
        #expect(progress.verifiedBytes == 300_000)
        await seeder.shutdown()
        // The file is untouched and the backend's scratch files are gone.
        #expect(try Data(contentsOf: URL(fileURLWithPath: payload.path)) == original)
        #expect(try FileManager.default.contentsOfDirectory(atPath: payload.directory) == ["blob"])
    }

    /// A leecher of one backend downloads from a seeder of another (or the same) through opentracker:
    /// byte-identical, progress rising to the total, bytes counted as from peers.
    @Test(arguments: Backend.allCases, Backend.allCases)
    func downloadFromARealSeederThroughATracker(leecherBackend: Backend, seederBackend: Backend) async throws {
        let bare = try SeederPayload("swarm-\(seederBackend)-to-\(leecherBackend)", size: 6 << 20, announce: nil)
        defer { bare.remove() }
        let tracker = try SeederTestTracker(directory: bare.directory, whitelist: [bare.metainfo.infoHash])
        defer { tracker.stop() }
        try await tracker.waitUntilAnswering()
        let payload = bare.announcing(to: tracker.announceURL)

        let seeder = try seederBackend.makeSeeder(directory: payload.directory)
        let seed = try await seeder.seed(torrent: payload.torrent, from: payload.path)
        try await SeederTestSupport.within(.seconds(30), "\(seederBackend) seed ready") { try await seed.waitUntilComplete() }
        // A ctorrent leecher started while a ctorrent seeder was listed only by its first announce
        // (sent before its hash check, as incomplete) sometimes never connected (1 run in 4, "0/0/2"
        // for 30 s); after the seeder's second announce (complete, ~15 s later) it did in every run.
        #expect(await tracker.waitForPeer(payload.metainfo.infoHash, completeOnly: leecherBackend == .ctorrent),
                "the \(seederBackend) seeder never announced itself")

        let leecher = try leecherBackend.makeSeeder(directory: payload.directory)
        let target = payload.directory + "/download"
        _ = FileManager.default.createFile(atPath: target, contents: nil)   // as an ImageStore hands it out
        let download = try await leecher.download(torrent: payload.torrent, to: target)
        let seen = SeederTestSupport.collect(download.progress)
        do {
            try await SeederTestSupport.within(.seconds(90), "\(leecherBackend) download from \(seederBackend)") {
                try await download.waitUntilComplete()
            }
        } catch {
            await leecher.shutdown()
            await seeder.shutdown()
            throw error
        }
        let final = await download.currentProgress()
        #expect(final.isComplete)
        #expect(final.totalBytes == Int64(payload.size))
        #expect(final.verifiedBytes == Int64(payload.size))
        #expect(final.bytesFromPeers > 0, "a byte from the seeder counts as from peers: \(final)")
        #expect(FileManager.default.contentsEqual(atPath: target, andPath: payload.path))

        await leecher.shutdown()
        await seeder.shutdown()
        let values = try await SeederTestSupport.within(.seconds(10), "the progress stream finishing") { await seen.value }
        let verified = values.map(\.verifiedBytes)
        #expect(zip(verified, verified.dropFirst()).allSatisfy { $0 <= $1 }, "progress went down: \(verified)")
        #expect(verified.last == Int64(payload.size), "progress ended at \(verified.last ?? -1), not the total")
        #expect((verified.first ?? 0) < Int64(payload.size), "progress never showed the download under way: \(verified)")
    }

    @Test(arguments: Backend.allCases)
    func seedingAMissingOrShortFileFailsNamingThePath(_ backend: Backend) async throws {
        let payload = try SeederPayload("bad-seed-\(backend)", size: 200_000)
        defer { payload.remove() }
        let seeder = try backend.makeSeeder(directory: payload.directory)
        let missing = payload.directory + "/no-such-blob"
        let missingError = await #expect(throws: DocketError.self) { _ = try await seeder.seed(torrent: payload.torrent, from: missing) }
        #expect("\(missingError.map { "\($0)" } ?? "")".contains(missing))

        let short = payload.directory + "/short-blob"
        try Data(repeating: 7, count: 1000).write(to: URL(fileURLWithPath: short))
        let shortError = await #expect(throws: DocketError.self) { _ = try await seeder.seed(torrent: payload.torrent, from: short) }
        #expect("\(shortError.map { "\($0)" } ?? "")".contains(short))
        #expect(try Data(contentsOf: URL(fileURLWithPath: short)).count == 1000, "the short file was changed")
        #expect(!FileManager.default.fileExists(atPath: missing), "seeding a missing file created it")
        await seeder.shutdown()
    }

    /// Shutdown ends a running seed and an unfinished download: waits throw, streams finish, no
    /// ctorrent is left, and the seeder refuses new work.
    @Test(arguments: Backend.allCases)
    func shutdownEndsEveryTransferAndLeavesNoProcess(_ backend: Backend) async throws {
        let payload = try SeederPayload("shutdown-\(backend)", size: 500_000)
        defer { payload.remove() }
        let other = try SeederPayload("shutdown-other-\(backend)", size: 300_000)
        defer { other.remove() }
        let seeder = try backend.makeSeeder(directory: payload.directory)
        let seed = try await seeder.seed(torrent: payload.torrent, from: payload.path)
        let target = payload.directory + "/download"
        _ = FileManager.default.createFile(atPath: target, contents: nil)
        let download = try await seeder.download(torrent: other.torrent, to: target)
        let streams = [SeederTestSupport.collect(seed.progress), SeederTestSupport.collect(download.progress)]
        let watchers = [seed, download].compactMap { ($0 as? CTorrentTransfer)?.pid }
        var pids: [Int32] = []
        for watcher in watchers { pids += try await SeederTestSupport.ctorrents(under: watcher) }
        if backend == .ctorrent {
            #expect(pids.count == 2, "expected one ctorrent under each of the watchers \(watchers), found \(pids)")
        }
        let waiting = Task { try await download.waitUntilComplete() }

        let started = ContinuousClock.now
        await seeder.shutdown()
        let took = ContinuousClock.now - started
        #expect(took < .milliseconds(2500), "shutdown took \(took): a transfer ignored SIGTERM or the tracker's 'stopped'")

        let outcome = try await SeederTestSupport.within(.seconds(10), "\(backend) download wait after shutdown") { await waiting.result }
        #expect(throws: (any Error).self) { try outcome.get() }
        for stream in streams {
            _ = try await SeederTestSupport.within(.seconds(10), "\(backend) progress stream after shutdown") { await stream.value }
        }
        #expect(await download.currentProgress().isComplete == false)
        for pid in pids { #expect(!SeederTestSupport.isLiveDescendant(pid, of: getpid(), named: "ctorrent"), "ctorrent \(pid) outlived shutdown") }
        for pid in watchers { #expect(ProcessEntry(pid) == nil, "watcher \(pid) was not reaped") }
        #expect(SeederTestSupport.ctorrentProcesses(mentioning: payload.directory).isEmpty)
        await #expect(throws: DocketError.self) { _ = try await seeder.seed(torrent: payload.torrent, from: payload.path) }
        #expect(SeederTestSupport.ctorrentProcesses(mentioning: payload.directory).isEmpty)
    }

    /// With no peer at all (the tracker knows none), a download fails after the stall timeout with
    /// zero progress instead of waiting forever.
    @Test(arguments: Backend.allCases)
    func downloadWithoutPeersFailsAfterTheStallTimeout(_ backend: Backend) async throws {
        let bare = try SeederPayload("lonely-\(backend)", size: 400_000, announce: nil)
        defer { bare.remove() }
        let tracker = try SeederTestTracker(directory: bare.directory, whitelist: [bare.metainfo.infoHash])
        defer { tracker.stop() }
        try await tracker.waitUntilAnswering()
        let payload = bare.announcing(to: tracker.announceURL)
        let seeder = try backend.makeSeeder(directory: payload.directory, stallTimeout: .seconds(2))
        let target = payload.directory + "/download"
        _ = FileManager.default.createFile(atPath: target, contents: nil)
        let download = try await seeder.download(torrent: payload.torrent, to: target)
        let started = ContinuousClock.now
        let outcome = try await SeederTestSupport.within(.seconds(20), "\(backend) download without peers") {
            await Task { try await download.waitUntilComplete() }.result
        }
        let waited = ContinuousClock.now - started
        let error = #expect(throws: DocketError.self) { try outcome.get() }
        #expect("\(error.map { "\($0)" } ?? "")".contains("received nothing"))
        #expect(waited >= .seconds(2), "gave up after \(waited), before the stall timeout")
        let progress = await download.currentProgress()
        #expect(progress.verifiedBytes == 0)
        #expect(!progress.isComplete)
        await seeder.shutdown()
        #expect(SeederTestSupport.ctorrentProcesses(mentioning: payload.directory).isEmpty)
    }

    @Test func backendIsChosenByConfiguration() async throws {
        #expect(try TorrentSeederConfiguration(backend: .docket, bindAddress: "127.0.0.1").makeSeeder() is DocketTorrentSeeder)
        #expect(try TorrentSeederConfiguration(backend: .ctorrent).makeSeeder() is CTorrentSeeder)
        #expect(try TorrentSeederConfiguration().makeSeeder() is DocketTorrentSeeder, "docket is the default")
        #expect(throws: DocketError.self) { try TorrentSeederConfiguration(backend: .ctorrent, uploadRateLimit: 1000).makeSeeder() }
        #expect(throws: DocketError.self) {
            try TorrentSeederConfiguration(backend: .ctorrent, ctorrentExecutable: "/nonexistent/ctorrent").makeSeeder()
        }
        let ctorrent = try #require(try TorrentSeederConfiguration(backend: .ctorrent, port: 7100, stallTimeout: .seconds(5)).makeSeeder()
                                    as? CTorrentSeeder)
        #expect(ctorrent.configuration.port == 7100)
        #expect(ctorrent.configuration.stallTimeout == .seconds(5))
        let docket = try #require(try TorrentSeederConfiguration(bindAddress: "127.0.0.1", uploadRateLimit: 5000).makeSeeder()
                                  as? DocketTorrentSeeder)
        #expect(docket.client.configuration.uploadRateLimit == 5000)
        #expect(docket.client.configuration.bindAddress == "127.0.0.1")
        await docket.shutdown()
    }
}
