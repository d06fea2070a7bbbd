import Foundation

/// The client side of a registry: list, resolve, fetch torrents and blobs, push.
public protocol Registry: Sendable {
    /// Every name:tag the registry holds.
    func listImages() async throws -> [ImageSummary]
    /// The manifest for a tag or digest. Throws `DocketError.imageNotFound` when there is none.
    func resolve(_ reference: ImageReference) async throws -> ResolvedImage
    /// The BitTorrent metainfo (bencoded) for one blob; its announce and web-seed URLs point at this registry.
    func torrent(for blob: Digest, repository: String) async throws -> Data
    /// Downloads a blob over plain HTTP into `path` (small blobs, and the no-P2P mode), reporting
    /// the bytes received so far to `progress`.
    func downloadBlob(_ digest: Digest, repository: String, to path: String,
                      progress: @escaping @Sendable (Int64) -> Void) async throws
    /// Carries on an interrupted `downloadBlob`: `path` holds the blob's first `offset` bytes, and
    /// only the rest is fetched (an HTTP `Range`). Returns the offset the bytes were appended from:
    /// `offset`, or 0 when the whole blob was fetched again (the registry ignored the range).
    /// `progress` gets the bytes the file holds so far and that same offset.
    func downloadBlob(_ digest: Digest, repository: String, to path: String, resumingAt offset: Int64,
                      progress: @escaping @Sendable (_ held: Int64, _ from: Int64) -> Void) async throws -> Int64
    /// Uploads an image archive (`docker save` format or an OCI layout tar) as `reference`.
    func push(archiveAt path: String, as reference: ImageReference) async throws -> ResolvedImage
}

extension Registry {
    /// Downloads a blob over plain HTTP into `path` without progress reports.
    public func downloadBlob(_ digest: Digest, repository: String, to path: String) async throws {
        try await downloadBlob(digest, repository: repository, to: path, progress: { _ in })
    }

    /// Registries that cannot fetch part of a blob fetch all of it again.
    public func downloadBlob(_ digest: Digest, repository: String, to path: String, resumingAt offset: Int64,
                             progress: @escaping @Sendable (_ held: Int64, _ from: Int64) -> Void) async throws -> Int64 {
        try await downloadBlob(digest, repository: repository, to: path, progress: { progress($0, 0) })
        return 0
    }
}

/// A handle on one blob being written into an `ImageStore`. Write to `path`, then commit or cancel.
public struct BlobWrite: Sendable, Hashable {
    public var digest: Digest
    /// Temporary file to fill; it becomes visible under `digest` only on commit.
    public var path: String
    /// From `beginResumableWrite`: `path` may already hold bytes of an earlier attempt, and
    /// `cancel` keeps them for the next one.
    public var isResumable: Bool

    public init(digest: Digest, path: String, isResumable: Bool = false) {
        self.digest = digest
        self.path = path
        self.isResumable = isResumable
    }
}

/// Local content-addressed storage for blobs and manifests.
public protocol ImageStore: Sendable {
    func contains(_ digest: Digest) async -> Bool
    /// Path of a committed blob, for reading or seeding; nil when absent.
    func path(of digest: Digest) async -> String?
    /// Starts writing a blob; the caller fills `BlobWrite.path`.
    func beginWrite(_ digest: Digest) async throws -> BlobWrite
    /// Verifies the sha256 of the written bytes against the digest and makes the blob visible.
    /// Throws `DocketError.digestMismatch` (and removes the temp file) when they differ.
    func commit(_ write: BlobWrite) async throws
    /// `commit`, for a file whose writer already hashed it by reading it back after its last write
    /// (`TransferProgress.contentDigest`): a store may trust `readBack` instead of reading the file
    /// again. It still throws `digestMismatch` when `readBack` is not the write's digest.
    func commit(_ write: BlobWrite, readBack: Digest) async throws
    /// Abandons a write: a plain write's file is removed; a resumable one keeps its bytes (and any
    /// `<path>.*` companions, such as a torrent resume file) for the next `beginResumableWrite`.
    func cancel(_ write: BlobWrite) async
    /// Starts writing a blob at a place that survives an interrupted pull: the same digest gets the
    /// same file back, with what an earlier attempt wrote, so a downloader that checks what it finds
    /// (the torrent engine) resumes. Exclusive: while a write holds it, another caller gets a plain
    /// `beginWrite`. Commit still verifies the sha256 and removes the file and its companions.
    func beginResumableWrite(_ digest: Digest) async throws -> BlobWrite
    /// Records a manifest under its digest and the reference's tag.
    func putManifest(_ bytes: Data, for reference: ImageReference) async throws -> Digest
    func manifest(for reference: ImageReference) async throws -> Data?
    /// Removes what writers that died left behind (their plain writes and companions), never the
    /// writes of live ones. `ImagePuller` calls it when a pull starts.
    func removeAbandonedWrites() async
}

extension ImageStore {
    /// Stores that keep nothing across processes have nothing to remove.
    public func removeAbandonedWrites() async {}

    /// Stores without a resumable place start a plain write.
    public func beginResumableWrite(_ digest: Digest) async throws -> BlobWrite {
        try await beginWrite(digest)
    }
}

