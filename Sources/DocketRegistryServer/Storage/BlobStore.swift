import DocketKit
import Foundation

/// Content-addressed blob files. The registry's data directory:
///
/// ```
/// <data>/
///   registry.lock                    flock'd by the running registry: one process per directory
///   registry.sqlite (+ -wal, -shm)   metadata (RegistryMetadata)
///   blobs/sha256/<ab>/<abcdef…>      blobs by the hex of their sha256, <ab> = first two hex digits;
///                                    immutable once renamed into place
///   torrents/<hex>.torrent           cached metainfo (no announce) of blobs >= the small-blob threshold
///   tmp/                             request bodies and blobs being written; emptied at start
///   uploads/<uuid>                   data of an OCI blob upload session (UploadSessions); expires,
///                                    emptied at start
/// ```
///
/// A blob is written to `tmp/`, fsynced, its sha256 checked, then renamed into place, so a
/// visible blob file is always complete and correct.
final class BlobStore: Sendable {
    let root: String
    var temporaryDirectory: String { root + "/tmp" }

    /// Result of storing one blob.
    struct Ingested: Sendable, Hashable {
        var digest: Digest
        var size: Int64
        /// False when an identical blob was already stored (the new copy was dropped).
        var created: Bool
    }

    /// The flock'd lock file, until `unlock()`.
    private let lockFD = LockedBox<Int32>(-1)

    /// Opens (creating if needed) the store under `root` and locks the directory against a second registry.
    init(root: String) throws {
        self.root = root
        for dir in [root + "/blobs/sha256", root + "/tmp"] {
            do {
                try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            } catch {
                if let file = BlobFile.fileInPath(dir) {
                    // Foundation's own text here is "NSCocoaErrorDomain error 512".
                    throw RegistryServerError.storage(path: file, reason: "it is a file, not a directory: give the data directory a path that is a directory or does not exist yet")
                }
                throw RegistryServerError.io(path: dir, reason: "cannot create the directory: \(error.localizedDescription)")
            }
        }
        let lockPath = root + "/registry.lock"
        let fd = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw RegistryServerError.io(path: lockPath, reason: "cannot open the lock file: \(String(cString: strerror(errno)))")
        }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            close(fd)
            throw RegistryServerError.storage(path: root, reason: "another registry process is using this data directory; stop it or pick another --data")
        }
        lockFD.withLockedValue { $0 = fd }
    }

    deinit { unlock() }

    /// Lets another registry open this directory (called when the registry stops).
    func unlock() {
        lockFD.withLockedValue { fd in
            if fd >= 0 { close(fd) }
            fd = -1
        }
    }

    /// Removes leftovers of interrupted uploads.
    func clearTemporaryFiles() {
        for name in (try? FileManager.default.contentsOfDirectory(atPath: temporaryDirectory)) ?? [] {
            try? FileManager.default.removeItem(atPath: temporaryDirectory + "/" + name)
        }
    }

    func path(of digest: Digest) -> String {
        "\(root)/blobs/sha256/\(digest.hex.prefix(2))/\(digest.hex)"
    }

    func exists(_ digest: Digest) -> Bool {
        FileManager.default.fileExists(atPath: path(of: digest))
    }

    /// Stores the bytes `produce` feeds to its sink, checking them against `expected` when given.
    /// Throws `RegistryError(.digestInvalid)` on a mismatch; never leaves a partial blob visible.
    func ingest(expected: Digest?, _ produce: (_ sink: (UnsafeRawBufferPointer) throws -> Void) throws -> Void) throws -> Ingested {
        var template = Array("\(temporaryDirectory)/blob-XXXXXX".utf8CString)
        let fd = mkstemp(&template)
        guard fd >= 0 else { throw storageError(temporaryDirectory, "cannot create a temporary file") }
        let tempPath = cString(template)
        var placed = false
        defer {
            if !placed { unlink(tempPath) }   // once renamed, the name may belong to another upload
        }
        var hasher = Hasher(.sha256)
        var size: Int64 = 0
        do {
            defer { close(fd) }
            try produce { chunk in
                hasher.update(chunk)
                var offset = 0
                while offset < chunk.count {
                    let written = write(fd, chunk.baseAddress! + offset, chunk.count - offset)
                    if written < 0 {
                        if errno == EINTR { continue }
                        throw storageError(tempPath, "write failed")
                    }
                    offset += written
                }
                size += Int64(chunk.count)
            }
            guard fsync(fd) == 0 else { throw storageError(tempPath, "fsync failed") }
        }
        let digest = Digest(sha256Bytes: hasher.finalize())
        if let expected, expected != digest {
            throw RegistryError(.digestInvalid, detail: "expected \(expected), content hashes to \(digest)")
        }
        placed = try place(tempPath, as: digest)
        return Ingested(digest: digest, size: size, created: placed)
    }

    /// Commits a complete file already on this file system (an upload session's data or a request
    /// body): hashes it, checks `expected`, fsyncs it and links it into place. The file at `path`
    /// itself is left where it is (the caller removes it). Throws `RegistryError(.digestInvalid)`
    /// on a mismatch and then stores nothing.
    func commit(fileAt path: String, expected: Digest?) throws -> Ingested {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw storageError(path, "cannot open the upload") }
        defer { close(fd) }
        var hasher = Hasher(.sha256)
        var size: Int64 = 0
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw storageError(path, "read failed")
            }
            if count == 0 { break }
            buffer.withUnsafeBytes { hasher.update(UnsafeRawBufferPointer(rebasing: $0[..<count])) }
            size += Int64(count)
        }
        let digest = Digest(sha256Bytes: hasher.finalize())
        if let expected, expected != digest {
            throw RegistryError(.digestInvalid, detail: "expected \(expected), the uploaded \(size) bytes hash to \(digest)")
        }
        guard fsync(fd) == 0 else { throw storageError(path, "fsync failed") }
        // A second name for the same inode, made in tmp/ and then renamed: the final name appears atomically.
        var template = Array("\(temporaryDirectory)/commit-XXXXXX".utf8CString)
        let tfd = mkstemp(&template)
        guard tfd >= 0 else { throw storageError(temporaryDirectory, "cannot create a temporary file") }
        close(tfd)
        let tempPath = cString(template)
        unlink(tempPath)
        guard link(path, tempPath) == 0 else { throw storageError(tempPath, "cannot link the upload") }
        var placed = false
        defer {
            if !placed { unlink(tempPath) }
        }
        placed = try place(tempPath, as: digest)
        return Ingested(digest: digest, size: size, created: placed)
    }

    /// Renames a complete, verified, fsynced temporary file to the blob's final name, unless an
    /// identical blob is already there. Returns true when this call created the blob.
    private func place(_ tempPath: String, as digest: Digest) throws -> Bool {
        let final = path(of: digest)
        if FileManager.default.fileExists(atPath: final) { return false }
        let directory = (final as NSString).deletingLastPathComponent
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        guard rename(tempPath, final) == 0 else { throw storageError(final, "cannot move the blob into place") }
        Self.syncDirectory(directory)
        return true
    }

    func remove(_ digest: Digest) {
        unlink(path(of: digest))
    }

    private static func syncDirectory(_ path: String) {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return }
        fsync(fd)
        close(fd)
    }

    private func storageError(_ path: String, _ what: String) -> Error {
        let code = errno
        if code == ENOSPC { return RegistryError(.storageFull, detail: "no space left while writing \(path)") }
        return RegistryServerError.io(path: path, reason: "\(what): \(String(cString: strerror(code)))")
    }
}
