import DocketCore
import Foundation

/// OCI blob upload sessions (`POST /v2/<name>/blobs/uploads/` … `PUT ?digest=`). Each session's
/// bytes live in `<data>/uploads/<uuid>` on disk, never in memory; its state (repository,
/// size, last activity) in memory. A session untouched for `timeout` is removed by `sweep`;
/// the whole directory is emptied at start (`clear`), so a registry killed
/// mid-upload leaves nothing behind. Appends to one session are serialized; an append that
/// fails leaves the session as it was.
final class UploadSessions: Sendable {
    /// One upload as the router sees it.
    struct Session: Sendable, Hashable {
        var id: String
        var repository: String
        /// Bytes received so far (the next expected offset).
        var size: Int64
        var path: String
    }

    private struct Entry {
        var session: Session
        var lastActivity: Date
        var busy = false
    }

    let directory: String
    let timeout: TimeInterval
    private let now: @Sendable () -> Date
    private let entries = LockedBox<[String: Entry]>([:])

    init(directory: String, timeout: TimeInterval, now: @escaping @Sendable () -> Date = { Date() }) throws {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw RegistryServerError.io(path: directory, reason: "cannot create the directory: \(error.localizedDescription)")
        }
        self.directory = directory
        self.timeout = timeout
        self.now = now
    }

    /// Starts an empty upload for `repository`.
    func create(repository: String) throws -> Session {
        let id = UUID().uuidString.lowercased()
        let path = directory + "/" + id
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw RegistryServerError.io(path: path, reason: "cannot create the upload file: \(String(cString: strerror(errno)))")
        }
        close(fd)
        let session = Session(id: id, repository: repository, size: 0, path: path)
        let time = now()
        entries.withLockedValue { $0[id] = Entry(session: session, lastActivity: time) }
        return session
    }

    /// The live session `id` of `repository`; nil when unknown, expired or of another repository.
    func session(_ id: String, repository: String) -> Session? {
        entries.withLockedValue { entries in
            guard let entry = entries[id], entry.session.repository == repository else { return nil }
            return entry.session
        }
    }

    /// Appends the request body at `bodyPath` (`bodySize` bytes) to the session. `start`, from a
    /// `Content-Range`, must equal the session's size. Throws `RANGE_INVALID` (416, session
    /// unchanged) on a wrong offset or when another request is appending to the same session.
    func append(_ id: String, repository: String, bodyPath: String?, bodySize: Int64, start: Int64?) throws -> Session {
        let session = try withSessionReserved(id, repository: repository) { session in
            if let start, start != session.size {
                throw Self.rangeError("the chunk starts at byte \(start) but the upload has \(session.size) bytes", session: session)
            }
            return session
        }
        var result = session
        defer {
            entries.withLockedValue { entries in
                entries[id]?.busy = false
                entries[id]?.session.size = result.size
                entries[id]?.lastActivity = now()
            }
        }
        guard let bodyPath, bodySize > 0 else { return result }
        if session.size == 0 {
            // The first chunk: give the body file a second name instead of copying it.
            unlink(session.path)
            if link(bodyPath, session.path) == 0 {
                result.size = bodySize
                return result
            }
            let fd = open(session.path, O_WRONLY | O_CREAT | O_CLOEXEC, 0o600)
            if fd >= 0 { close(fd) }
        }
        try Self.copy(bodyPath, appendingTo: session.path, at: session.size)
        result.size = session.size + bodySize
        return result
    }

    /// Marks the session busy for a commit; the caller calls `remove` (success) or `release`.
    func reserve(_ id: String, repository: String) throws -> Session {
        try withSessionReserved(id, repository: repository) { $0 }
    }

    /// Ends a reservation without removing the session.
    func release(_ id: String) {
        entries.withLockedValue { $0[id]?.busy = false }
    }

    /// Forgets the session and deletes its data.
    func remove(_ id: String) {
        guard let entry = entries.withLockedValue({ $0.removeValue(forKey: id) }) else { return }
        unlink(entry.session.path)
    }

    /// Removes sessions idle for longer than `timeout`; returns their ids.
    @discardableResult
    func sweep() -> [String] {
        let limit = now().addingTimeInterval(-timeout)
        let expired = entries.withLockedValue { entries -> [Session] in
            let old = entries.values.filter { !$0.busy && $0.lastActivity < limit }.map(\.session)
            for session in old { entries[session.id] = nil }
            return old
        }
        for session in expired { unlink(session.path) }
        return expired.map(\.id)
    }

    /// Deletes every session file (at start, when no session can be live).
    func clear() {
        entries.withLockedValue { $0.removeAll() }
        for name in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [] {
            unlink(directory + "/" + name)
        }
    }

    /// Number of live sessions.
    var count: Int { entries.withLockedValue { $0.count } }

    // MARK: - Internals

    private func withSessionReserved(_ id: String, repository: String, _ check: (Session) throws -> Session) throws -> Session {
        try entries.withLockedValue { entries in
            guard var entry = entries[id], entry.session.repository == repository else {
                throw RegistryError(.blobUploadUnknown, detail: "upload \(id) in \(repository): start a new one with POST /v2/\(repository)/blobs/uploads/")
            }
            guard !entry.busy else {
                throw Self.rangeError("another request is writing to upload \(id); send chunks one at a time", session: entry.session)
            }
            let session = try check(entry.session)
            entry.busy = true
            entries[id] = entry
            return session
        }
    }

    static func rangeError(_ detail: String, session: Session) -> RegistryError {
        var error = RegistryError(.rangeInvalid, detail: detail)
        error.headers = [("Location", "/v2/\(session.repository)/blobs/uploads/\(session.id)"),
                         ("Range", rangeHeader(size: session.size)), ("Docker-Upload-UUID", session.id)]
        return error
    }

    /// `0-<last byte>` as the reference registry sends it (`0-0` while empty).
    static func rangeHeader(size: Int64) -> String { "0-\(max(0, size - 1))" }

    /// Copies the file at `source` to the end of `target` (which has `size` bytes); on failure
    /// truncates `target` back to `size`.
    private static func copy(_ source: String, appendingTo target: String, at size: Int64) throws {
        let input = open(source, O_RDONLY | O_CLOEXEC)
        guard input >= 0 else { throw storageError(source, "cannot open the request body") }
        defer { close(input) }
        let output = open(target, O_WRONLY | O_CLOEXEC)
        guard output >= 0 else { throw storageError(target, "cannot open the upload") }
        defer { close(output) }
        do {
            guard lseek(output, off_t(size), SEEK_SET) >= 0 else { throw storageError(target, "seek failed") }
            var buffer = [UInt8](repeating: 0, count: 1 << 20)
            while true {
                let count = buffer.withUnsafeMutableBytes { read(input, $0.baseAddress, $0.count) }
                if count < 0 {
                    if errno == EINTR { continue }
                    throw storageError(source, "read failed")
                }
                if count == 0 { break }
                var offset = 0
                while offset < count {
                    let written = buffer.withUnsafeBytes { write(output, $0.baseAddress! + offset, count - offset) }
                    if written < 0 {
                        if errno == EINTR { continue }
                        throw storageError(target, "write failed")
                    }
                    offset += written
                }
            }
        } catch {
            _ = ftruncate(output, off_t(size))
            throw error
        }
    }

    private static func storageError(_ path: String, _ what: String) -> Error {
        let code = errno
        if code == ENOSPC { return RegistryError(.storageFull, detail: "no space left while writing \(path)") }
        return RegistryServerError.io(path: path, reason: "\(what): \(String(cString: strerror(code)))")
    }
}

/// Calls `UploadSessions.sweep` every `interval` seconds on a thread of its own until `stop()`.
final class UploadSweeper: Sendable {
    private let condition = NSCondition()
    private let stopped = LockedBox(false)

    init(sessions: UploadSessions, interval: TimeInterval, logger: Logger) {
        let thread = Thread { [condition, stopped] in
            while true {
                condition.lock()
                if !stopped.withLockedValue({ $0 }) { _ = condition.wait(until: Date().addingTimeInterval(interval)) }
                condition.unlock()
                if stopped.withLockedValue({ $0 }) { return }
                let removed = sessions.sweep()
                if !removed.isEmpty { logger.info("expired upload sessions removed", ["upload.count": String(removed.count)]) }
            }
        }
        thread.name = "docket.upload-sweeper"
        thread.start()
    }

    func stop() {
        condition.lock()
        stopped.withLockedValue { $0 = true }
        condition.signal()
        condition.unlock()
    }
}
