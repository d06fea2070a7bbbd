import DocketCore
import DocketTorrent
import Foundation

/// The info-hash whitelist of an external tracker in whitelist mode (Debian's opentracker answers
/// only for info-hashes listed in its `access.whitelist` file and reads the file again on
/// `SIGHUP`). The registry owns the file: it rewrites it whole, one lowercase hex info-hash per
/// line, sorted, whenever the set of torrents it serves changes, and then signals the tracker.
///
/// opentracker chroots into its `tracker.rootdir`, so `path` is the host path of the file:
/// `<rootdir>/<access.whitelist>`.
public struct TrackerWhitelist: Sendable, Hashable {
    /// Which process to send `SIGHUP` after each write.
    public enum Reload: Sendable, Hashable {
        /// Nobody: the tracker reads the file at its own start (or is told by the operator).
        case none
        /// That process id.
        case pid(Int32)
        /// The process id written in that file, read again before every signal (the tracker
        /// may have been restarted).
        case pidFile(String)
    }

    /// The first line of every file written. Longer than one info-hash line on purpose:
    /// opentracker keeps its previous list when the file is shorter than 41 bytes, so an empty
    /// whitelist (every torrent collected) must still be a file of that size.
    static let header = "# Docket registry: tracker whitelist, rewritten whole by the registry; do not edit\n"

    /// Host path of the whitelist file.
    public var path: String
    /// Who to signal after a write.
    public var reload: Reload

    /// A whitelist at `path`, signalling `reload` after each write.
    public init(path: String, reload: Reload = .none) {
        self.path = path
        self.reload = reload
    }

