import Foundation
@testable import DocketKit

/// An in-memory `Registry` holding one image; records what was fetched over HTTP.
final class FakeRegistry: Registry {
    let image: ResolvedImage
    /// Bytes served over HTTP, by digest.
    let blobs: [Digest: Data]
    /// Digests the registry has no torrent for (small blobs).
    let withoutTorrent: Set<Digest>
    private let log = LockedBox<(http: [Digest], torrents: [Digest], offsets: [Digest: [Int64]])>(([], [], [:]))

    init(image: ResolvedImage, blobs: [Digest: Data], withoutTorrent: Set<Digest> = []) {
        self.image = image
        self.blobs = blobs
        self.withoutTorrent = withoutTorrent
    }

    /// Blobs downloaded over plain HTTP, in order.
    var httpDownloads: [Digest] { log.withLockedValue { $0.http } }
    /// Where each HTTP download of a blob started (0: the whole blob), in order.
    var httpOffsets: [Digest: [Int64]] { log.withLockedValue { $0.offsets } }
    /// Blobs whose torrent was asked for.
    var torrentRequests: [Digest] { log.withLockedValue { $0.torrents } }

    func listImages() async throws -> [ImageSummary] { [] }

    func resolve(_ reference: ImageReference) async throws -> ResolvedImage {
        guard reference.name == image.reference.name else { throw DocketError.imageNotFound(reference, registry: "fake") }
        return image
    }

    func torrent(for blob: Digest, repository: String) async throws -> Data {
        log.withLockedValue { $0.torrents.append(blob) }
        if withoutTorrent.contains(blob) { throw DocketError.torrentUnavailable(blob) }
        guard blobs[blob] != nil else { throw DocketError.blobNotFound(blob, registry: "fake") }
        return FakeTorrentSeeder.torrent(for: blob)
    }

    func downloadBlob(_ digest: Digest, repository: String, to path: String,
                      progress: @escaping @Sendable (Int64) -> Void) async throws {
        _ = try await downloadBlob(digest, repository: repository, to: path, resumingAt: 0, progress: { held, _ in progress(held) })
    }

    /// Serves the rest of the blob after `offset`, as a registry that answers `Range` does.
    func downloadBlob(_ digest: Digest, repository: String, to path: String, resumingAt offset: Int64,
                      progress: @escaping @Sendable (_ held: Int64, _ from: Int64) -> Void) async throws -> Int64 {
        log.withLockedValue {
            $0.http.append(digest)
            $0.offsets[digest, default: []].append(offset)
        }
        guard let data = blobs[digest] else { throw DocketError.blobNotFound(digest, registry: "fake") }
        guard offset > 0, offset < data.count else {
            try data.write(to: URL(fileURLWithPath: path))
            progress(Int64(data.count), 0)
            return 0
        }
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        defer { try? handle.close() }
        try handle.truncate(atOffset: UInt64(offset))
        try handle.seekToEnd()
        try handle.write(contentsOf: data[Int(offset)...])
        progress(Int64(data.count), offset)
        return offset
    }

    func push(archiveAt path: String, as reference: ImageReference) async throws -> ResolvedImage { image }
}

/// Builds a `ResolvedImage` whose config and layers are the given byte strings.
enum FakeImage {
    static func make(_ name: String = "team/app:1.0", config: Data = Data(#"{"architecture":"amd64"}"#.utf8),
                     layers: [Data]) throws -> (ResolvedImage, [Digest: Data]) {
        var blobs: [Digest: Data] = [Digest.sha256(of: config): config]
        let descriptors = layers.map { bytes in
            let digest = Digest.sha256(of: bytes)
            blobs[digest] = bytes
            return Descriptor(mediaType: MediaType.ociLayerGzip, digest: digest, size: Int64(bytes.count))
        }
        let manifest = Manifest(config: Descriptor(mediaType: MediaType.ociConfig, digest: Digest.sha256(of: config), size: Int64(config.count)),
                                layers: descriptors)
        let bytes = try manifest.encoded()
        let image = ResolvedImage(reference: try ImageReference(parsing: name), manifest: manifest, manifestBytes: bytes,
                                  manifestDigest: Digest.sha256(of: bytes), manifestMediaType: MediaType.ociManifest)
        return (image, blobs)
    }
}
