import Foundation

/// Resumable writes: a blob downloaded in place at `<directory>/<hex>`, kept when the pull is
/// interrupted so the next pull of the same digest carries on (the torrent engine keeps its resume
/// file beside it as `<hex>.docket-resume`).
///
/// One writer at a time: the writer holds an exclusive `flock` on `<directory>/<hex>.lock` until it
/// commits or cancels. A second writer (another process pulling into the same store, or a second
/// pull of the blob in this one) does not wait: `begin` answers nil and the caller downloads into a
/// fresh temporary file instead, so it never shares bytes with a writer it cannot see.
/// Every function blocks: call them on a `Blocking` thread.
enum PartialBlob {
    /// Lock descriptors of the partial writes this process holds, by partial path.
    private static let held = LockedBox<[String: Int32]>([:])

    /// Locks and returns the partial write for `digest` (creating an empty file if there is none);
    /// nil when another writer holds it.
    static func begin(_ digest: Digest, in directory: String) throws -> BlobWrite? {
        try BlobFile.makeDirectory(directory)
        let path = "\(directory)/\(digest.hex)"
        let lockPath = path + ".lock"
        // A writer that commits removes the lock file: a lock taken on a removed file is stale, retry.
        for _ in 0..<8 {
            let fd = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
            guard fd >= 0 else { throw errno == EISDIR ? inTheWay(lockPath, digest) : BlobFile.failure("create", lockPath) }
            guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
                let code = errno
                close(fd)
                if code == EWOULDBLOCK { return nil }
                errno = code
                throw BlobFile.failure("lock", lockPath)
            }
            var opened = stat(), current = stat()
            guard fstat(fd, &opened) == 0, stat(lockPath, &current) == 0, opened.st_ino == current.st_ino else {
                close(fd)
                continue
            }
            let data = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0o644)
            guard data >= 0 else {
                let error = errno == EISDIR ? inTheWay(path, digest) : BlobFile.failure("create", path)
                close(fd)
                throw error
            }
            close(data)
            held.withLockedValue { $0[path] = fd }
            return BlobWrite(digest: digest, path: path, isResumable: true)
        }
        return nil
    }

    /// A directory where the partial file (or its lock) belongs: the store did not make it, and
    /// removing it is safe (its bytes are at most a download to redo).
    private static func inTheWay(_ path: String, _ digest: Digest) -> DocketError {
        .fileSystem(path: path, reason: "is a directory where the partial download of \(digest) belongs; "
                    + "remove it (rm -r '\(path)') and pull again")
    }

    /// After `digest` was committed through another write: a partial of it left by an earlier
    /// attempt (nobody writing it) is no longer needed.
    static func dropLeftover(_ digest: Digest, in directory: String) {
        guard BlobFile.exists("\(directory)/\(digest.hex)"), let write = try? begin(digest, in: directory) else { return }
        remove(write.path)
    }

    /// Removes partial downloads (with their companions) that nobody writes and that have not
    /// changed for `age` seconds: a pull interrupted long ago whose image nobody pulled again would
    /// otherwise keep its bytes for good.
    static func removeStale(in directory: String, olderThan age: TimeInterval) {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return }
        let cutoff = Date().timeIntervalSince1970 - age
        for name in entries where name.count == 64 && name.allSatisfy(\.isHexDigit) {
            var info = stat()
            guard stat("\(directory)/\(name)", &info) == 0, Double(info.st_mtim.tv_sec) < cutoff,
                  let digest = try? Digest(parsing: "sha256:\(name)") else { continue }
            dropLeftover(digest, in: directory)
        }
    }

    /// Lets go of the write, keeping its bytes for the next `begin` (cancelled or interrupted).
    static func release(_ path: String) {
        if let fd = held.withLockedValue({ $0.removeValue(forKey: path) }) { close(fd) }
    }

    /// Removes the partial file (if still there), its companions `<hex>.*` and the lock, then lets
    /// go: committed, or its bytes proved wrong.
    static func remove(_ path: String) {
        let directory = (path as NSString).deletingLastPathComponent
        let name = (path as NSString).lastPathComponent
        unlink(path)
        let companions = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        for entry in companions where entry.hasPrefix(name + ".") && entry != name + ".lock" {
            unlink("\(directory)/\(entry)")
        }
        unlink(path + ".lock")
        release(path)
    }
}
