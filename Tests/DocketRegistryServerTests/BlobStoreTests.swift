@testable import DocketRegistryServer
import DocketKit
import Foundation
import Testing

@Suite struct BlobStoreTests {
    private func feed(_ data: Data) -> ((UnsafeRawBufferPointer) throws -> Void) throws -> Void {
        { sink in try data.withUnsafeBytes { try sink($0) } }
    }

    @Test func storesByDigestAndDetectsDuplicates() throws {
        let root = try LiveRegistry.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let store = try BlobStore(root: root)
        let data = Data("blob bytes".utf8)
        let digest = Digest.sha256(of: data)
        let first = try store.ingest(expected: digest, feed(data))
        #expect(first == BlobStore.Ingested(digest: digest, size: Int64(data.count), created: true))
        #expect(store.path(of: digest) == "\(root)/blobs/sha256/\(digest.hex.prefix(2))/\(digest.hex)")
        #expect(FileManager.default.contents(atPath: store.path(of: digest)) == data)
        let second = try store.ingest(expected: nil, feed(data))
        #expect(second.created == false && second.digest == digest)
        #expect(try FileManager.default.contentsOfDirectory(atPath: store.temporaryDirectory).isEmpty)
    }

    /// A data directory that is a file is named as such, not with Foundation's "error 512" text.
    @Test func dataDirectoryThatIsAFileSaysSo() throws {
        let root = try LiveRegistry.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let file = root + "/data"
        try Data("not a directory".utf8).write(to: URL(fileURLWithPath: file))
        let error = #expect(throws: RegistryServerError.self) { _ = try BlobStore(root: file) }
        let text = String(describing: try #require(error))
        #expect(text.contains(file) && text.contains("is a file, not a directory"), "\(text)")
        #expect(!text.contains("512") && !text.contains("permissions and free space"), "\(text)")
        #expect(try String(contentsOfFile: file, encoding: .utf8) == "not a directory")
    }

    @Test func mismatchLeavesNothingBehind() throws {
        let root = try LiveRegistry.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let store = try BlobStore(root: root)
        let claimed = Digest.sha256(of: Data("claimed".utf8))
        #expect(throws: RegistryError.self) { try store.ingest(expected: claimed, feed(Data("actual".utf8))) }
        #expect(!store.exists(claimed))
        #expect(!store.exists(.sha256(of: Data("actual".utf8))))
        #expect(try FileManager.default.contentsOfDirectory(atPath: store.temporaryDirectory).isEmpty)
    }
}
