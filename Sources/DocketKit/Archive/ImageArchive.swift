import Foundation

/// An image inside a tar file: `docker save` output (manifest.json, old or OCI-era layout) or an
/// OCI image layout tar (oci-layout, index.json, blobs/sha256/…). Parsing reads only the JSON
/// members; config and layers are located by offset and size in the tar, never loaded.
public struct ImageArchive: Sendable, Hashable {
    /// Which layout the archive uses.
    public enum Format: Sendable, Hashable {
        /// `docker save`: manifest.json lists Config, RepoTags and Layers.
        case dockerSave
        /// OCI image layout: index.json -> manifest -> config and layers in blobs/sha256.
        case ociLayout
    }

    /// One member holding a blob: where its bytes are in the tar.
    public struct Member: Sendable, Hashable {
        /// Normalized member path (links resolved), e.g. `blobs/sha256/ab…`.
        public var pathInArchive: String
        /// Where the bytes start in the tar file.
        public var offset: Int64
        /// How many bytes.
        public var size: Int64
        /// The digest the archive claims (from a descriptor or a `blobs/sha256/<hex>` path). Verify it before trusting it.
        public var claimedDigest: Digest?

        /// Describes one member.
        public init(pathInArchive: String, offset: Int64, size: Int64, claimedDigest: Digest?) {
            self.pathInArchive = pathInArchive
            self.offset = offset
            self.size = size
            self.claimedDigest = claimedDigest
        }
    }

    /// A layer and the media type its first bytes imply (gzip magic `1f 8b` -> `tar+gzip`).
    public struct Layer: Sendable, Hashable {
        /// Where the layer is in the tar.
        public var member: Member
        /// `MediaType.ociLayer`, `ociLayerGzip` or the zstd variant.
        public var mediaType: String

        /// Describes one layer.
        public init(member: Member, mediaType: String) {
            self.member = member
            self.mediaType = mediaType
        }
    }

    /// The tar file this was read from.
    public var path: String
    /// The layout the archive uses.
    public var format: Format
    /// The image config JSON.
    public var config: Member
    /// Bottom layer first.
    public var layers: [Layer]
    /// Tags recorded in the archive (`RepoTags`, or OCI ref-name annotations); may be empty.
    public var repoTags: [String]

    /// Reads the image description from the tar at `path`. When the archive holds several
    /// images, takes the one tagged `repoTag`, else the first.
    /// Throws `DocketError.invalidArchive` naming the file and what is missing or malformed.
    public static func read(path: String, repoTag: String? = nil) throws -> ImageArchive {
        let reader: TarReader
        let entries: [TarEntry]
        do {
            reader = try TarReader(path: path)
            entries = try reader.entries()
        } catch let error as TarError {
            throw DocketError.invalidArchive(path: path, reason: error.reason + " at byte \(error.offset)")
        }
        let index = MemberIndex(path: path, entries: entries)
        if let manifest = index.entry("manifest.json") {
            return try readDockerSave(reader: reader, index: index, manifest: manifest, repoTag: repoTag)
        }
        if index.entry("index.json") != nil {
            return try readOCILayout(reader: reader, index: index, repoTag: repoTag)
        }
        throw DocketError.invalidArchive(path: path, reason: "neither manifest.json nor index.json found among \(entries.count) members")
    }

    /// The config JSON bytes (at most 16 MiB).
    public func configData() throws -> Data {
        let reader = try TarReader(path: path)
        guard config.size <= 16 << 20 else {
            throw DocketError.invalidArchive(path: path, reason: "config \(config.pathInArchive) is \(config.size) bytes, more than 16 MiB")
        }
        var out = Data()
        try reader.read(offset: config.offset, length: config.size) { out.append(contentsOf: $0) }
        return out
    }

    // MARK: - docker save

    private struct DockerManifestEntry: Decodable {
        var Config: String
        var RepoTags: [String]?
        var Layers: [String]
    }

