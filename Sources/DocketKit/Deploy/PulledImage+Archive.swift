import Foundation

extension PulledImage {
    /// `name:tag` for `docker load`, or nil when the image was pulled by digest.
    public var repoTag: String? {
        resolved.reference.isDigest ? nil : resolved.reference.description
    }

    /// Writes the image as a `docker load` archive to `path`, streaming layers from the store.
    public func writeDockerLoadArchive(to path: String) async throws {
        let manifest = resolved.manifest
        guard let configPath = await store.path(of: manifest.config.digest) else {
            throw DocketError.blobNotFound(manifest.config.digest, registry: "the local store")
        }
        var layers: [ImageArchive.LayerFile] = []
        for layer in manifest.layers {
            guard let layerPath = await store.path(of: layer.digest) else {
                throw DocketError.blobNotFound(layer.digest, registry: "the local store")
            }
            layers.append(ImageArchive.LayerFile(path: layerPath, digest: layer.digest))
        }
        let (repoTag, layerFiles) = (self.repoTag, layers)
        try await Blocking.run(name: "docket.archive") {
            // Write beside the target and rename at the end: a failure removes only our own
            // partial file, never what was at `path` before.
            let partial = path + ".docket-partial-\(UUID().uuidString.prefix(8))"
            do {
                let config = try Data(contentsOf: URL(fileURLWithPath: configPath))
                try ImageArchive.writeDockerLoadArchive(config: config, layers: layerFiles, repoTag: repoTag, toFileAt: partial)
                guard rename(partial, path) == 0 else {
                    throw DocketError.fileSystem(path: path, reason: String(cString: strerror(errno)))
                }
            } catch {
                unlink(partial)
                throw BlobFile.translate(error, path: path)
            }
        }
    }
}
