import Foundation

extension ImageArchive {
    /// A layer file on disk and its digest (of the bytes as stored, compressed or not).
    public struct LayerFile: Sendable, Hashable {
        /// Where the layer bytes are.
        public var path: String
        /// The sha256 of those bytes; names the layer in the archive.
        public var digest: Digest

        /// Describes one layer file.
        public init(path: String, digest: Digest) {
            self.path = path
            self.digest = digest
        }
    }

    /// Writes a `docker load`-compatible tar to `handle`: `blobs/sha256/<hex>` for the config and
    /// each layer (a layer used twice is stored once), then manifest.json
    /// `[{"Config": "blobs/sha256/<hex>", "RepoTags": [repoTag], "Layers": ["blobs/sha256/<hex>", …]}]`.
    /// Layer bytes are streamed from their files; digests are trusted, not recomputed.
    public static func writeDockerLoadArchive(config: Data, layers: [LayerFile], repoTag: String?, to handle: FileHandle) throws {
        var writer = TarWriter(handle: handle)
        let configDigest = Digest.sha256(of: config)
        try writer.addDirectory(name: "blobs")
        try writer.addDirectory(name: "blobs/sha256")
        try writer.addFile(name: blobPath(configDigest), data: config)
        var written: Set<Digest> = [configDigest]
        for layer in layers where written.insert(layer.digest).inserted {
            try writer.addFile(name: blobPath(layer.digest), contentsOf: layer.path)
        }
        let entry: [String: Any] = [
            "Config": blobPath(configDigest),
            "RepoTags": repoTag.map { [$0] } ?? [],
            "Layers": layers.map { blobPath($0.digest) },
        ]
        let manifest = try JSONSerialization.data(withJSONObject: [entry], options: [.sortedKeys, .withoutEscapingSlashes])
        try writer.addFile(name: "manifest.json", data: manifest)
        try writer.finish()
    }

    /// Same as `writeDockerLoadArchive(config:layers:repoTag:to:)`, into a new file at `path`.
    public static func writeDockerLoadArchive(config: Data, layers: [LayerFile], repoTag: String?, toFileAt path: String) throws {
        guard FileManager.default.createFile(atPath: path, contents: nil) else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path])
        }
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        defer { try? handle.close() }
        try writeDockerLoadArchive(config: config, layers: layers, repoTag: repoTag, to: handle)
    }
}
