import DocketCore
@testable import DocketTorrent
import Foundation
import Testing

/// Resuming a download from its resume file (`ResumeFile`, `ResumeCheck`).
@Suite(.serialized) struct SessionResumeTests {
    static let pieceLength = 64 << 10

    private func torrent(_ dir: String, size: Int) throws -> (String, Metainfo) {
        let source = dir + "/source.bin"
        try SessionTestSupport.writeRandomFile(source, size: size, seed: 11)
        return (source, try Metainfo.create(fileAt: source, name: "source.bin", pieceLength: Self.pieceLength, isPrivate: false,
                                            announce: nil, urlList: []))
    }

    private func received(_ status: TorrentStatus) -> Int64 {
        status.bytesFromOtherPeers + status.bytesFromRegistrySeed + status.bytesFromWebSeed
    }

    /// Downloads `metainfo` to `out` from a seed of `source` in a fresh client; the final status.
    private func downloadFromSeed(_ metainfo: Metainfo, source: String, to out: String) async throws -> TorrentStatus {
        let seed = try TorrentClient(configuration: .testing)
        defer { seed.shutdown() }
        _ = try seed.add(metainfo, path: source, seeding: true)
        let client = try TorrentClient(configuration: .testing)
        defer { client.shutdown() }
        let handle = try client.add(metainfo, path: out, seeding: false)
        handle.addPeers([SessionTestSupport.loopback(seed)])
        try await SessionTestSupport.withTimeout(30, "downloading \(out)") { try await handle.waitUntilComplete() }
        return handle.status()
    }

    /// Interrupted by a shutdown, a second client on the same path fetches only what was missing.
    @Test func restartedDownloadFetchesOnlyMissingPieces() async throws {
        let dir = try SessionTestSupport.temporaryDirectory("resume-restart")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (source, metainfo) = try torrent(dir, size: 6 << 20)
        // The first run is slow: a quarter of the file takes 3 s, the rest 9 s more.
        var slow = TorrentClient.Configuration.testing
        slow.uploadRateLimit = 512 << 10
        let slowSeed = try TorrentClient(configuration: slow)
        defer { slowSeed.shutdown() }
        _ = try slowSeed.add(metainfo, path: source, seeding: true)
        let out = dir + "/out.bin"

        let first = try TorrentClient(configuration: .testing)
        let handle = try first.add(metainfo, path: out, seeding: false)
        handle.addPeers([SessionTestSupport.loopback(slowSeed)])
        // Watched from a thread of its own: a busy cooperative pool (the whole suite running) must not
        // delay the shutdown until the download is done.
        let quarter = metainfo.totalLength / 4
        try await Blocking.run {
            let deadline = Date().addingTimeInterval(60)
            while handle.status().verifiedBytes < quarter {
                guard Date() < deadline else { throw SessionTestSupport.TimedOut(what: "a quarter of the first run") }
                usleep(20_000)
            }
            first.shutdown()
        }
        let firstRun = handle.status().verifiedBytes
        #expect(firstRun >= metainfo.totalLength / 4 && firstRun < metainfo.totalLength)
        let sidecar = try #require(FileManager.default.contents(atPath: ResumeFile.path(for: out)))
        let claimed = try #require(ResumeFile(decoding: [UInt8](sidecar)))
        #expect(claimed.infoHash == metainfo.infoHash)
        #expect(Int64(claimed.have.setCount * Self.pieceLength) == firstRun)

        let seed = try TorrentClient(configuration: .testing)
        defer { seed.shutdown() }
        _ = try seed.add(metainfo, path: source, seeding: true)
        let second = try TorrentClient(configuration: .testing)
        defer { second.shutdown() }
        let again = try second.add(metainfo, path: out, seeding: false)
        again.addPeers([SessionTestSupport.loopback(seed)])
        try await SessionTestSupport.withTimeout(60, "the second run") { try await again.waitUntilComplete() }
        let status = again.status()
        #expect(status.bytesResumed == firstRun)
        #expect(status.verifiedBytes == metainfo.totalLength)
        #expect(received(status) <= metainfo.totalLength - firstRun + Int64(Self.pieceLength))
        #expect(received(status) >= metainfo.totalLength - firstRun)
        #expect(SessionTestSupport.filesEqual(source, out))
        #expect(!FileManager.default.fileExists(atPath: ResumeFile.path(for: out)))
    }

    /// Claimed pieces whose bytes are wrong are fetched again; the others are kept.
    @Test func corruptClaimedPiecesAreDownloadedAgain() async throws {
        let dir = try SessionTestSupport.temporaryDirectory("resume-corrupt")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (source, metainfo) = try torrent(dir, size: 1 << 20)
        let out = dir + "/out.bin"
        var bytes = try Data(contentsOf: URL(fileURLWithPath: source))
        for piece in [2, 9] { bytes[piece * Self.pieceLength + 100] ^= 0xff }
        try bytes.write(to: URL(fileURLWithPath: out))
        #expect(ResumeFile(infoHash: metainfo.infoHash, have: Bitfield(count: metainfo.pieceCount, allSet: true)).write(forDataAt: out))

        let status = try await downloadFromSeed(metainfo, source: source, to: out)
        #expect(status.bytesResumed == metainfo.totalLength - 2 * Int64(Self.pieceLength))
        #expect(received(status) == 2 * Int64(Self.pieceLength))
        #expect(SessionTestSupport.filesEqual(source, out))
        #expect(!FileManager.default.fileExists(atPath: ResumeFile.path(for: out)))
    }

