import Foundation

/// Where a blob's bytes come from.
public enum BlobSource: String, Sendable, Hashable, Codable {
    /// Plain HTTP from the registry.
    case http
    /// BitTorrent: the registry's seeder, its web seed, and other peers.
    case peerToPeer
}

/// What an `ImagePuller` reports while it works, in order per layer:
/// `layerStarted`, `layerProgress`…, `layerDone` (or just `layerSkipped`).
public enum PullEvent: Sendable, Hashable {
    /// The manifest is known: its digest and layers.
    case resolved(reference: ImageReference, digest: Digest, layers: [Descriptor])
    case layerStarted(Digest, size: Int64, source: BlobSource)
    case layerProgress(Digest, TransferProgress)
    /// Already in the store; nothing downloaded.
    case layerSkipped(Digest, size: Int64)
    /// Verified and committed to the store: `size` = `fromRegistry` + `fromPeers` + `resumed`
    /// (verified bytes an interrupted earlier pull left in the store's partial file).
    case layerDone(Digest, size: Int64, fromRegistry: Int64, fromPeers: Int64, resumed: Int64 = 0)
    /// Something the user may want to know (fallbacks, tracker trouble).
    case notice(String)
    /// Every blob and the manifest are stored.
    case pulled(PullSummary)
    /// The deployer finished (loaded into Docker, archive written…).
    case deployed
    /// Seeding the stored layers to other peers for `seconds`.
    case seeding(layers: Int, seconds: Double)
    /// Seeding ended; bytes uploaded to peers while pulling and seeding.
    case seedingStopped(uploaded: Int64)
}

/// The outcome of one pull, with the byte accounting the CLI prints.
public struct PullSummary: Sendable, Hashable, Codable {
    public var reference: String
    public var manifestDigest: Digest
    public var layerCount: Int
    /// Config and layers, in bytes (skipped ones included).
    public var totalBytes: Int64
    public var bytesFromRegistry: Int64
    public var bytesFromPeers: Int64
    /// Bytes that were already in the store.
    public var bytesAlreadyStored: Int64
    /// Bytes an interrupted earlier pull had downloaded and verified (partial layers carried on).
    public var bytesResumed: Int64
    public var seconds: Double

    public init(reference: String, manifestDigest: Digest, layerCount: Int, totalBytes: Int64, bytesFromRegistry: Int64,
                bytesFromPeers: Int64, bytesAlreadyStored: Int64, bytesResumed: Int64 = 0, seconds: Double) {
        self.reference = reference
        self.manifestDigest = manifestDigest
        self.layerCount = layerCount
        self.totalBytes = totalBytes
        self.bytesFromRegistry = bytesFromRegistry
        self.bytesFromPeers = bytesFromPeers
        self.bytesAlreadyStored = bytesAlreadyStored
        self.bytesResumed = bytesResumed
        self.seconds = seconds
    }

    /// `pulled team/app:1.0 (sha256:…) 3 layers, 104.9 MB in 4.2 s: 31.0 MB from registry, 73.9 MB from peers`.
    public var line: String {
        var text = "pulled \(reference) (\(manifestDigest)) \(layerCount) layer\(layerCount == 1 ? "" : "s"), "
            + "\(ByteFormat.megabytes(totalBytes)) in \(String(format: "%.1f", seconds)) s: "
            + "\(ByteFormat.megabytes(bytesFromRegistry)) from registry, \(ByteFormat.megabytes(bytesFromPeers)) from peers"
        if bytesAlreadyStored > 0 { text += ", \(ByteFormat.megabytes(bytesAlreadyStored)) already stored" }
        if bytesResumed > 0 { text += ", \(ByteFormat.megabytes(bytesResumed)) resumed from an interrupted pull" }
        return text
    }
}

/// Byte counts for people.
public enum ByteFormat {
    /// Decimal megabytes with one decimal, e.g. `104.9 MB`.
    public static func megabytes(_ bytes: Int64) -> String {
        String(format: "%.1f MB", Double(bytes) / 1_000_000)
    }
}
