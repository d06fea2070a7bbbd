import DocketKit
import DocketTorrent
import Foundation

/// The torrent of each large blob: made once (deterministic, private, no announce), cached under
/// `<data>/torrents/<hex>.torrent` so restarts do not rehash, and seeded by the registry's seeder.
/// With an external tracker the seeder announces there, and a `TrackerWhitelist` (when given)
/// lists the info-hash of every torrent made, rewritten each time one is added.
final class BlobTorrents: Sendable {
    let directory: String
    let threshold: Int64
    private let store: BlobStore
    private let seeder: (any BlobSeeding)?
    private let externalTracker: String?
    private let whitelist: TrackerWhitelist?
    private let logger: Logger
    private let creation = NSLock()
    private let publishing = NSLock()

    private struct State {
        var metainfo: [Digest: Metainfo] = [:]
        var seeded: [InfoHash: Digest] = [:]
        /// What the whitelist file holds now (nil before the first write).
        var published: Set<InfoHash>?
    }
    private let state = LockedBox(State())

    init(directory: String, threshold: Int64, store: BlobStore, seeder: (any BlobSeeding)?, externalTracker: String? = nil,
         whitelist: TrackerWhitelist? = nil, logger: Logger) throws {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw RegistryServerError.io(path: directory, reason: "cannot create the directory: \(error.localizedDescription)")
        }
        self.directory = directory
        self.threshold = threshold
        self.store = store
        self.seeder = seeder
        self.externalTracker = externalTracker
        self.whitelist = whitelist
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

    /// Makes the blob's torrent (if it is large enough), lists it in the whitelist (unless
    /// `publish` is false: the caller publishes once for many) and starts seeding it once.
    func seed(_ digest: Digest, size: Int64, publish: Bool = true) throws {
        guard let metainfo = try metainfo(for: digest, size: size) else { return }
        if publish { publishWhitelistLogged() }
        guard let seeder else { return }
        let isNew = state.withLockedValue { s in
            guard s.seeded[metainfo.infoHash] == nil else { return false }
            s.seeded[metainfo.infoHash] = digest
            return true
        }
        guard isNew else { return }
        do {
            // With an external tracker the seeder announces there: pullers find it only through that tracker.
            let announced = externalTracker.map { metainfo.with(announce: $0, announceList: [], urlList: []) } ?? metainfo
            try seeder.seed(announced, path: store.path(of: digest))
            logger.info("seeding blob", ["blob.digest": digest.description, "torrent.infohash": metainfo.infoHash.hex])
        } catch {
            state.withLockedValue { _ = $0.seeded.removeValue(forKey: metainfo.infoHash) }
            throw error
        }
    }

    /// Makes the torrents of every stored blob (at start), writes the whitelist once, then seeds
    /// them: the seeder's first announces to a whitelisting tracker find its hashes listed.
    /// - Throws: `TrackerWhitelistError` when the whitelist cannot be written or the tracker not
    ///   signalled; a blob whose torrent cannot be made or seeded is logged and skipped.
    func seedAll(_ blobs: [(Digest, Int64)]) throws {
        var made: [(Digest, Int64)] = []
        for (digest, size) in blobs {
            do {
                if try metainfo(for: digest, size: size) != nil { made.append((digest, size)) }
            } catch {
                logger.warning("cannot make the torrent of a stored blob", ["blob.digest": digest.description, "error": "\(error)"])
            }
        }
        try publishWhitelist()
        for (digest, size) in made {
            do {
                try seed(digest, size: size, publish: false)
            } catch {
                logger.warning("cannot seed stored blob", ["blob.digest": digest.description, "error": "\(error)"])
            }
        }
    }

    /// Writes the whitelist when the set of torrents changed since the last write, then signals
    /// the tracker. Writes are serialised; each writes the newest set.
    func publishWhitelist() throws {
        guard let whitelist else { return }
        publishing.lock()
        defer { publishing.unlock() }
        let (current, published) = state.withLockedValue { s in (Set(s.metainfo.values.map(\.infoHash)), s.published) }
        guard current != published else { return }
        try whitelist.write(current)
        state.withLockedValue { $0.published = current }
        logger.info("tracker whitelist written", ["file.path": whitelist.path, "torrent.count": "\(current.count)"])
    }

    /// `publishWhitelist`, logging a failure: a push or a download goes on without it.
    private func publishWhitelistLogged() {
        do {
            try publishWhitelist()
        } catch {
            logger.warning("cannot update the tracker whitelist", ["error": "\(error)"])
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
