import DocketKit
import Foundation

/// Turns an uploaded image archive into stored blobs, a generated OCI manifest and a tag.
/// All or nothing: on any failure the blobs this push newly created are removed and no metadata
/// is written. Pushes run one at a time, so "newly created" is never shared with another push.
final class RegistryPush: Sendable {
    private let store: BlobStore
    private let metadata: RegistryMetadata
    private let logger: Logger
    private let serial = NSLock()

    struct Result: Sendable {
        var record: PushRecord
        var manifest: Manifest
    }

    init(store: BlobStore, metadata: RegistryMetadata, logger: Logger) {
        self.store = store
        self.metadata = metadata
        self.logger = logger
    }

    /// Stores the image in the archive at `archivePath` as `name:tag`. Blocking.
    func push(archivePath: String, name: String, tag: String) throws -> Result {
        serial.lock()
        defer { serial.unlock() }
        var created: [Digest] = []
        do {
            let result = try ingest(archivePath: archivePath, name: name, tag: tag, created: &created)
            try metadata.record(result.record)
            logger.info("image pushed", ["image.name": name, "image.tag": tag, "manifest.digest": result.record.manifest.digest.description])
            return result
        } catch {
            // Keep a blob an OCI upload recorded meanwhile (it found the file and did not store its own).
            for digest in created where (try? metadata.blobSize(digest)) == nil { store.remove(digest) }
            logger.info("push failed", ["image.name": name, "image.tag": tag, "error": "\(error)"])
            throw error
        }
    }

    private func ingest(archivePath: String, name: String, tag: String, created: inout [Digest]) throws -> Result {
        let archive: ImageArchive
        do {
            archive = try ImageArchive.read(path: archivePath)
        } catch let error as DocketError {
            throw RegistryError(.archiveInvalid, detail: Self.reason(error))
        }
        let reader: TarReader
        do {
            reader = try TarReader(path: archivePath)
        } catch {
            throw RegistryError(.archiveInvalid, detail: "\(error)")
        }
        func store(_ member: ImageArchive.Member) throws -> BlobStore.Ingested {
            let ingested: BlobStore.Ingested
            do {
                ingested = try self.store.ingest(expected: member.claimedDigest) { sink in
                    try reader.read(offset: member.offset, length: member.size) { try sink($0) }
                }
            } catch let error as RegistryError where error.code == .digestInvalid {
                throw RegistryError(.digestInvalid, detail: "\(member.pathInArchive): \(error.detail ?? "")")
            } catch let error as TarError {
                throw RegistryError(.archiveInvalid, detail: error.description)
            }
            if ingested.created { created.append(ingested.digest) }
            return ingested
        }

        let config = try store(archive.config)
        var layers: [Descriptor] = []
        for layer in archive.layers {
            let ingested = try store(layer.member)
            layers.append(Descriptor(mediaType: layer.mediaType, digest: ingested.digest, size: ingested.size))
        }
        try Self.checkConfig(try archive.configData(), layers: layers)

        let manifest = Manifest(mediaType: MediaType.ociManifest,
                                config: Descriptor(mediaType: MediaType.ociConfig, digest: config.digest, size: config.size),
                                layers: layers)
        let bytes = try manifest.encoded()
        var blobs: [Digest: Int64] = [config.digest: config.size]
        for layer in layers { blobs[layer.digest] = layer.size }
        let record = PushRecord(
            repository: name, tag: tag,
            manifest: StoredManifest(digest: .sha256(of: bytes), mediaType: MediaType.ociManifest, bytes: bytes),
            imageSize: blobs.values.reduce(0, +), blobs: blobs)
        return Result(record: record, manifest: manifest)
    }

    /// The config must be a JSON object whose `rootfs.diff_ids` has one entry per layer; for
    /// uncompressed layers the diff id is the layer digest itself.
    static func checkConfig(_ data: Data, layers: [Descriptor]) throws {
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw RegistryError(.manifestInvalid, detail: "the image config is not a JSON object")
        }
        guard let rootfs = object["rootfs"] as? [String: Any], let diffIDs = rootfs["diff_ids"] as? [String] else {
            throw RegistryError(.manifestInvalid, detail: "the image config has no rootfs.diff_ids list")
        }
        guard diffIDs.count == layers.count else {
            throw RegistryError(.manifestInvalid, detail: "the config lists \(diffIDs.count) rootfs.diff_ids but the archive has \(layers.count) layers")
        }
        for (index, (diffID, layer)) in zip(diffIDs, layers).enumerated() where layer.mediaType == MediaType.ociLayer {
            guard diffID == layer.digest.description else {
                throw RegistryError(.manifestInvalid, detail: "layer \(index) hashes to \(layer.digest) but the config's diff_id is \(diffID)")
            }
        }
    }

    private static func reason(_ error: DocketError) -> String {
        if case .invalidArchive(_, let reason) = error { return reason }
        return error.description
    }
}
