import Foundation
import Testing
@testable import DocketKit

@Suite struct ImagePullerTests {
    let layerA = Data(repeating: 0xA1, count: 4096)
    let layerB = Data(repeating: 0xB2, count: 8192)
    let small = Data("a tiny layer".utf8)

    /// Collects events from any task.
    final class Recorder: Sendable {
        private let box = LockedBox<[PullEvent]>([])
        var events: [PullEvent] { box.withLockedValue { $0 } }
        func record(_ event: PullEvent) { box.withLockedValue { $0.append(event) } }

        var skipped: [Digest] {
            events.compactMap { if case .layerSkipped(let d, _) = $0 { d } else { nil } }
        }
        var started: [Digest: BlobSource] {
            Dictionary(events.compactMap { if case .layerStarted(let d, _, let s) = $0 { (d, s) } else { nil } }, uniquingKeysWith: { a, _ in a })
        }
        var notices: [String] {
            events.compactMap { if case .notice(let text) = $0 { text } else { nil } }
        }
    }

    @Test func pullsLayersOverBitTorrentAndConfigOverHTTP() async throws {
        let (image, blobs) = try FakeImage.make(layers: [layerA, layerB])
        let registry = FakeRegistry(image: image, blobs: blobs)
        let seeder = FakeTorrentSeeder(swarm: blobs)
        let store = MemoryImageStore()
        let recorder = Recorder()
        let puller = ImagePuller(registry: registry, store: store, seeder: seeder, options: PullOptions(seedTime: .zero))

        let result = try await puller.download(image.reference) { recorder.record($0) }

        for bytes in [layerA, layerB] {
            #expect(await store.data(of: Digest.sha256(of: bytes)) == bytes)
        }
        #expect(await store.contains(image.manifest.config.digest))
        #expect(try await store.manifest(for: image.reference) == image.manifestBytes)
        #expect(Set(seeder.downloads) == [Digest.sha256(of: layerA), Digest.sha256(of: layerB)])
        #expect(registry.httpDownloads == [image.manifest.config.digest])
        #expect(result.summary.layerCount == 2)
        #expect(result.summary.bytesFromPeers == Int64(layerA.count + layerB.count))
        #expect(result.summary.bytesFromRegistry == image.manifest.config.size)
        #expect(result.summary.manifestDigest == image.manifestDigest)
        #expect(recorder.started[Digest.sha256(of: layerA)] == .peerToPeer)
        #expect(result.seeding.count == 2)
        #expect(seeder.liveTransfers == 2)
        await result.seeding.seed(for: .zero)
        #expect(seeder.liveTransfers == 0)
    }

    @Test func skipsLayersAlreadyStored() async throws {
        let (image, blobs) = try FakeImage.make(layers: [layerA, layerB])
        let registry = FakeRegistry(image: image, blobs: blobs)
        let seeder = FakeTorrentSeeder(swarm: blobs)
        let store = MemoryImageStore()
        let digestA = Digest.sha256(of: layerA)
        let write = try await store.beginWrite(digestA)
        try layerA.write(to: URL(fileURLWithPath: write.path))
        try await store.commit(write)
        let recorder = Recorder()

        let result = try await ImagePuller(registry: registry, store: store, seeder: seeder, options: PullOptions(seedTime: .seconds(60)))
            .download(image.reference) { recorder.record($0) }

        #expect(recorder.skipped == [digestA])
        #expect(seeder.downloads == [Digest.sha256(of: layerB)])
        #expect(!registry.httpDownloads.contains(digestA))
        #expect(result.summary.bytesAlreadyStored == Int64(layerA.count))
        // The stored layer is seeded to others too.
        #expect(seeder.seeds == [digestA])
        await result.seeding.stop()
        #expect(seeder.liveTransfers == 0)
    }

