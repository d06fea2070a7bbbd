import Foundation

/// Plain writes: a blob downloaded into a fresh `<directory>/<hex>.<uuid>` (HTTP downloads, and
/// torrent downloads while another writer holds the blob's partial file), renamed into the store
/// on commit. A downloader may keep companions beside it (`<hex>.<uuid>.docket-resume`).
///
/// The writing process holds an exclusive `flock` on the file from its creation until it commits
/// or cancels, so files whose writer died (a pull killed with SIGKILL) can be told from those of
/// live pulls, in this process or another: `removeAbandoned` takes the lock and removes what it
/// gets. A file is created under a name `removeAbandoned` ignores, locked, then renamed into
/// place, so it is never seen unlocked. Every function blocks: call them on a `Blocking` thread.
enum TemporaryBlob {
    /// Lock descriptors of the plain writes this process holds, by path.
    private static let held = LockedBox<[String: Int32]>([:])

    /// Creates the locked, empty file of a new plain write for `digest` in `directory` (made if missing).
    static func begin(_ digest: Digest, in directory: String) throws -> BlobWrite {
        try BlobFile.makeDirectory(directory)
        let id = UUID().uuidString
        let path = "\(directory)/\(digest.hex).\(id)"
        let unnamed = "\(directory)/.new-\(id)"
        let fd = open(unnamed, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw BlobFile.failure("create", unnamed) }
        guard flock(fd, LOCK_EX) == 0, rename(unnamed, path) == 0 else {
            let error = BlobFile.failure("create", path)
            unlink(unnamed)
            close(fd)
            throw error
        }
        held.withLockedValue { $0[path] = fd }
        return BlobWrite(digest: digest, path: path)
    }

    /// Lets go of the write's lock (after its file was renamed into the store or removed).
    static func release(_ path: String) {
        if let fd = held.withLockedValue({ $0.removeValue(forKey: path) }) { close(fd) }
    }

    /// Removes the plain writes in `directory` whose writer is gone (nobody holds their lock), with
    /// their companions, and companions whose write is gone. Writes of live pulls stay. Returns the
    /// names removed.
    @discardableResult
    static func removeAbandoned(in directory: String) -> [String] {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return [] }
        let writes = Set(entries.filter(isWriteName))
        var removed: [String] = []
        for write in writes {
            let path = "\(directory)/\(write)"
            let fd = open(path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { continue }
            defer { close(fd) }
            // Held by a live writer (or by this process: flock conflicts across descriptors).
            guard flock(fd, LOCK_EX | LOCK_NB) == 0 else { continue }
            if unlink(path) == 0 { removed.append(write) }
        }
        let remaining = Set(((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter(isWriteName))
        for entry in entries where !writes.contains(entry) {
            guard let write = writeName(ofCompanion: entry), !remaining.contains(write) else { continue }
            if unlink("\(directory)/\(entry)") == 0 { removed.append(entry) }
        }
        return removed
    }

    /// `<64 hex>.<UUID>`: the name `begin` gives.
    private static func isWriteName(_ name: String) -> Bool {
        let parts = name.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 2 && parts[0].count == 64 && parts[0].allSatisfy(\.isHexDigit) && UUID(uuidString: String(parts[1])) != nil
    }

    /// The write a companion `<64 hex>.<UUID>.<suffix>` belongs to; nil for other names.
    private static func writeName(ofCompanion name: String) -> String? {
        let parts = name.split(separator: ".", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3 else { return nil }
        let write = "\(parts[0]).\(parts[1])"
        return isWriteName(write) ? write : nil
    }
}
