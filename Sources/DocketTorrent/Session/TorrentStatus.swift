/// A snapshot of one torrent's progress, as `TorrentHandle.status()` and `events` report it.
public struct TorrentStatus: Sendable, Equatable {
    /// Bytes of pieces that passed their SHA-1 check and are on disk.
    public var verifiedBytes: Int64
    /// The torrent's size.
    public var totalBytes: Int64
    /// Payload bytes received from peers whose id starts with `-DR` (a registry's seeder).
    public var bytesFromRegistrySeed: Int64
    /// Payload bytes received from any other peer.
    public var bytesFromOtherPeers: Int64
    /// Bytes of verified pieces fetched from web seeds (BEP 19).
    public var bytesFromWebSeed: Int64
    /// Payload bytes sent to peers.
    public var bytesUploaded: Int64
    /// Peers past the handshake.
    public var connectedPeers: Int
    /// Every piece verified and on disk (and, for a download, `contentSHA256` settled).
    public var isComplete: Bool
    /// The last announce failure, nil once an announce succeeds.
    public var trackerError: String?
    /// Bytes of pieces an earlier run left verified on disk (its resume file, every piece hashed
    /// again); part of `verifiedBytes`, received from nobody in this run.
    public var bytesResumed: Int64
    /// Why the torrent stopped working (e.g. a disk write failed); nil while healthy.
    public var failure: String?
    /// A completed download: the sha256 of its content (the files in order), read back from disk
    /// piece by piece after each was written, never from the buffers that were written. A piece is
    /// not written again once read back, so this is the file's content unless another process
    /// wrote into it. Nil while downloading, when seeding, and when reading back failed.
    public var contentSHA256: [UInt8]?

    public init(verifiedBytes: Int64 = 0, totalBytes: Int64, bytesFromRegistrySeed: Int64 = 0,
                bytesFromOtherPeers: Int64 = 0, bytesFromWebSeed: Int64 = 0, bytesUploaded: Int64 = 0,
                connectedPeers: Int = 0, isComplete: Bool = false, trackerError: String? = nil, failure: String? = nil,
                bytesResumed: Int64 = 0, contentSHA256: [UInt8]? = nil) {
        self.verifiedBytes = verifiedBytes
        self.totalBytes = totalBytes
        self.bytesFromRegistrySeed = bytesFromRegistrySeed
        self.bytesFromOtherPeers = bytesFromOtherPeers
        self.bytesFromWebSeed = bytesFromWebSeed
        self.bytesUploaded = bytesUploaded
        self.connectedPeers = connectedPeers
        self.isComplete = isComplete
        self.trackerError = trackerError
        self.failure = failure
        self.bytesResumed = bytesResumed
        self.contentSHA256 = contentSHA256
    }
}
