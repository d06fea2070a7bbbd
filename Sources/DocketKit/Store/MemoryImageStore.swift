import Foundation

/// The in-memory twin of `FileImageStore`, for tests and short-lived pulls. Writes still go through
/// a scratch file (callers fill `BlobWrite.path`); committed blobs live in memory and are written
/// back to a scratch file only when someone asks for their `path(of:)`.
public actor MemoryImageStore: ImageStore {
    private var blobs: [Digest: Data] = [:]
    private var manifests: [Digest: Data] = [:]
    private var tags: [ImageReference: Digest] = [:]
    private var materialized: [Digest: String] = [:]
    /// Scratch directory for writes in progress and materialised blobs; removed on deinit.
    public nonisolated let scratchDirectory: String

    public init() {
        scratchDirectory = (NSTemporaryDirectory() as NSString).appendingPathComponent("docket-memory-store-\(UUID().uuidString)")
    }

    deinit {
        try? FileManager.default.removeItem(atPath: scratchDirectory)
    }

    /// The committed bytes of a blob, or nil.
    public func data(of digest: Digest) -> Data? { blobs[digest] }

    /// Every committed blob's digest.
    public var blobDigests: Set<Digest> { Set(blobs.keys) }

    public func contains(_ digest: Digest) -> Bool { blobs[digest] != nil }

    public func path(of digest: Digest) async -> String? {
        guard let data = blobs[digest] else { return nil }
        if let path = materialized[digest] { return path }
        let path = "\(scratchDirectory)/blobs/\(digest.hex)"
        let directory = scratchDirectory
        do {
            try await Blocking.run { try BlobFile.writeAtomically(data, to: path, temporaryDirectory: directory) }
        } catch {
            return nil
        }
        materialized[digest] = path
        return path
    }

    public func beginWrite(_ digest: Digest) async throws -> BlobWrite {
        try await BlobFile.beginWrite(digest, in: scratchDirectory)
    }

    /// Resumable within this store's life: the partial lives under the scratch directory.
    public func beginResumableWrite(_ digest: Digest) async throws -> BlobWrite {
        try await BlobFile.beginResumableWrite(digest, partialDirectory: partialDirectory, temporaryDirectory: scratchDirectory)
    }

    private nonisolated var partialDirectory: String { "\(scratchDirectory)/partial" }

    public func commit(_ write: BlobWrite) async throws {
        let partials = partialDirectory
        let data = try await Blocking.run(name: "docket.store.commit") { () throws -> Data in
            defer { BlobFile.discard(write) }
            guard let data = try BlobFile.contents(write.path) else {
                throw DocketError.fileSystem(path: write.path, reason: "the write's file is gone (committed or cancelled twice?)")
            }
            let actual = Digest.sha256(of: data)
            guard actual == write.digest else { throw DocketError.digestMismatch(expected: write.digest, actual: actual) }
            if !write.isResumable { PartialBlob.dropLeftover(write.digest, in: partials) }
            return data
        }
        blobs[write.digest] = data
    }

    public func cancel(_ write: BlobWrite) async {
        _ = try? await Blocking.run { BlobFile.abandon(write) }
    }

    public func putManifest(_ bytes: Data, for reference: ImageReference) throws -> Digest {
        let digest = Digest.sha256(of: bytes)
        if reference.isDigest {
            guard reference.reference == digest.description else {
                throw DocketError.digestMismatch(expected: try Digest(parsing: reference.reference), actual: digest)
            }
        } else {
            tags[reference] = digest
        }
        manifests[digest] = bytes
        return digest
    }

    public func manifest(for reference: ImageReference) throws -> Data? {
        let digest = reference.isDigest ? try Digest(parsing: reference.reference) : tags[reference]
        return digest.flatMap { manifests[$0] }
    }
}
