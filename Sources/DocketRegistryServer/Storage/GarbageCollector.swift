import DocketKit
import DocketTorrent
import Foundation

/// Offline garbage collection of a registry data directory (`docket-cli gc`): mark every blob
/// that a manifest linked by some repository references, sweep the rest (files, metadata rows,
/// cached torrents), and drop manifests no repository links. Holds the directory's lock, so it
/// refuses to run while a registry serves the directory. Blobs uploaded but not yet referenced
/// by a pushed manifest are unreferenced too: run it with the registry stopped.
public enum GarbageCollector {
    /// What one collection removed (or would remove, on a dry run).
    public struct Report: Sendable, Hashable, Codable {
        /// Blobs removed, sorted.
        public var removedBlobs: [Digest]
        /// Bytes of the removed blobs.
        public var freedBytes: Int64
        /// Manifests no repository linked any more.
        public var removedManifests: Int
        /// Blobs still referenced.
        public var keptBlobs: Int
    }

    /// Collects garbage in the registry data directory at `dataDirectory`. Blocking.
    /// - Parameters:
    ///   - dryRun: report without deleting anything.
    ///   - whitelist: an external tracker's whitelist the registry keeps (`serve --tracker-whitelist`):
    ///     the info-hashes of the collected blobs' torrents are taken out of it, and the tracker
    ///     is told to reload it.
    public static func collect(dataDirectory: String, dryRun: Bool = false, whitelist: TrackerWhitelist? = nil,
                               logger: Logger = .silent) throws -> Report {
        guard FileManager.default.fileExists(atPath: dataDirectory + "/registry.sqlite") else {
            throw RegistryServerError.storage(path: dataDirectory, reason: "no registry.sqlite here; point --data at a registry's data directory")
        }
        if !dryRun { try whitelist?.check() }
        let store = try BlobStore(root: dataDirectory)
        defer { store.unlock() }
        let metadata = try RegistryMetadata(path: dataDirectory + "/registry.sqlite")

        var referenced: Set<Digest> = []
        for manifest in try metadata.linkedManifests() {
            guard let parsed = try? PushedManifest.parse(manifest.bytes, contentType: manifest.mediaType) else {
                logger.warning("unreadable manifest kept with its blobs unknown", ["manifest.digest": manifest.digest.description])
                continue
            }
            referenced.formUnion(parsed.blobs.map(\.digest))
        }
        var known: [Digest: Int64] = [:]
        for (digest, size) in try metadata.allBlobs() { known[digest] = size }
        // Files without a metadata row: a crash between the rename and the record.
        for digest in storedBlobFiles(store) where known[digest] == nil {
            known[digest] = (try? FileManager.default.attributesOfItem(atPath: store.path(of: digest))[.size] as? NSNumber)?.int64Value ?? 0
        }
        let garbage = known.keys.filter { !referenced.contains($0) }.sorted()
        var report = Report(removedBlobs: garbage, freedBytes: garbage.reduce(0) { $0 + (known[$1] ?? 0) },
                            removedManifests: 0, keptBlobs: known.count - garbage.count)
        if dryRun { return report }
        report.removedManifests = try metadata.removeUnlinkedManifests()
        var unlisted: Set<InfoHash> = []
        for digest in garbage {
            try metadata.removeBlob(digest)
            store.remove(digest)
            let torrent = "\(dataDirectory)/torrents/\(digest.hex).torrent"
            if let bytes = FileManager.default.contents(atPath: torrent), let metainfo = try? Metainfo.parse([UInt8](bytes)) {
                unlisted.insert(metainfo.infoHash)
            }
            unlink(torrent)
            logger.info("blob collected", ["blob.digest": digest.description])
        }
        if let whitelist, !unlisted.isEmpty {
            try whitelist.write(try whitelist.read().subtracting(unlisted))
        }
        return report
    }

    private static func storedBlobFiles(_ store: BlobStore) -> [Digest] {
        let root = store.root + "/blobs/sha256"
        var digests: [Digest] = []
        for prefix in (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? [] {
            for name in (try? FileManager.default.contentsOfDirectory(atPath: root + "/" + prefix)) ?? [] {
                if let digest = try? Digest(parsing: "sha256:" + name) { digests.append(digest) }
            }
        }
        return digests
    }
}
