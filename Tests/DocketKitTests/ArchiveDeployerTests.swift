@testable import DocketKit
import Foundation
import Testing

/// `--output` must never harm what is already on disk.
@Suite struct ArchiveDeployerTests {
    private func scratch() throws -> String {
        let path = NSTemporaryDirectory() + "archive-deployer-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// A one-layer image in a store, ready to deploy.
    private func image(in store: MemoryImageStore, includeLayer: Bool = true) async throws -> PulledImage {
        let config = Data(#"{"rootfs":{"type":"layers","diff_ids":[]}}"#.utf8)
        let layer = Data(repeating: 7, count: 4096)
        for blob in includeLayer ? [config, layer] : [config] {
            let write = try await store.beginWrite(Digest.sha256(of: blob))
            try blob.write(to: URL(fileURLWithPath: write.path))
            try await store.commit(write)
        }
        let manifest = Manifest(config: Descriptor(mediaType: MediaType.ociConfig, digest: .sha256(of: config), size: Int64(config.count)),
                                layers: [Descriptor(mediaType: MediaType.ociLayer, digest: .sha256(of: layer), size: Int64(layer.count))])
        let bytes = try manifest.encoded()
        let resolved = ResolvedImage(reference: try ImageReference(parsing: "t/app:1"), manifest: manifest, manifestBytes: bytes,
                                     manifestDigest: .sha256(of: bytes), manifestMediaType: MediaType.ociManifest)
        return PulledImage(resolved: resolved, store: store)
    }

    @Test func aDirectoryAsOutputIsRefusedAndKept() async throws {
        let directory = try scratch()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try Data("keep".utf8).write(to: URL(fileURLWithPath: directory + "/keep"))
        let deployer = ArchiveDeployer(path: directory)
        await #expect { try await deployer.prepare() } throws: { "\($0)".contains("is a directory") }
        await #expect(throws: (any Error).self) { try await deployer.deploy(try await image(in: MemoryImageStore())) }
        #expect(FileManager.default.contents(atPath: directory + "/keep") == Data("keep".utf8))
    }

    @Test func aMissingOrFileParentSaysWhatToDo() async throws {
        let directory = try scratch()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        await #expect { try await ArchiveDeployer(path: directory + "/missing/x.tar").prepare() } throws: {
            "\($0)".contains("directory \(directory)/missing does not exist; create it")
        }
        try Data("file".utf8).write(to: URL(fileURLWithPath: directory + "/file"))
        await #expect { try await ArchiveDeployer(path: directory + "/file/x.tar").prepare() } throws: {
            "\($0)".contains("is a file, not a directory; give --output a path in a directory")
        }
    }

    @Test func dotAndSlashAreRefusedWithoutCrashing() async throws {
        for path in [".", "/", ".."] {
            await #expect(throws: DocketError.self) { try await ArchiveDeployer(path: path).prepare() }
        }
    }

    @Test func aFailedWriteLeavesTheOldArchiveAlone() async throws {
        let directory = try scratch()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let target = directory + "/image.tar"
        try Data("previous archive".utf8).write(to: URL(fileURLWithPath: target))
        // The layer is missing from the store, so writing must fail.
        let broken = try await image(in: MemoryImageStore(), includeLayer: false)
        await #expect(throws: (any Error).self) { try await ArchiveDeployer(path: target).deploy(broken) }
        #expect(FileManager.default.contents(atPath: target) == Data("previous archive".utf8))
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory) == ["image.tar"])
    }

    @Test func aGoodWriteReplacesTheArchive() async throws {
        let directory = try scratch()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let target = directory + "/image.tar"
        try Data("previous archive".utf8).write(to: URL(fileURLWithPath: target))
        try await ArchiveDeployer(path: target).deploy(try await image(in: MemoryImageStore()))
        let entries = try TarReader(path: target).entries().map(\.name)
        #expect(entries.contains("manifest.json"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory) == ["image.tar"])
    }
}
