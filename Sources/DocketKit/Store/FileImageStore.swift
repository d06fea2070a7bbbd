import Foundation

/// A content-addressed image store in a directory. Blobs become visible only when committed, after
/// their sha256 was checked; a crash leaves at most stray files under `tmp/` and the partial
/// downloads under `partial/`, which the next pull of the same blob carries on.
///
/// ```
/// <root>/blobs/sha256/<hex>        committed blobs, named by the sha256 of their bytes
/// <root>/tmp/<hex>.<uuid>          writes in progress (filled by the caller, then renamed), flock'd by
///                                  their writer; those nobody holds are removed when a pull starts
/// <root>/partial/<hex>             resumable writes (torrent and HTTP downloads), kept across interrupted
///                                  pulls for `partialLifetime` (7 days) after their last write
/// <root>/partial/<hex>.lock        flock held by the one process writing <hex>; others use tmp/
/// <root>/partial/<hex>.*           the downloader's companions, e.g. <hex>.docket-resume (verified pieces)
/// <root>/manifests/sha256/<hex>    manifest bytes, named by their digest
/// <root>/tags/<name>/<tag>         the digest (text) of the manifest a tag points at
/// ```
public struct FileImageStore: ImageStore {
    /// The store's directory (absolute); created on first write.
    public let root: String

    /// A relative `root` is taken from the current directory.
    public init(root: String) {
        self.root = BlobFile.absolute(root)
    }

    /// Creates the store's directories now, so a root that cannot be one (a file, a read-only place)
    /// fails before any download starts; writes create them anyway.
    public func prepare() async throws {
        let directories = [root, temporaryDirectory, partialDirectory]
        try await Blocking.run { for directory in directories { try BlobFile.makeDirectory(directory) } }
    }

    /// Where a committed blob lives (whether or not it exists yet).
    public func blobPath(_ digest: Digest) -> String { "\(root)/blobs/\(digest.algorithm)/\(digest.hex)" }
    private var temporaryDirectory: String { "\(root)/tmp" }
    private var partialDirectory: String { "\(root)/partial" }
    private func manifestPath(_ digest: Digest) -> String { "\(root)/manifests/\(digest.algorithm)/\(digest.hex)" }
    private func tagPath(_ reference: ImageReference) -> String { "\(root)/tags/\(reference.name)/\(reference.reference)" }

    public func contains(_ digest: Digest) async -> Bool {
        let path = blobPath(digest)
        return (try? await Blocking.run { BlobFile.exists(path) }) ?? false
    }

    public func path(of digest: Digest) async -> String? {
        await contains(digest) ? blobPath(digest) : nil
    }

    public func beginWrite(_ digest: Digest) async throws -> BlobWrite {
        try await BlobFile.beginWrite(digest, in: temporaryDirectory)
    }

    public func beginResumableWrite(_ digest: Digest) async throws -> BlobWrite {
        try await BlobFile.beginResumableWrite(digest, partialDirectory: partialDirectory, temporaryDirectory: temporaryDirectory)
    }

    public func commit(_ write: BlobWrite) async throws {
        try await commit(write) { try BlobFile.syncAndHash($0) }
    }

    /// Trusts the writer's read-back digest: the file is only flushed, not read again.
    public func commit(_ write: BlobWrite, readBack: Digest) async throws {
        try await commit(write) { path in
            try BlobFile.sync(path)
            return readBack
        }
    }

    /// Makes `write` visible under its digest once `digestOfFile` (flushing the file on the way)
    /// agrees; otherwise removes it.
    private func commit(_ write: BlobWrite, digestOfFile: @escaping @Sendable (String) throws -> Digest) async throws {
        let (destination, partials) = (blobPath(write.digest), partialDirectory)
        try await Blocking.run(name: "docket.store.commit") {
            let actual: Digest
            do {
                actual = try digestOfFile(write.path)
            } catch {
                BlobFile.discard(write)
                throw error
            }
            guard actual == write.digest else {
                BlobFile.discard(write)
                throw DocketError.digestMismatch(expected: write.digest, actual: actual)
            }
            try BlobFile.makeDirectory((destination as NSString).deletingLastPathComponent)
            try BlobFile.rename(write.path, to: destination)
            // The partial's companions (resume file, lock) go with it; so does a partial left by an
            // earlier attempt when this blob came another way (e.g. over HTTP).
            if write.isResumable {
                BlobFile.discard(write)
            } else {
                TemporaryBlob.release(write.path)
                PartialBlob.dropLeftover(write.digest, in: partials)
            }
        }
    }

    /// How long an interrupted download is kept under `partial/` for a later pull to carry on.
    public static let partialLifetime: TimeInterval = 7 * 24 * 3600

    /// Removes what pulls that died (killed, crashed) left under `tmp/` (plain writes nobody holds,
    /// and their companions), and partial downloads nobody has touched for `partialLifetime`.
    /// Writes of pulls still running, here or in another process, stay.
    public func removeAbandonedWrites() async {
        let (directory, partials) = (temporaryDirectory, partialDirectory)
        _ = try? await Blocking.run(name: "docket.store.sweep") {
            TemporaryBlob.removeAbandoned(in: directory)
            PartialBlob.removeStale(in: partials, olderThan: Self.partialLifetime)
        }
    }

    public func cancel(_ write: BlobWrite) async {
        _ = try? await Blocking.run { BlobFile.abandon(write) }
    }

    public func putManifest(_ bytes: Data, for reference: ImageReference) async throws -> Digest {
        let digest = Digest.sha256(of: bytes)
        if reference.isDigest, reference.reference != digest.description {
            throw DocketError.digestMismatch(expected: try Digest(parsing: reference.reference), actual: digest)
        }
        let (manifestPath, tagPath, directory) = (manifestPath(digest), tagPath(reference), temporaryDirectory)
        let isTag = !reference.isDigest
        try await Blocking.run {
            try BlobFile.writeAtomically(bytes, to: manifestPath, temporaryDirectory: directory)
            if isTag {
                try BlobFile.writeAtomically(Data(digest.description.utf8), to: tagPath, temporaryDirectory: directory)
            }
        }
        return digest
    }

    public func manifest(for reference: ImageReference) async throws -> Data? {
        let root = self
        return try await Blocking.run {
            let digest: Digest
            if reference.isDigest {
                digest = try Digest(parsing: reference.reference)
            } else {
                guard let text = try BlobFile.contents(root.tagPath(reference)) else { return nil }
                digest = try Digest(parsing: String(decoding: text, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
            }
            return try BlobFile.contents(root.manifestPath(digest))
        }
    }
}
