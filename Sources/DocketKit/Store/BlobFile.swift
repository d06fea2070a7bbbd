import Foundation

/// File operations the image stores share. Every function blocks: call them on a `Blocking` thread.
package enum BlobFile {
    /// Flushes the file at `path` to disk and returns the sha256 of its bytes. The flush runs on a
    /// thread of its own while this one hashes, so a commit waits for the slower of the two rather
    /// than for both (8 pulls committing 100 MB each on one disk: 0.3-0.4 s each in the swarm lab).
    static func syncAndHash(_ path: String) throws -> Digest {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw failure("open", path) }
        defer { close(fd) }
        let synced = DispatchSemaphore(value: 0)
        let syncError = LockedBox<Int32>(0)
        let flusher = Thread {
            if fsync(fd) != 0 { syncError.withLockedValue { $0 = errno } }
            synced.signal()
        }
        flusher.name = "docket.store.fsync"
        flusher.start()
        let digest: Digest
        do {
            digest = try hash(fd, path: path)
        } catch {
            synced.wait()
            throw error
        }
        synced.wait()
        let code = syncError.withLockedValue { $0 }
        guard code == 0 else {
            errno = code
            throw failure("fsync", path)
        }
        return digest
    }

    /// Flushes the file at `path` to disk.
    static func sync(_ path: String) throws {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw failure("open", path) }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw failure("fsync", path) }
    }

    /// The sha256 of what `fd` holds from its current offset on.
    private static func hash(_ fd: Int32, path: String) throws -> Digest {
        var hasher = Hasher(.sha256)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
        defer { buffer.deallocate() }
        while true {
            let n = read(fd, buffer.baseAddress, buffer.count)
            if n < 0 {
                if errno == EINTR { continue }
                throw failure("read", path)
            }
            if n == 0 { break }
            hasher.update(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
        }
        return Digest(sha256Bytes: hasher.finalize())
    }

    /// Writes `data` to a fresh file in `directory`, flushes it and renames it to `path`,
    /// so readers see either the old file or the complete new one.
    static func writeAtomically(_ data: Data, to path: String, temporaryDirectory directory: String) throws {
        try makeDirectory(directory)
        try makeDirectory((path as NSString).deletingLastPathComponent)
        let temp = (directory as NSString).appendingPathComponent(UUID().uuidString)
        let fd = open(temp, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw failure("create", temp) }
        var ok = false
        defer {
            close(fd)
            if !ok { unlink(temp) }
        }
        try data.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = write(fd, raw.baseAddress! + offset, raw.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw failure("write", temp)
                }
                offset += n
            }
        }
        guard fsync(fd) == 0 else { throw failure("fsync", temp) }
        try rename(temp, to: path)
        ok = true
    }

    static func rename(_ from: String, to: String) throws {
        guard Foundation.rename(from, to) == 0 else { throw failure("rename to \(to)", from) }
    }

    /// Creates `path` and any missing parents; an error names the first directory that could not be
    /// made and the system's reason (Foundation's own text says only that the operation failed).
    static func makeDirectory(_ path: String) throws {
        var prefix = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") {
            prefix += "/" + component
            var info = stat()
            if stat(prefix, &info) == 0 {
                guard info.st_mode & S_IFMT == S_IFDIR else {
                    let what = prefix == path || prefix == "./" + path ? "it is" : "\(prefix) is"
                    throw DocketError.fileSystem(path: path, reason: "\(what) a file, not a directory: choose another location")
                }
                continue
            }
            if mkdir(prefix, 0o755) != 0 && errno != EEXIST { throw failure("creating directory", prefix) }
        }
    }

    /// `path` made absolute against the current directory, `~` expanded, `.` and `..` resolved.
    static func absolute(_ path: String) -> String {
        let expanded = (path as NSString).expandingTildeInPath
        let full = expanded.hasPrefix("/") ? expanded : (FileManager.default.currentDirectoryPath as NSString).appendingPathComponent(expanded)
        return (full as NSString).standardizingPath
    }

    static func exists(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0
    }

    static func contents(_ path: String) throws -> Data? {
        guard exists(path) else { return nil }
        do {
            return try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw translate(error, path: path)
        }
    }

    /// Creates an empty, uniquely named file for `digest` in `directory` (made if missing), locked
    /// until the write commits or cancels (see `TemporaryBlob`).
    static func beginWrite(_ digest: Digest, in directory: String) async throws -> BlobWrite {
        try await Blocking.run { try TemporaryBlob.begin(digest, in: directory) }
    }

    /// The resumable write for `digest` under `partialDirectory`, or, while another writer holds
    /// it, a plain write under `temporaryDirectory` (see `PartialBlob`).
    static func beginResumableWrite(_ digest: Digest, partialDirectory: String, temporaryDirectory: String) async throws -> BlobWrite {
        if let write = try await Blocking.run({ try PartialBlob.begin(digest, in: partialDirectory) }) { return write }
        return try await beginWrite(digest, in: temporaryDirectory)
    }

    /// Removes a write's file for good (committed elsewhere, or its bytes were wrong).
    static func discard(_ write: BlobWrite) {
        if write.isResumable { PartialBlob.remove(write.path) } else { removePlain(write.path) }
    }

    /// Abandons a write: a resumable one keeps its bytes for the next attempt.
    static func abandon(_ write: BlobWrite) {
        if write.isResumable { PartialBlob.release(write.path) } else { removePlain(write.path) }
    }

    /// Removes a plain write's file, then lets go of its lock.
    private static func removePlain(_ path: String) {
        unlink(path)
        TemporaryBlob.release(path)
    }

    /// The error for the current `errno`: a full disk is `DocketError.diskFull`, anything else names the operation.
    static func failure(_ operation: String, _ path: String) -> DocketError {
        let code = errno
        if code == ENOSPC || code == EDQUOT { return .diskFull(path: path) }
        return .fileSystem(path: path, reason: "\(operation) failed: \(String(cString: strerror(code))); \(advice(for: path))")
    }

    /// Maps Foundation's file errors the same way as `failure`.
    static func translate(_ error: Error, path: String) -> Error {
        if error is DocketError { return error }
        let ns = error as NSError
        let underlying = ns.userInfo[NSUnderlyingErrorKey] as? NSError
        let posix = ns.domain == NSPOSIXErrorDomain ? ns.code : (underlying?.domain == NSPOSIXErrorDomain ? underlying!.code : 0)
        if posix == Int(ENOSPC) || posix == Int(EDQUOT) || ns.code == CocoaError.fileWriteOutOfSpace.rawValue {
            return DocketError.diskFull(path: path)
        }
        if posix == 0, let file = fileInPath(path) {
            // Foundation's own text ("The operation could not be completed...") says nothing more.
            return DocketError.fileSystem(path: path, reason: "\(file) is a file, not a directory: choose another location")
        }
        let reason = posix != 0 ? String(cString: strerror(Int32(posix))) : ns.localizedDescription
        return DocketError.fileSystem(path: path, reason: "\(reason); \(advice(for: path))")
    }

    /// What to check, naming the first part of `path` that exists but is not a directory.
    static func advice(for path: String) -> String {
        if let file = fileInPath(path) { return "\(file) is a file, not a directory: choose another location" }
        return "check that the directory exists, is writable and has space"
    }

    /// The first proper prefix of `path` that exists and is not a directory.
    package static func fileInPath(_ path: String) -> String? {
        var prefix = ""
        for component in path.split(separator: "/").dropLast() {
            prefix += "/" + component
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: prefix, isDirectory: &isDirectory), !isDirectory.boolValue {
                return prefix
            }
        }
        return nil
    }
}
