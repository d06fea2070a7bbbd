import DocketKit
import DocketTorrent
import Foundation

/// The torrent of each large blob: made once (deterministic, private, no announce), cached under
/// `<data>/torrents/<hex>.torrent` so restarts do not rehash, and seeded by the registry's seeder.
final class BlobTorrents: Sendable {
    let directory: String
    let threshold: Int64
    private let store: BlobStore
    private let seeder: (any BlobSeeding)?
    private let logger: Logger
    private let creation = NSLock()

    private struct State {
        var metainfo: [Digest: Metainfo] = [:]
        var seeded: [InfoHash: Digest] = [:]
    }
    private let state = LockedBox(State())

    init(directory: String, threshold: Int64, store: BlobStore, seeder: (any BlobSeeding)?, logger: Logger) throws {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw RegistryServerError.io(path: directory, reason: "cannot create the directory: \(error.localizedDescription)")
        }
        self.directory = directory
        self.threshold = threshold
        self.store = store
        self.seeder = seeder
        self.logger = logger
    }

    /// The seeder's port, when seeding is on.
    var seederPort: UInt16? { seeder?.listenPort }

    /// True when this registry seeds the torrent with that info-hash.
    func isSeeded(_ infoHash: InfoHash) -> Bool {
        state.withLockedValue { $0.seeded[infoHash] != nil }
    }

    /// The metainfo of a stored blob of `size` bytes: from memory, from the disk cache, or made
    /// now (hashing the blob; blocking). Nil for blobs under the threshold.
    func metainfo(for digest: Digest, size: Int64) throws -> Metainfo? {
        guard size >= threshold else { return nil }
        if let cached = state.withLockedValue({ $0.metainfo[digest] }) { return cached }
        creation.lock()
        defer { creation.unlock() }
        if let cached = state.withLockedValue({ $0.metainfo[digest] }) { return cached }
        let cachePath = "\(directory)/\(digest.hex).torrent"
        var metainfo: Metainfo?
        if let bytes = FileManager.default.contents(atPath: cachePath),
           let parsed = try? Metainfo.parse([UInt8](bytes)), parsed.name == digest.hex, parsed.totalLength == size {
            metainfo = parsed
        }
        if metainfo == nil {
            let made = try Metainfo.create(fileAt: store.path(of: digest), name: digest.hex, isPrivate: true, announce: nil, urlList: [])
            let temp = cachePath + ".tmp"
            if FileManager.default.createFile(atPath: temp, contents: Data(made.encoded())), rename(temp, cachePath) == 0 {
                logger.debug("torrent created", ["blob.digest": digest.description, "torrent.infohash": made.infoHash.hex])
            } else {
                logger.warning("cannot cache torrent", ["file.path": cachePath])
            }
            metainfo = made
        }
        let result = metainfo!
        state.withLockedValue { $0.metainfo[digest] = result }
        return result
    }

    /// Makes the blob's torrent (if it is large enough) and starts seeding it once.
    func seed(_ digest: Digest, size: Int64) throws {
        guard let metainfo = try metainfo(for: digest, size: size), let seeder else { return }
        let isNew = state.withLockedValue { s in
            guard s.seeded[metainfo.infoHash] == nil else { return false }
            s.seeded[metainfo.infoHash] = digest
            return true
        }
        guard isNew else { return }
        do {
            try seeder.seed(metainfo, path: store.path(of: digest))
            logger.info("seeding blob", ["blob.digest": digest.description, "torrent.infohash": metainfo.infoHash.hex])
        } catch {
            state.withLockedValue { _ = $0.seeded.removeValue(forKey: metainfo.infoHash) }
            throw error
        }
    }

    /// Makes and seeds the torrents of `blobs` on a thread of its own (hashing takes a while for
    /// big layers); a torrent asked for before it is ready is made on demand.
    func seedInBackground(_ blobs: [Digest: Int64]) {
        let large = blobs.filter { $0.value >= threshold }
        guard !large.isEmpty else { return }
        let thread = Thread { [self] in
            for (digest, size) in large.sorted(by: { $0.key < $1.key }) {
                do {
                    try seed(digest, size: size)
                } catch {
                    logger.warning("cannot seed blob", ["blob.digest": digest.description, "error": "\(error)"])
                }
            }
        }
        thread.name = "docket.registry-seed"
        thread.start()
    }

    /// The torrent as served to a client: the cached info with announce and web seed filled in.
    /// Seeding starts first if it has not yet, so a client that has the torrent finds the seeder.
    func servedTorrent(for digest: Digest, size: Int64, announce: String, webSeed: String) throws -> [UInt8]? {
        guard let metainfo = try metainfo(for: digest, size: size) else { return nil }
        do {
            try seed(digest, size: size)
        } catch {
            logger.warning("cannot seed blob", ["blob.digest": digest.description, "error": "\(error)"])
        }
        return metainfo.with(announce: announce, announceList: [], urlList: [webSeed]).encoded()
    }

    func shutdown() { seeder?.shutdown() }
}
