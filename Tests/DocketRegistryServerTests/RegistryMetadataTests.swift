@testable import DocketRegistryServer
import DocketKit
import Foundation
import Testing

@Suite struct RegistryMetadataTests {
    private func record(_ repository: String, _ tag: String, manifest: String, blobs: [Digest: Int64]) -> PushRecord {
        let bytes = Data(manifest.utf8)
        return PushRecord(repository: repository, tag: tag,
                          manifest: StoredManifest(digest: .sha256(of: bytes), mediaType: MediaType.ociManifest, bytes: bytes),
                          imageSize: blobs.values.reduce(0, +), blobs: blobs)
    }

    @Test func recordsPushesAndMovesTags() throws {
        let dir = try LiveRegistry.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let metadata = try RegistryMetadata(path: dir + "/registry.sqlite")
        let blobA = Digest.sha256(of: Data("a".utf8)), blobB = Digest.sha256(of: Data("b".utf8))
        let first = record("team/app", "1", manifest: "m1", blobs: [blobA: 10])
        let second = record("team/app", "1", manifest: "m2", blobs: [blobA: 10, blobB: 20])
        try metadata.record(first)
        try metadata.record(record("other", "x", manifest: "m1", blobs: [blobA: 10]))
        try metadata.record(second)

        #expect(try metadata.repositories() == ["other", "team/app"])
        #expect(try metadata.repositories(limit: 1) == ["other"])
        #expect(try metadata.repositories(after: "other") == ["team/app"])
        #expect(try metadata.tags(of: "team/app") == ["1"])
        #expect(try metadata.tags(of: "nobody") == nil)
        // The tag moved to the second manifest; the first stays reachable by digest.
        #expect(try metadata.manifest(repository: "team/app", reference: "1")?.digest == second.manifest.digest)
        #expect(try metadata.manifest(repository: "team/app", reference: first.manifest.digest.description)?.bytes == Data("m1".utf8))
        #expect(try metadata.manifest(repository: "other", reference: second.manifest.digest.description) == nil)
        #expect(try metadata.blobSize(blobB) == 20)
        #expect(try metadata.isBlobLinked(blobB, to: "team/app"))
        #expect(try !metadata.isBlobLinked(blobB, to: "other"))
        let images = try metadata.images()
        #expect(images.map { "\($0.name):\($0.tag)" } == ["other:x", "team/app:1"])
        #expect(images.last?.size == 30)
        #expect(try metadata.allBlobs().map(\.digest) == [blobA, blobB].sorted())
    }
}