    /// Checks before serving that the file can be written (its directory exists and is writable)
    /// and that the process to signal exists and is opentracker.
    /// - Throws: `TrackerWhitelistError` naming the path or pid and what to do.
    public func check() throws {
        let directory = self.directory
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw TrackerWhitelistError("tracker whitelist \(path): the directory \(directory) does not exist; create it "
                                        + "(it is the tracker's rootdir, where its access.whitelist file lives)")
        }
        guard access(directory, W_OK) == 0 else {
            throw TrackerWhitelistError("tracker whitelist \(path): cannot write in \(directory) (\(String(cString: strerror(errno)))); "
                                        + "the registry replaces the file by renaming a new one there")
        }
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
            throw TrackerWhitelistError("tracker whitelist \(path) is a directory; give the path of the file opentracker reads")
        }
        try checkOwnership()
        _ = try processToSignal(probe: true)
    }

    /// The registry rewrites the file whole, so it refuses to take over a non-empty file it did not
    /// write (a typo could otherwise replace a config file, or another project's whitelist).
    private func checkOwnership() throws {
        guard let handle = FileHandle(forReadingAtPath: path) else { return }
        defer { try? handle.close() }
        let start = (try? handle.read(upToCount: Self.header.utf8.count)) ?? Data()
        guard !start.isEmpty, start != Data(Self.header.utf8) else { return }
        throw TrackerWhitelistError("tracker whitelist \(path) exists and was not written by a Docket registry; the "
                                    + "registry replaces the file whole, so give it a file of its own (opentracker's "
                                    + "access.whitelist), or move this one away first")
    }

    /// Replaces the file with `infoHashes` (sorted, one per line) by writing a temporary file in
    /// the same directory and renaming it over the old one, so the tracker never reads half a
    /// list; then sends `SIGHUP` as `reload` says.
    /// - Throws: `TrackerWhitelistError` when the file cannot be written or the signal not sent
    ///   (the file is in place by then).
    public func write(_ infoHashes: some Sequence<InfoHash>) throws {
        let text = Self.header + Set(infoHashes).map(\.hex).sorted().map { $0 + "\n" }.joined()
        let temporary = "\(directory)/.\((path as NSString).lastPathComponent).\(getpid()).tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw failure("cannot create \(temporary)") }
        var ok = fchmod(fd, 0o644) == 0   // readable by the tracker after it drops privileges
        let bytes = Array(text.utf8)
        var written = 0
        while ok && written < bytes.count {
            let count = bytes[written...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            ok = count > 0
            if ok { written += count }
        }
        ok = ok && fsync(fd) == 0
        let code = errno
        close(fd)
        guard ok, rename(temporary, path) == 0 else {
            let reason = ok ? String(cString: strerror(errno)) : String(cString: strerror(code))
            unlink(temporary)
            throw TrackerWhitelistError("tracker whitelist \(path): cannot write it (\(reason)); check the directory's permissions and free space")
        }
        try signal()
    }

    /// The info-hashes listed in the file now (lines starting with 40 hex digits; anything else is
    /// ignored, as opentracker does); empty when the file does not exist.
    public func read() throws -> Set<InfoHash> {
        guard FileManager.default.fileExists(atPath: path) else { return [] }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw TrackerWhitelistError("tracker whitelist \(path): cannot read it; check its permissions")
        }
        var hashes: Set<InfoHash> = []
        for line in String(decoding: data, as: UTF8.self).split(separator: "\n") {
            if let hash = InfoHash(hex: String(line.prefix(40))) { hashes.insert(hash) }
        }
        return hashes
    }

    /// Sends `SIGHUP` to the tracker (nothing for `.none`); throws, signalling nobody, when the
    /// pid names no process or one that is not opentracker.
    public func signal() throws {
        guard let pid = try processToSignal(probe: false) else { return }
        guard kill(pid, SIGHUP) == 0 else { throw signalFailure(pid) }
    }

    private var directory: String {
        let parent = (path as NSString).deletingLastPathComponent
        return parent.isEmpty ? "." : parent
    }

    /// The pid to signal; with `probe`, also checks that it exists and may be signalled.
    private func processToSignal(probe: Bool) throws -> Int32? {
        let pid: Int32
        switch reload {
        case .none:
            return nil
        case .pid(let given):
            pid = given
        case .pidFile(let file):
            guard let data = FileManager.default.contents(atPath: file) else {
                throw TrackerWhitelistError("tracker pid file \(file) cannot be read; start the tracker so it exists, or pass --tracker-pid")
            }
            let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            guard let parsed = Int32(text), parsed > 1 else {
                throw TrackerWhitelistError("tracker pid file \(file) holds '\(text.prefix(40))', not a process id")
            }
            pid = parsed
        }
        guard pid > 1 else { throw TrackerWhitelistError("tracker pid \(pid) is not a process to signal; give the tracker's process id") }
        if probe, kill(pid, 0) != 0 { throw signalFailure(pid) }
        try checkIsOpentracker(pid)
        return pid
    }

    /// SIGHUP ends most programs, so it goes only to a process that is opentracker: its command
    /// name (`/proc/PID/comm`) or executable starts with `opentracker`. A stale pid file or a
    /// mistyped pid names some other process.
    private func checkIsOpentracker(_ pid: Int32) throws {
        let source = pidSource
        guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/comm") else {
            throw TrackerWhitelistError("no process \(pid)\(source) to tell to reload the whitelist \(path): is the tracker running? check the pid")
        }
        let name = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/exe")) ?? ""
        let isTracker = name.lowercased().hasPrefix("opentracker")
            || (executable as NSString).lastPathComponent.lowercased().hasPrefix("opentracker")
        guard isTracker else {
            throw TrackerWhitelistError("process \(pid)\(source) is '\(name)', not opentracker: the registry sends SIGHUP to the "
                                        + "tracker after each whitelist write and will not signal another program; give opentracker's "
                                        + "pid (--tracker-pid) or pid file (--tracker-pidfile)")
        }
    }

    /// ` (from FILE)` when the pid came from a pid file, for messages.
    private var pidSource: String {
        if case .pidFile(let file) = reload { " (from \(file))" } else { "" }
    }

    private func signalFailure(_ pid: Int32) -> TrackerWhitelistError {
        let source = pidSource
        return errno == ESRCH
            ? TrackerWhitelistError("no process \(pid)\(source) to tell to reload the whitelist \(path): is the tracker running? check the pid")
            : TrackerWhitelistError("cannot signal process \(pid)\(source) to reload the whitelist \(path) (\(String(cString: strerror(errno)))); run the registry as the tracker's user or as root")
    }

    private func failure(_ what: String) -> TrackerWhitelistError {
        TrackerWhitelistError("tracker whitelist \(path): \(what) (\(String(cString: strerror(errno)))); check the directory's permissions and free space")
    }
}

/// The tracker whitelist could not be written, or the tracker not told to reload it.
public struct TrackerWhitelistError: Error, CustomStringConvertible, Sendable, Equatable {
    /// What failed, with which path or pid, and what to do.
    public let description: String

    init(_ description: String) {
        self.description = description
    }
}
