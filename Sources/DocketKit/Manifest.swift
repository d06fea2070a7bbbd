import Foundation

/// Media types Docket reads and writes.
public enum MediaType {
    public static let ociManifest = "application/vnd.oci.image.manifest.v1+json"
    public static let ociIndex = "application/vnd.oci.image.index.v1+json"
    public static let ociConfig = "application/vnd.oci.image.config.v1+json"
    public static let ociLayer = "application/vnd.oci.image.layer.v1.tar"
    public static let ociLayerGzip = "application/vnd.oci.image.layer.v1.tar+gzip"
    public static let dockerManifest = "application/vnd.docker.distribution.manifest.v2+json"
    public static let dockerManifestList = "application/vnd.docker.distribution.manifest.list.v2+json"
    public static let dockerConfig = "application/vnd.docker.container.image.v1+json"
    public static let dockerLayer = "application/vnd.docker.image.rootfs.diff.tar"
    public static let dockerLayerGzip = "application/vnd.docker.image.rootfs.diff.tar.gzip"
    /// A blob's BitTorrent metainfo, as served by the registry.
    public static let torrent = "application/x-bittorrent"
}

/// A content descriptor: what a manifest says about one blob.
public struct Descriptor: Codable, Hashable, Sendable {
    public var mediaType: String
    public var digest: Digest
    public var size: Int64
    public var annotations: [String: String]?

    public init(mediaType: String, digest: Digest, size: Int64, annotations: [String: String]? = nil) {
        self.mediaType = mediaType
        self.digest = digest
        self.size = size
        self.annotations = annotations
    }
}

/// An image manifest (OCI image manifest or Docker v2 schema 2: the same shape).
public struct Manifest: Codable, Hashable, Sendable {
    public var schemaVersion: Int
    public var mediaType: String?
    public var config: Descriptor
    public var layers: [Descriptor]
    public var annotations: [String: String]?

    public init(mediaType: String = MediaType.ociManifest, config: Descriptor, layers: [Descriptor], annotations: [String: String]? = nil) {
        self.schemaVersion = 2
        self.mediaType = mediaType
        self.config = config
        self.layers = layers
        self.annotations = annotations
    }

    /// Canonical bytes Docket stores: sorted keys, no escaping of `/`, so the digest is reproducible.
    public func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(self)
    }

    public static func decode(_ data: Data) throws -> Manifest {
        try JSONDecoder().decode(Manifest.self, from: data)
    }
}

/// One row of `docket-cli images`.
public struct ImageSummary: Codable, Hashable, Sendable {
    public var name: String
    public var tag: String
    public var digest: Digest
    /// Config plus layers, in bytes.
    public var size: Int64
    /// When the tag was last pushed, ISO 8601.
    public var created: String

    public init(name: String, tag: String, digest: Digest, size: Int64, created: String) {
        self.name = name
        self.tag = tag
        self.digest = digest
        self.size = size
        self.created = created
    }
}

/// An image resolved by the registry: its manifest, the exact manifest bytes and their digest.
public struct ResolvedImage: Sendable {
    public var reference: ImageReference
    public var manifest: Manifest
    public var manifestBytes: Data
    public var manifestDigest: Digest
    public var manifestMediaType: String

    public init(reference: ImageReference, manifest: Manifest, manifestBytes: Data, manifestDigest: Digest, manifestMediaType: String) {
        self.reference = reference
        self.manifest = manifest
        self.manifestBytes = manifestBytes
        self.manifestDigest = manifestDigest
        self.manifestMediaType = manifestMediaType
    }
}
