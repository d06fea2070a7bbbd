import Foundation
import Testing
@testable import DocketKit

/// Plain HTTP downloads carry on what an interrupted one left (`HTTPResume`), and never append to a
/// torrent's partial file.
@Suite struct HTTPResumeTests {
    let layer = Data((0..<20_000).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 3) })
    var digest: Digest { Digest.sha256(of: layer) }

    /// Leaves `bytes` in the store's partial file of the layer, marked as HTTP's or not, with any
    /// extra companion files.
    private func plant(_ bytes: Data, in store: MemoryImageStore, markedHTTP: Bool, companions: [String] = []) throws {
        let partial = "\(store.scratchDirectory)/partial/\(digest.hex)"
        try FileManager.default.createDirectory(atPath: store.scratchDirectory + "/partial", withIntermediateDirectories: true)
        try bytes.write(to: URL(fileURLWithPath: partial))
        for suffix in (markedHTTP ? [".docket-http"] : []) + companions {
            try Data().write(to: URL(fileURLWithPath: partial + suffix))
        }
    }

    private func pull(_ store: MemoryImageStore) async throws -> (FakeRegistry, PullSummary, ImagePullerTests.Recorder) {
        let (image, blobs) = try FakeImage.make(layers: [layer])
        let registry = FakeRegistry(image: image, blobs: blobs)
        let recorder = ImagePullerTests.Recorder()
        let result = try await ImagePuller(registry: registry, store: store, seeder: nil, options: PullOptions(peerToPeer: false, seedTime: .zero))
            .download(image.reference) { recorder.record($0) }
        return (registry, result.summary, recorder)
    }

    @Test func anInterruptedHTTPDownloadIsCarriedOn() async throws {
        let store = MemoryImageStore()
        try plant(layer.prefix(12_345), in: store, markedHTTP: true)
        let (registry, summary, recorder) = try await pull(store)
        #expect(registry.httpOffsets[digest] == [12_345])
        #expect(summary.bytesResumed == 12_345)
        #expect(summary.bytesFromRegistry == summary.totalBytes - 12_345)
        #expect(recorder.events.contains(.layerDone(digest, size: 20_000, fromRegistry: 20_000 - 12_345, fromPeers: 0, resumed: 12_345)))
        // Progress tells kept bytes from fetched ones too, as it does for a torrent download.
        #expect(recorder.events.contains(.layerProgress(digest, TransferProgress(verifiedBytes: 20_000, totalBytes: 20_000,
                                                                               bytesFromRegistry: 20_000 - 12_345, bytesResumed: 12_345))))
        #expect(await store.data(of: digest) == layer)
        #expect(ImagePullerTests.files(under: store.scratchDirectory + "/partial").isEmpty)
    }

    /// The whole blob kept (the pull ended between its last byte and its commit): nothing to fetch.
    @Test func aWholeKeptBlobIsOnlyChecked() async throws {
        let store = MemoryImageStore()
        try plant(layer, in: store, markedHTTP: true)
        let (registry, summary, _) = try await pull(store)
        #expect(registry.httpOffsets[digest] == nil)
        #expect(summary.bytesResumed == Int64(layer.count))
        #expect(await store.data(of: digest) == layer)
    }

    @Test func keptBytesThatAreNotTheBlobsStartAreFetchedAgain() async throws {
        let store = MemoryImageStore()
        try plant(Data(repeating: 0xEE, count: 5_000), in: store, markedHTTP: true)
        let (registry, summary, recorder) = try await pull(store)
        #expect(registry.httpOffsets[digest] == [5_000, 0])
        #expect(summary.bytesResumed == 0)
        #expect(recorder.notices.contains { $0.contains("did not match its digest; fetching it again") })
        #expect(await store.data(of: digest) == layer)
        #expect(ImagePullerTests.files(under: store.scratchDirectory + "/partial").isEmpty)
    }

    /// A torrent's partial holds pieces anywhere in the file: HTTP downloads beside it and, once
    /// the blob is stored, the partial goes.
    @Test func aTorrentsPartialIsNotAppendedTo() async throws {
        let store = MemoryImageStore()
        try plant(Data(repeating: 0, count: 20_000), in: store, markedHTTP: false, companions: [".docket-resume"])
        let (registry, summary, _) = try await pull(store)
        #expect(registry.httpOffsets[digest] == [0])
        #expect(summary.bytesResumed == 0)
        #expect(await store.data(of: digest) == layer)
        #expect(ImagePullerTests.files(under: store.scratchDirectory + "/partial").isEmpty)
    }

    /// The torrent downloader takes an HTTP partial over: the mark goes, so HTTP will not trust
    /// bytes the engine may have rewritten.
    @Test func theTorrentDownloaderRemovesTheMark() async throws {
        let store = MemoryImageStore()
        try plant(layer.prefix(4_000), in: store, markedHTTP: true)
        let (image, blobs) = try FakeImage.make(layers: [layer])
        let seeder = FakeTorrentSeeder(swarm: blobs, hanging: true)
        let puller = ImagePuller(registry: FakeRegistry(image: image, blobs: blobs), store: store, seeder: seeder,
                                 options: PullOptions(seedTime: .zero))
        _ = await ImagePullerTests.cancelOnceATorrentStarts(puller, image.reference)
        #expect(ImagePullerTests.files(under: store.scratchDirectory + "/partial") == ["\(digest.hex)", "\(digest.hex).lock"])
    }
}
