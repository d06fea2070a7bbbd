import DocketTorrent
import Foundation
import Testing
@testable import DocketKit

/// Runs the real /usr/bin/ctorrent (skipped where it is not installed).
@Suite
struct CTorrentSeederTests {
    func makeBlob(size: Int) throws -> (directory: String, path: String, torrent: Data, data: Data) {
        let directory = (NSTemporaryDirectory() as NSString).appendingPathComponent("docket-ctorrent-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let data = Data((0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) })
        let path = "\(directory)/blob"
        try data.write(to: URL(fileURLWithPath: path))
        let metainfo = try Metainfo.create(fileAt: path, name: "blob", isPrivate: true,
                                           announce: "http://127.0.0.1:9/announce", urlList: [])
        return (directory, path, Data(metainfo.encoded()), data)
    }

    @Test func seedingACompleteFileReportsComplete() async throws {
        let blob = try makeBlob(size: 300_000)
        defer { try? FileManager.default.removeItem(atPath: blob.directory) }
        let seeder = try CTorrentSeeder(configuration: .init(port: 7811, temporaryDirectory: blob.directory))
        let transfer = try await seeder.seed(torrent: blob.torrent, from: blob.path)
        try await transfer.waitUntilComplete()
        let progress = await transfer.currentProgress()
        #expect(progress.isComplete)
        #expect(progress.totalBytes == 300_000)
        #expect(progress.verifiedBytes == 300_000)
        await seeder.shutdown()
        // The file is untouched and ctorrent's scratch files are gone.
        #expect(try Data(contentsOf: URL(fileURLWithPath: blob.path)) == blob.data)
        #expect(try FileManager.default.contentsOfDirectory(atPath: blob.directory) == ["blob"])
    }

    @Test func downloadWithoutPeersFailsInsteadOfHanging() async throws {
        let blob = try makeBlob(size: 100_000)
        defer { try? FileManager.default.removeItem(atPath: blob.directory) }
        let seeder = try CTorrentSeeder(configuration: .init(port: 7821, temporaryDirectory: blob.directory, stallTimeout: .seconds(1)))
        let target = "\(blob.directory)/download"
        FileManager.default.createFile(atPath: target, contents: nil)
        let transfer = try await seeder.download(torrent: blob.torrent, to: target)
        await #expect(throws: DocketError.self) { try await transfer.waitUntilComplete() }
        #expect(await transfer.currentProgress().isComplete == false)
        await seeder.shutdown()
    }

    @Test func missingExecutableSaysWhatToInstall() {
        #expect(throws: DocketError.self) { try CTorrentSeeder(configuration: .init(executable: "/nonexistent/ctorrent")) }
    }

    @Test func loopbackIdentitiesDifferPerPort() {
        let identities = Set((6881...7881).map { CTorrentTransfer.loopbackIdentity(port: UInt16($0)) })
        #expect(identities.count == 1001)
        #expect(identities.allSatisfy { $0.hasPrefix("127.") && !$0.hasPrefix("127.0.0.") })
        #expect(CTorrentTransfer.isLoopback("http://127.0.0.1:5000/announce"))
        #expect(CTorrentTransfer.isLoopback("http://localhost/announce"))
        #expect(!CTorrentTransfer.isLoopback("http://10.0.0.5:5000/announce"))
        #expect(!CTorrentTransfer.isLoopback(nil))
    }
}