    /// No resume file, but the start of the data (what an interrupted HTTP download left): its whole
    /// pieces are checked and kept, a wrong one and the rest are downloaded.
    @Test func aPlainDownloadsStartIsCheckedAndKept() async throws {
        let dir = try SessionTestSupport.temporaryDirectory("resume-prefix")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (source, metainfo) = try torrent(dir, size: 1 << 20)
        let out = dir + "/out.bin"
        var start = try Data(contentsOf: URL(fileURLWithPath: source)).prefix(5 * Self.pieceLength + 1000)
        start[3 * Self.pieceLength + 7] ^= 0xff
        try start.write(to: URL(fileURLWithPath: out))

        let status = try await downloadFromSeed(metainfo, source: source, to: out)
        #expect(status.bytesResumed == 4 * Int64(Self.pieceLength))
        #expect(received(status) == metainfo.totalLength - 4 * Int64(Self.pieceLength))
        #expect(SessionTestSupport.filesEqual(source, out))
    }

    /// Every claimed piece holds up: complete without a single peer.
    @Test func fullyVerifiedResumeCompletesWithoutPeers() async throws {
        let dir = try SessionTestSupport.temporaryDirectory("resume-full")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (source, metainfo) = try torrent(dir, size: 700_000)
        let out = dir + "/out.bin"
        try FileManager.default.copyItem(atPath: source, toPath: out)
        #expect(ResumeFile(infoHash: metainfo.infoHash, have: Bitfield(count: metainfo.pieceCount, allSet: true)).write(forDataAt: out))
        let client = try TorrentClient(configuration: .testing)
        defer { client.shutdown() }
        let handle = try client.add(metainfo, path: out, seeding: false)
        try await SessionTestSupport.withTimeout(10, "the resume check") { try await handle.waitUntilComplete() }
        #expect(handle.status().bytesResumed == metainfo.totalLength)
        #expect(handle.status().verifiedBytes == metainfo.totalLength)
        #expect(!FileManager.default.fileExists(atPath: ResumeFile.path(for: out)))
    }

    enum BadSidecar: String, CaseIterable, CustomTestStringConvertible, Sendable {
        case garbage, otherTorrent, wrongPieceCount, truncatedData
        var testDescription: String { rawValue }
    }

    /// A sidecar that does not fit is ignored: the data is downloaded whole, even where it was right.
    @Test(arguments: BadSidecar.allCases)
    func unfittingSidecarIsIgnored(_ kind: BadSidecar) async throws {
        let dir = try SessionTestSupport.temporaryDirectory("resume-bad")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (source, metainfo) = try torrent(dir, size: 500_000)
        let out = dir + "/out.bin"
        try FileManager.default.copyItem(atPath: source, toPath: out)
        let all = Bitfield(count: metainfo.pieceCount, allSet: true)
        switch kind {
        case .garbage:
            try Data((0..<200).map { UInt8(truncatingIfNeeded: $0 &* 37) }).write(to: URL(fileURLWithPath: ResumeFile.path(for: out)))
        case .otherTorrent:
            #expect(ResumeFile(infoHash: InfoHash(bytes: [UInt8](repeating: 7, count: 20))!, have: all).write(forDataAt: out))
        case .wrongPieceCount:
            #expect(ResumeFile(infoHash: metainfo.infoHash, have: Bitfield(count: metainfo.pieceCount + 9, allSet: true)).write(forDataAt: out))
        case .truncatedData:
            #expect(ResumeFile(infoHash: metainfo.infoHash, have: all).write(forDataAt: out))
            #expect(truncate(out, 400_000) == 0)
        }
        #expect(ResumeFile.claimedPieces(of: metainfo, at: out) == nil)
        let status = try await downloadFromSeed(metainfo, source: source, to: out)
        #expect(status.bytesResumed == 0)
        #expect(received(status) == metainfo.totalLength)
        #expect(SessionTestSupport.filesEqual(source, out))
    }

    @Test func resumeFileRoundTripsAndRejectsDamage() throws {
        var have = Bitfield(count: 13)
        for index in [0, 5, 12] { have.insert(index) }
        let file = ResumeFile(infoHash: InfoHash(bytes: [UInt8](0..<20))!, have: have)
        let bytes = file.encoded()
        #expect(ResumeFile(decoding: bytes) == file)
        #expect(ResumeFile(decoding: Array(bytes.dropLast())) == nil)
        #expect(ResumeFile(decoding: bytes + [0]) == nil)
        var wrongMagic = bytes
        wrongMagic[0] = UInt8(ascii: "X")
        #expect(ResumeFile(decoding: wrongMagic) == nil)
        #expect(ResumeFile(decoding: []) == nil)
    }
}
