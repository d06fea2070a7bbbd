import DocketCore

/// A peer address learnt from a tracker or `addPeers`, with its dialling history.
struct KnownPeer {
    var connected = false
    var failures = 0
    var nextAttempt: Double = 0
    /// The address turned out to be this client.
    var isSelf = false
}

/// One torrent's state on the event loop thread: pieces, peers, counters.
final class Torrent {
    let metainfo: Metainfo
    let infoHash: InfoHash
    let storage: PieceStorage
    let shared: TorrentShared
    let startedAt: Double

    var have: Bitfield
    var availability: [Int32]
    /// Super-seeding: connected peers each piece was shown to and that have not announced it yet.
    var revealsInFlight: [Int32]
    /// Super-seeding: when each piece was last shown.
    var revealedAt: [Double]
    var partials: [Int: PartialPiece] = [:]
    /// No piece below this index is missing (`frontierPiece`).
    var frontier = 0
    /// Pieces handed to the disk writer and not yet answered: their size and who sent them.
    var writing: [Int: (size: Int, contributors: Set<PeerID>)] = [:]
    /// A download's pieces as the disk writer sees them; nil when seeding.
    let content: WrittenContent?
    /// The sha256 of the downloaded content as read back from disk, once every piece is in.
    var contentSHA256: [UInt8]?
    /// A download waits for the read-back hash before it reports completion.
    var contentHashPending: Bool
    /// Active connections (past the handshake), by fd.
    var peers: [Int32: PeerConnection] = [:]
    var connecting = 0
    var known: [PeerAddress: KnownPeer] = [:]
    var strikes: [PeerID: Int] = [:]
    var banned: Set<PeerID> = []

    var verifiedBytes: Int64 = 0
    /// Bytes of pieces taken over from an earlier run (resume file, hashed again).
    var bytesResumed: Int64 = 0
    var bytesFromRegistrySeed: Int64 = 0
    var bytesFromOtherPeers: Int64 = 0
    var bytesFromWebSeed: Int64 = 0
    var bytesUploaded: Int64 = 0
    var trackerError: String?
    var failure: String?

    var announcer: TrackerAnnouncer?
    var webSeedInFlight: Set<Int> = []
    var webSeedFailures = 0
    var webSeedNextAttempt: Double = 0
    /// A web-seed fetch waits for the download limit's bucket; `tick` retries as it refills.
    var webSeedAwaitsTokens = false
    var lastChoke: Double = 0
    var lastOptimistic: Double = 0
    var optimistic: Int32?
    var lastPublished: TorrentStatus?
    var lastPublishTime: Double = 0
    /// Claimed pieces are being hashed again (`ResumeCheck`); nothing is requested meanwhile.
    var checking: Bool
    /// The download's resume file needs writing (a piece was verified since the last write).
    var resumeDirty = false
    var lastResumeWrite: Double = 0

    init(setup: TorrentSetup, now: Double) {
        metainfo = setup.metainfo
        infoHash = setup.metainfo.infoHash
        storage = setup.storage
        shared = setup.shared
        startedAt = now
        checking = setup.checking
        have = Bitfield(count: setup.metainfo.pieceCount, allSet: setup.seeding)
        availability = [Int32](repeating: 0, count: setup.metainfo.pieceCount)
        revealsInFlight = [Int32](repeating: 0, count: setup.metainfo.pieceCount)
        revealedAt = [Double](repeating: 0, count: setup.metainfo.pieceCount)
        if setup.seeding { verifiedBytes = setup.metainfo.totalLength }
        let downloads = !setup.seeding && setup.metainfo.pieceCount > 0
        content = downloads ? WrittenContent(metainfo: setup.metainfo, storage: setup.storage, shared: setup.shared) : nil
        contentHashPending = downloads
    }

    var isComplete: Bool { have.isComplete }
    var pieceCount: Int { metainfo.pieceCount }

    func pieceOffset(_ index: Int) -> Int64 { Int64(index) * Int64(metainfo.pieceLength) }

    var status: TorrentStatus {
        TorrentStatus(verifiedBytes: verifiedBytes, totalBytes: metainfo.totalLength,
                      bytesFromRegistrySeed: bytesFromRegistrySeed, bytesFromOtherPeers: bytesFromOtherPeers,
                      bytesFromWebSeed: bytesFromWebSeed, bytesUploaded: bytesUploaded, connectedPeers: peers.count,
                      isComplete: isComplete && !contentHashPending, trackerError: trackerError, failure: failure,
                      bytesResumed: bytesResumed, contentSHA256: contentSHA256)
    }

    /// Whether `peer` has a piece we lack.
    func isInteresting(_ peer: PeerConnection) -> Bool {
        guard !isComplete, peer.bitfield.setCount > 0 else { return false }
        for byte in 0..<have.bytes.count where peer.bitfield.bytes[byte] & ~have.bytes[byte] != 0 { return true }
        return false
    }
}