    private static func readDockerSave(reader: TarReader, index: MemberIndex, manifest: TarEntry, repoTag: String?) throws -> ImageArchive {
        let path = reader.path
        let images: [DockerManifestEntry]
        do {
            images = try JSONDecoder().decode([DockerManifestEntry].self, from: try reader.data(of: manifest, maxSize: 16 << 20))
        } catch {
            throw DocketError.invalidArchive(path: path, reason: "manifest.json is not a list of {Config, RepoTags, Layers}: \(error)")
        }
        let chosen = repoTag.flatMap { tag in images.first { $0.RepoTags?.contains(tag) == true } } ?? images.first
        guard let image = chosen else {
            throw DocketError.invalidArchive(path: path, reason: "manifest.json lists no image")
        }
        let config = try index.member(image.Config, claimedDigest: nil)
        let layers = try image.Layers.map { name in
            let member = try index.member(name, claimedDigest: nil)
            return Layer(member: member, mediaType: try layerMediaType(reader: reader, member: member))
        }
        return ImageArchive(path: path, format: .dockerSave, config: config, layers: layers, repoTags: image.RepoTags ?? [])
    }

    // MARK: - OCI layout

    private struct OCIIndex: Decodable {
        var manifests: [OCIDescriptor]
    }

    private struct OCIDescriptor: Decodable {
        struct Platform: Decodable { var architecture: String?; var os: String? }
        var mediaType: String?
        var digest: Digest
        var size: Int64
        var annotations: [String: String]?
        var platform: Platform?

        var isAttestation: Bool { annotations?["vnd.docker.reference.type"] == "attestation-manifest" }
        var isIndex: Bool { mediaType == MediaType.ociIndex || mediaType == MediaType.dockerManifestList }
        var refName: String? { annotations?["io.containerd.image.name"] ?? annotations?["org.opencontainers.image.ref.name"] }
    }

    private struct OCIManifest: Decodable {
        var config: OCIDescriptor
        var layers: [OCIDescriptor]
    }

    private static func readOCILayout(reader: TarReader, index: MemberIndex, repoTag: String?) throws -> ImageArchive {
        let path = reader.path
        let top: OCIIndex = try decodeJSON(reader: reader, entry: index.entry("index.json")!, what: "index.json")
        let candidates = top.manifests.filter { !$0.isAttestation }
        let chosen = repoTag.flatMap { tag in candidates.first { $0.refName == tag || $0.refName?.hasSuffix(":" + tag) == true } } ?? candidates.first
        guard var descriptor = chosen else {
            throw DocketError.invalidArchive(path: path, reason: "index.json lists no image manifest")
        }
        let repoTags = top.manifests.compactMap(\.refName).filter { chosen?.refName == nil || $0 == chosen?.refName }
        // Follow nested indexes (multi-platform images) to this machine's platform, else the first image.
        var depth = 0
        while descriptor.isIndex {
            depth += 1
            guard depth <= 4 else { throw DocketError.invalidArchive(path: path, reason: "image indexes nested too deeply") }
            let nested: OCIIndex = try decodeJSON(reader: reader, entry: try index.blobEntry(descriptor.digest), what: "index \(descriptor.digest)")
            let images = nested.manifests.filter { !$0.isAttestation }
            guard let next = images.first(where: { $0.platform?.os == "linux" && $0.platform?.architecture == hostArchitecture }) ?? images.first else {
                throw DocketError.invalidArchive(path: path, reason: "index \(descriptor.digest) lists no image manifest")
            }
            descriptor = next
        }
        let manifest: OCIManifest = try decodeJSON(reader: reader, entry: try index.blobEntry(descriptor.digest), what: "manifest \(descriptor.digest)")
        let config = try index.member(blobPath(manifest.config.digest), claimedDigest: manifest.config.digest)
        let layers = try manifest.layers.map { layer in
            let member = try index.member(blobPath(layer.digest), claimedDigest: layer.digest)
            return Layer(member: member, mediaType: try layerMediaType(reader: reader, member: member))
        }
        return ImageArchive(path: path, format: .ociLayout, config: config, layers: layers, repoTags: repoTags)
    }