/// Progress of one torrent transfer.
public struct TransferProgress: Sendable, Hashable {
    public var verifiedBytes: Int64
    public var totalBytes: Int64
    /// Payload bytes received from BitTorrent peers that are not the registry.
    public var bytesFromPeers: Int64
    /// Payload bytes received from the registry: its seeder (over the peer wire) and its web seed.
    public var bytesFromRegistry: Int64
    public var bytesUploaded: Int64
    public var connectedPeers: Int
    public var isComplete: Bool
    /// A human-readable note, e.g. "tracker unreachable, using web seed".
    public var notice: String?
    /// Verified bytes an earlier, interrupted attempt left on disk (received from nobody this time).
    public var bytesResumed: Int64
    /// A completed download whose engine read the file back into a sha256 as it went (DocketTorrent
    /// does; see `TorrentStatus.contentSHA256`): the digest of the file's bytes, so the store need
    /// not read 100 MB again to commit it. Nil otherwise.
    public var contentDigest: Digest?

    public init(verifiedBytes: Int64 = 0, totalBytes: Int64 = 0, bytesFromPeers: Int64 = 0, bytesFromRegistry: Int64 = 0,
                bytesUploaded: Int64 = 0, connectedPeers: Int = 0, isComplete: Bool = false, notice: String? = nil,
                bytesResumed: Int64 = 0, contentDigest: Digest? = nil) {
        self.verifiedBytes = verifiedBytes
        self.totalBytes = totalBytes
        self.bytesFromPeers = bytesFromPeers
        self.bytesFromRegistry = bytesFromRegistry
        self.bytesUploaded = bytesUploaded
        self.connectedPeers = connectedPeers
        self.isComplete = isComplete
        self.notice = notice
        self.bytesResumed = bytesResumed
        self.contentDigest = contentDigest
    }
}

/// One download or seed in progress.
public protocol TorrentTransfer: Sendable {
    /// Progress updates until the transfer stops (one consumer; older updates may be dropped).
    var progress: AsyncStream<TransferProgress> { get }
    /// The latest progress, whether or not anyone reads `progress`.
    func currentProgress() async -> TransferProgress
    /// Returns when every piece is verified on disk; throws if the download failed, was stopped, or
    /// received nothing for the seeder's stall timeout.
    func waitUntilComplete() async throws
    /// Stops transferring (and seeding) this torrent; returns once nothing writes to its file any more.
    func stop() async
}

/// Downloads torrents into local files and seeds them from there.
///
/// The contract every backend keeps (`DocketTorrentSeeder`, `CTorrentSeeder`; checked by the one
/// shared suite, Tests/DocketKitTests/TorrentSeederSuiteTests.swift):
/// - A download's `waitUntilComplete` returns once every piece is verified on disk; the file is then
///   byte-identical to the torrent's data, and `currentProgress()` shows `isComplete` with
///   `verifiedBytes == totalBytes`. `verifiedBytes` never goes down on the way.
/// - A download never hangs: when it receives no byte (from any peer or web seed) for the backend's
///   stall timeout (`TorrentSeederConfiguration.stallTimeout`, default 30 s) it is stopped and
///   `waitUntilComplete` throws `DocketError.torrent`, so the caller can fall back to HTTP. Until
///   then its progress reports what it has (zero bytes without peers).
/// - `seed` of a file that is missing or shorter than the torrent throws `DocketError.torrent` naming
///   the path, before anything is announced.
/// - `shutdown` ends every transfer: pending `waitUntilComplete` calls of unfinished downloads throw,
///   `progress` streams finish, no helper process is left running; `download` and `seed` throw afterwards.
public protocol TorrentSeeder: Sendable {
    /// Downloads `torrent` (bencoded metainfo) into the file at `path`; after completion it keeps seeding until stopped.
    func download(torrent: Data, to path: String) async throws -> any TorrentTransfer
    /// Seeds the complete file at `path`; throws naming the path when it is missing or short.
    func seed(torrent: Data, from path: String) async throws -> any TorrentTransfer
    /// Stops every transfer and closes the listening socket (see the contract above).
    func shutdown() async
    /// True when a finished download keeps seeding after its file is renamed (the engine holds the
    /// file open); false when the caller must start a new `seed` from the file's new path.
    var continuesSeedingAfterRename: Bool { get }
}

extension TorrentSeeder {
    public var continuesSeedingAfterRename: Bool { false }
}

/// A pulled image, ready to hand to a runtime.
public struct PulledImage: Sendable {
    public var resolved: ResolvedImage
    public var store: any ImageStore

    public init(resolved: ResolvedImage, store: any ImageStore) {
        self.resolved = resolved
        self.store = store
    }
}

/// Hands a pulled image to a runtime (the Docker engine, an archive file, …).
public protocol Deployer: Sendable {
    /// Checks, before anything is downloaded, that deploying can work (e.g. the Docker socket answers).
    func prepare() async throws
    func deploy(_ image: PulledImage) async throws
}

extension Deployer {
    public func prepare() async throws {}
}

extension ImageStore {
    /// Refuses a `readBack` that is not the write's digest, otherwise hashes the file again: for
    /// stores that read the bytes anyway.
    public func commit(_ write: BlobWrite, readBack: Digest) async throws {
        guard readBack == write.digest else {
            await cancel(write)
            throw DocketError.digestMismatch(expected: write.digest, actual: readBack)
        }
        try await commit(write)
    }
}