    /// A stored layer whose file was changed or cut short is not reused: the pull says so and
    /// downloads it again, and the new copy replaces the damaged one.
    @Test(arguments: ["changed", "truncated"])
    func damagedStoredLayerIsDownloadedAgain(_ damage: String) async throws {
        let (image, blobs) = try FakeImage.make(layers: [layerA])
        let registry = FakeRegistry(image: image, blobs: blobs)
        let root = NSTemporaryDirectory() + "docket-damaged-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: root) }
        let store = FileImageStore(root: root)
        let options = PullOptions(peerToPeer: false, seedTime: .zero)
        _ = try await ImagePuller(registry: registry, store: store, seeder: nil, options: options).download(image.reference)
        let digestA = Digest.sha256(of: layerA)
        let stored = store.blobPath(digestA)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: stored))
        if damage == "changed" {
            try handle.seek(toOffset: 100)
            try handle.write(contentsOf: Data("XXXX".utf8))
        } else {
            try handle.truncate(atOffset: 1000)
        }
        try handle.close()
        let recorder = Recorder()

        let result = try await ImagePuller(registry: registry, store: store, seeder: nil, options: options)
            .download(image.reference) { recorder.record($0) }

        #expect(recorder.notices.contains { $0.contains("stored blob \(digestA.hex.prefix(12))") && $0.contains("is damaged") })
        #expect(registry.httpDownloads.filter { $0 == digestA }.count == 2)
        #expect(result.summary.bytesAlreadyStored == Int64(Data(#"{"architecture":"amd64"}"#.utf8).count))
        #expect(try Data(contentsOf: URL(fileURLWithPath: stored)) == layerA)
    }

    @Test func smallBlobsWithoutTorrentGoOverHTTP() async throws {
        let (image, blobs) = try FakeImage.make(layers: [layerA, small])
        let smallDigest = Digest.sha256(of: small)
        let registry = FakeRegistry(image: image, blobs: blobs, withoutTorrent: [smallDigest])
        let seeder = FakeTorrentSeeder(swarm: blobs)
        let store = MemoryImageStore()
        let recorder = Recorder()

        let result = try await ImagePuller(registry: registry, store: store, seeder: seeder, options: PullOptions(seedTime: .zero))
            .download(image.reference) { recorder.record($0) }

        #expect(await store.data(of: smallDigest) == small)
        #expect(registry.httpDownloads.contains(smallDigest))
        #expect(!seeder.downloads.contains(smallDigest))
        #expect(recorder.started[smallDigest] == .http)
        #expect(recorder.notices.isEmpty)
        #expect(result.summary.bytesFromRegistry == Int64(small.count) + image.manifest.config.size)
        await result.seeding.stop()
    }

    @Test func noPeerToPeerFetchesEverythingOverHTTP() async throws {
        let (image, blobs) = try FakeImage.make(layers: [layerA, layerB])
        let registry = FakeRegistry(image: image, blobs: blobs)
        let seeder = FakeTorrentSeeder(swarm: blobs)
        let store = MemoryImageStore()

        let result = try await ImagePuller(registry: registry, store: store, seeder: seeder,
                                           options: PullOptions(peerToPeer: false, seedTime: .zero)).download(image.reference)

        #expect(seeder.downloads.isEmpty)
        #expect(registry.torrentRequests.isEmpty)
        #expect(Set(registry.httpDownloads) == Set(blobs.keys))
        #expect(result.summary.bytesFromPeers == 0)
        #expect(result.seeding.count == 0)
        #expect(await store.blobDigests == Set(blobs.keys))
    }

    @Test func digestMismatchFailsThePullAndStoresNothing() async throws {
        let (image, blobs) = try FakeImage.make(layers: [layerB])
        let digestB = Digest.sha256(of: layerB)
        var tampered = blobs
        tampered[digestB] = Data(repeating: 0x00, count: layerB.count)
        let registry = FakeRegistry(image: image, blobs: blobs)
        let seeder = FakeTorrentSeeder(swarm: tampered)
        let store = MemoryImageStore()

        let error = await #expect(throws: DocketError.self) {
            _ = try await ImagePuller(registry: registry, store: store, seeder: seeder, options: PullOptions(seedTime: .zero))
                .download(image.reference)
        }
        guard case .digestMismatch(let expected, _)? = error else {
            Issue.record("expected digestMismatch, got \(String(describing: error))")
            return
        }
        #expect(expected == digestB)
        #expect(await store.contains(digestB) == false)
        #expect(try await store.manifest(for: image.reference) == nil)
        #expect(seeder.liveTransfers == 0)
        #expect(Self.files(under: store.scratchDirectory).isEmpty)
    }

    /// Starts `puller` and cancels it once a layer's torrent download has started (whether or not
    /// the layer task already waits in `waitUntilComplete`).
    static func cancelOnceATorrentStarts(_ puller: ImagePuller, _ reference: ImageReference) async -> Result<ImagePuller.Result, Error> {
        let (started, startedContinuation) = AsyncStream.makeStream(of: Void.self)
        let pull = Task {
            try await puller.download(reference) { event in
                if case .layerStarted(_, _, .peerToPeer) = event { startedContinuation.yield() }
            }
        }
        for await _ in started { break }
        pull.cancel()
        return await pull.result
    }

    /// Regular files below `directory`, relative to it.
    static func files(under directory: String) -> [String] {
        let enumerator = FileManager.default.enumerator(atPath: directory)
        var found: [String] = []
        while let entry = enumerator?.nextObject() as? String {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: directory + "/" + entry, isDirectory: &isDirectory), !isDirectory.boolValue {
                found.append(entry)
            }
        }
        return found.sorted()
    }

    @Test func failedTorrentFallsBackToHTTPWithANotice() async throws {
        let (image, blobs) = try FakeImage.make(layers: [layerA])
        let digestA = Digest.sha256(of: layerA)
        let registry = FakeRegistry(image: image, blobs: blobs)
        let seeder = FakeTorrentSeeder(swarm: blobs, failing: [digestA])
        let store = MemoryImageStore()
        let recorder = Recorder()

        _ = try await ImagePuller(registry: registry, store: store, seeder: seeder, options: PullOptions(seedTime: .zero))
            .download(image.reference) { recorder.record($0) }

        #expect(await store.data(of: digestA) == layerA)
        #expect(registry.httpDownloads.contains(digestA))
        #expect(recorder.notices.count == 1)
        #expect(recorder.notices.first?.contains("fetching it over HTTP") == true)
        // The torrent's partial download went once the layer was stored over HTTP.
        #expect(Self.files(under: store.scratchDirectory).isEmpty)
    }

    @Test func cancellingMidDownloadStopsCleanlyAndStoresNothing() async throws {
        let (image, blobs) = try FakeImage.make(layers: [layerA])
        let digestA = Digest.sha256(of: layerA)
        let seeder = FakeTorrentSeeder(swarm: blobs, hanging: true)
        let store = MemoryImageStore()
        let puller = ImagePuller(registry: FakeRegistry(image: image, blobs: blobs), store: store, seeder: seeder,
                                 options: PullOptions(seedTime: .zero))
        let outcome = await Self.cancelOnceATorrentStarts(puller, image.reference)
        #expect(throws: CancellationError.self) { try outcome.get() }
        #expect(await store.contains(digestA) == false)
        #expect(try await store.manifest(for: image.reference) == nil)
        #expect(seeder.liveTransfers == 0)
        // Only the layer's partial download (and its lock file) stays, for the next pull to resume.
        #expect(Self.files(under: store.scratchDirectory) == ["partial/\(digestA.hex)", "partial/\(digestA.hex).lock"])
    }

    @Test func unknownImageIsImageNotFound() async throws {
        let (image, blobs) = try FakeImage.make(layers: [layerA])
        let puller = ImagePuller(registry: FakeRegistry(image: image, blobs: blobs), store: MemoryImageStore(), seeder: nil)
        await #expect(throws: DocketError.self) { _ = try await puller.download(ImageReference(parsing: "other/app:1.0")) }
    }

    @Test func streamEndsAfterSeedingWithSummary() async throws {
        let (image, blobs) = try FakeImage.make(layers: [layerA, layerB])
        let seeder = FakeTorrentSeeder(swarm: blobs)
        let puller = ImagePuller(registry: FakeRegistry(image: image, blobs: blobs), store: MemoryImageStore(), seeder: seeder,
                                 options: PullOptions(seedTime: .zero))
        var summaries: [PullSummary] = []
        var seedingEvents = 0
        for try await event in puller.pull(image.reference) {
            if case .pulled(let summary) = event { summaries.append(summary) }
            if case .seeding = event { seedingEvents += 1 }
            if case .seedingStopped = event { seedingEvents += 1 }
        }
        #expect(summaries.count == 1)
        #expect(summaries.first?.layerCount == 2)
        // Zero seed time: the transfers stop at once, without seeding events.
        #expect(seedingEvents == 0)
        #expect(seeder.liveTransfers == 0)
    }

    @Test func summaryLineReadsLikeTheCLI() throws {
        let digest = Digest.sha256(of: Data("m".utf8))
        let summary = PullSummary(reference: "team/app:1.0", manifestDigest: digest, layerCount: 3, totalBytes: 104_900_000,
                                  bytesFromRegistry: 31_000_000, bytesFromPeers: 73_900_000, bytesAlreadyStored: 0, seconds: 4.2)
        #expect(summary.line == "pulled team/app:1.0 (\(digest)) 3 layers, 104.9 MB in 4.2 s: 31.0 MB from registry, 73.9 MB from peers")
    }
}