    private static var hostArchitecture: String {
        #if arch(arm64)
        "arm64"
        #else
        "amd64"
        #endif
    }

    private static func decodeJSON<T: Decodable>(reader: TarReader, entry: TarEntry, what: String) throws -> T {
        do {
            return try JSONDecoder().decode(T.self, from: try reader.data(of: entry, maxSize: 16 << 20))
        } catch {
            throw DocketError.invalidArchive(path: reader.path, reason: "\(what) is not valid: \(error)")
        }
    }

    static func blobPath(_ digest: Digest) -> String { "blobs/\(digest.algorithm)/\(digest.hex)" }

    // MARK: - Layers

    /// Media type from the first bytes: gzip (`1f 8b`), zstd (`28 b5 2f fd`) or plain tar.
    static func layerMediaType(reader: TarReader, member: Member) throws -> String {
        var head: [UInt8] = []
        try reader.read(offset: member.offset, length: min(4, member.size)) { head.append(contentsOf: $0) }
        if head.starts(with: [0x1f, 0x8b]) { return MediaType.ociLayerGzip }
        if head.starts(with: [0x28, 0xb5, 0x2f, 0xfd]) { return MediaType.ociLayer + "+zstd" }
        return MediaType.ociLayer
    }
}

/// Members by normalized name, with symlinks and hard links resolved.
private struct MemberIndex {
    let path: String
    let byName: [String: TarEntry]

    init(path: String, entries: [TarEntry]) {
        self.path = path
        var byName: [String: TarEntry] = [:]
        for entry in entries { byName[entry.normalizedName] = entry }
        self.byName = byName
    }

    func entry(_ name: String) -> TarEntry? { resolve(TarPath.normalize(name), hops: 0) }

    private func resolve(_ name: String, hops: Int) -> TarEntry? {
        guard hops < 8, let entry = byName[name] else { return nil }
        switch entry.kind {
        case .symlink:
            let base = name.split(separator: "/").dropLast().joined(separator: "/")
            let target = entry.linkName.hasPrefix("/") ? entry.linkName : (base.isEmpty ? "" : base + "/") + entry.linkName
            return resolve(Self.clean(target), hops: hops + 1)
        case .hardLink:
            return resolve(Self.clean(entry.linkName), hops: hops + 1)
        default:
            return entry
        }
    }

    /// Removes `.` and `..` components.
    static func clean(_ path: String) -> String {
        var parts: [Substring] = []
        for part in path.split(separator: "/") {
            if part == "." { continue }
            if part == ".." { _ = parts.popLast(); continue }
            parts.append(part)
        }
        return parts.joined(separator: "/")
    }

    func blobEntry(_ digest: Digest) throws -> TarEntry {
        guard let entry = entry(ImageArchive.blobPath(digest)), entry.kind == .file else {
            throw DocketError.invalidArchive(path: path, reason: "blob \(digest) is referenced but blobs/sha256/\(digest.hex) is missing")
        }
        return entry
    }

    func member(_ name: String, claimedDigest: Digest?) throws -> ImageArchive.Member {
        guard let entry = entry(name), entry.kind == .file else {
            throw DocketError.invalidArchive(path: path, reason: "member '\(name)' is referenced but missing or not a regular file")
        }
        let normalized = entry.normalizedName
        var claimed = claimedDigest
        if claimed == nil, normalized.hasPrefix("blobs/sha256/") {
            claimed = try? Digest(parsing: "sha256:" + normalized.dropFirst("blobs/sha256/".count))
        }
        return ImageArchive.Member(pathInArchive: normalized, offset: entry.dataOffset, size: entry.size, claimedDigest: claimed)
    }
}
