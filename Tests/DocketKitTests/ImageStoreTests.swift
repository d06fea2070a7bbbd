import Foundation
import Testing
@testable import DocketKit

/// Which backend a shared-suite test runs against.
enum StoreKind: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case file, memory

    var testDescription: String { rawValue }

    func make() -> (any ImageStore, cleanup: @Sendable () -> Void) {
        switch self {
        case .file:
            let root = (NSTemporaryDirectory() as NSString).appendingPathComponent("docket-store-test-\(UUID().uuidString)")
            return (FileImageStore(root: root), { try? FileManager.default.removeItem(atPath: root) })
        case .memory:
            return (MemoryImageStore(), {})
        }
    }
}

/// The one suite every `ImageStore` passes.
@Suite struct ImageStoreTests {
    let bytes = Data("layer bytes for the store suite".utf8)
    var digest: Digest { Digest.sha256(of: bytes) }

    @Test(arguments: StoreKind.allCases)
    func commitVerifiesAndPublishes(_ kind: StoreKind) async throws {
        let (store, cleanup) = kind.make()
        defer { cleanup() }
        #expect(await store.contains(digest) == false)
        #expect(await store.path(of: digest) == nil)
        let write = try await store.beginWrite(digest)
        #expect(FileManager.default.fileExists(atPath: write.path))
        try bytes.write(to: URL(fileURLWithPath: write.path))
        try await store.commit(write)
        #expect(await store.contains(digest))
        let path = try #require(await store.path(of: digest))
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == bytes)
        #expect(!FileManager.default.fileExists(atPath: write.path))
    }

    @Test(arguments: StoreKind.allCases)
    func mismatchLeavesNothing(_ kind: StoreKind) async throws {
        let (store, cleanup) = kind.make()
        defer { cleanup() }
        let write = try await store.beginWrite(digest)
        let wrong = Data("other bytes".utf8)
        try wrong.write(to: URL(fileURLWithPath: write.path))
        await #expect(throws: DocketError.self) { try await store.commit(write) }
        #expect(await store.contains(digest) == false)
        #expect(await store.path(of: digest) == nil)
        #expect(!FileManager.default.fileExists(atPath: write.path))
    }

    @Test(arguments: StoreKind.allCases)
    func mismatchReportsBothDigests(_ kind: StoreKind) async throws {
        let (store, cleanup) = kind.make()
        defer { cleanup() }
        let write = try await store.beginWrite(digest)
        let wrong = Data("tampered".utf8)
        try wrong.write(to: URL(fileURLWithPath: write.path))
        let error = await #expect(throws: DocketError.self) { try await store.commit(write) }
        guard case .digestMismatch(let expected, let actual)? = error else {
            Issue.record("expected digestMismatch, got \(String(describing: error))")
            return
        }
        #expect(expected == digest)
        #expect(actual == Digest.sha256(of: wrong))
    }

    @Test(arguments: StoreKind.allCases)
    func cancelRemovesTheWrite(_ kind: StoreKind) async throws {
        let (store, cleanup) = kind.make()
        defer { cleanup() }
        let write = try await store.beginWrite(digest)
        try bytes.write(to: URL(fileURLWithPath: write.path))
        await store.cancel(write)
        #expect(!FileManager.default.fileExists(atPath: write.path))
        #expect(await store.contains(digest) == false)
    }

    @Test(arguments: StoreKind.allCases)
    func concurrentWritesOfOneBlobDoNotCollide(_ kind: StoreKind) async throws {
        let (store, cleanup) = kind.make()
        defer { cleanup() }
        let first = try await store.beginWrite(digest)
        let second = try await store.beginWrite(digest)
        #expect(first.path != second.path)
        try bytes.write(to: URL(fileURLWithPath: first.path))
        try bytes.write(to: URL(fileURLWithPath: second.path))
        try await store.commit(first)
        try await store.commit(second)
        #expect(await store.contains(digest))
    }

    @Test(arguments: StoreKind.allCases)
    func manifestsByTagAndDigest(_ kind: StoreKind) async throws {
        let (store, cleanup) = kind.make()
        defer { cleanup() }
        let manifest = Data(#"{"schemaVersion":2}"#.utf8)
        let tag = try ImageReference(parsing: "team/app:1.0")
        #expect(try await store.manifest(for: tag) == nil)
        let digest = try await store.putManifest(manifest, for: tag)
        #expect(digest == Digest.sha256(of: manifest))
        #expect(try await store.manifest(for: tag) == manifest)
        #expect(try await store.manifest(for: ImageReference(name: "team/app", reference: digest.description)) == manifest)
        #expect(try await store.manifest(for: ImageReference(parsing: "team/app:2.0")) == nil)
    }

    @Test(arguments: StoreKind.allCases)
    func manifestUnderWrongDigestIsRefused(_ kind: StoreKind) async throws {
        let (store, cleanup) = kind.make()
        defer { cleanup() }
        let reference = try ImageReference(name: "team/app", reference: "sha256:" + String(repeating: "0", count: 64))
        await #expect(throws: DocketError.self) { _ = try await store.putManifest(Data("{}".utf8), for: reference) }
        #expect(try await store.manifest(for: reference) == nil)
    }

    @Test func fileStoreLayout() async throws {
        let root = (NSTemporaryDirectory() as NSString).appendingPathComponent("docket-layout-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let store = FileImageStore(root: root)
        let write = try await store.beginWrite(digest)
        #expect(write.path.hasPrefix("\(root)/tmp/"))
        try bytes.write(to: URL(fileURLWithPath: write.path))
        try await store.commit(write)
        #expect(FileManager.default.fileExists(atPath: "\(root)/blobs/sha256/\(digest.hex)"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: "\(root)/tmp").isEmpty)
        let manifestDigest = try await store.putManifest(Data("{}".utf8), for: ImageReference(parsing: "team/app:1.0"))
        #expect(FileManager.default.fileExists(atPath: "\(root)/manifests/sha256/\(manifestDigest.hex)"))
        let tag = try String(contentsOfFile: "\(root)/tags/team/app/1.0", encoding: .utf8)
        #expect(tag == manifestDigest.description)
    }

    @Test func fileStoreSurvivesReopening() async throws {
        let root = (NSTemporaryDirectory() as NSString).appendingPathComponent("docket-reopen-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let write = try await FileImageStore(root: root).beginWrite(digest)
        try bytes.write(to: URL(fileURLWithPath: write.path))
        try await FileImageStore(root: root).commit(write)
        #expect(await FileImageStore(root: root).contains(digest))
    }
}
