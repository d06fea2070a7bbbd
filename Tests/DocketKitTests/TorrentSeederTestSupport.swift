import DocketTorrent
import Foundation
import Testing
@testable import DocketKit

/// A `TorrentSeeder` backend under test, made through the public configuration API.
extension TorrentSeederConfiguration.Backend: CustomTestStringConvertible {
    public var testDescription: String { rawValue }

    /// A seeder of this backend on loopback, keeping its scratch files in `directory`.
    func makeSeeder(directory: String, stallTimeout: Duration = .seconds(30)) throws -> any TorrentSeeder {
        // ctorrent numbers its transfers' ports upwards from `port`: give each seeder a range of its own.
        let port: UInt16? = self == .ctorrent ? try SeederTestSupport.freePortRange(10) : nil
        return try TorrentSeederConfiguration(backend: self, bindAddress: "127.0.0.1", port: port, stallTimeout: stallTimeout,
                                              temporaryDirectory: directory).makeSeeder()
    }
}

/// One random payload in a scratch directory with its torrent; `announce` is set by the caller.
struct SeederPayload {
    let directory: String
    let path: String
    let metainfo: Metainfo
    let size: Int

    init(_ label: String, size: Int, announce: String? = "http://127.0.0.1:9/announce") throws {
        directory = (NSTemporaryDirectory() as NSString).appendingPathComponent("docket-seeder-\(label)-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        path = directory + "/blob"
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<size).map { _ in UInt8.random(in: 0...255, using: &generator) }
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        self.size = size
        let bare = try Metainfo.create(fileAt: path, name: "blob", pieceLength: 64 << 10, isPrivate: true, announce: announce, urlList: [])
        metainfo = bare
    }

    private init(directory: String, path: String, metainfo: Metainfo, size: Int) {
        self.directory = directory
        self.path = path
        self.metainfo = metainfo
        self.size = size
    }

    /// The same payload announcing to `url`.
    func announcing(to url: String) -> SeederPayload {
        SeederPayload(directory: directory, path: path, metainfo: metainfo.with(announce: url, announceList: [], urlList: []), size: size)
    }

    var torrent: Data { Data(metainfo.encoded()) }

    func remove() { try? FileManager.default.removeItem(atPath: directory) }
}

/// Debian's opentracker in whitelist mode on 127.0.0.1, killed by its PID.
final class SeederTestTracker: @unchecked Sendable {
    let process = Process()
    let port: UInt16
    var announceURL: String { "http://127.0.0.1:\(port)/announce" }

    init(directory: String, whitelist: [InfoHash]) throws {
        port = try SeederTestSupport.freePortRange(1)
        try (whitelist.map(\.hex).joined(separator: "\n") + "\n").write(toFile: directory + "/whitelist", atomically: true, encoding: .utf8)
        let config = "listen.tcp_udp 127.0.0.1:\(port)\ntracker.rootdir \(directory)\naccess.whitelist /whitelist\n"
        try config.write(toFile: directory + "/opentracker.conf", atomically: true, encoding: .utf8)
        process.executableURL = URL(fileURLWithPath: "/usr/bin/opentracker")
        process.arguments = ["-f", directory + "/opentracker.conf"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
    }

    /// How many peers, complete or not, the tracker lists for `infoHash`; nil while it does not
    /// answer. (ctorrent's first announce, sent before its hash check ends, says it is incomplete.)
    func peers(_ infoHash: InfoHash, completeOnly: Bool = false) async -> Int? {
        let escaped = infoHash.bytes.map { String(format: "%%%02X", $0) }.joined()
        let request = HTTPRequest(url: "http://127.0.0.1:\(port)/scrape?info_hash=\(escaped)", timeout: 5)
        guard let response = try? await HTTPClient().send(request), response.status == 200,
              let value = try? Bencode.decode([UInt8](response.body)),
              case .dictionary(let files)? = value["files"], let entry = files[infoHash.bytes] else { return nil }
        return Int((entry["complete"]?.integer ?? 0) + (completeOnly ? 0 : entry["incomplete"]?.integer ?? 0))
    }

    /// Polls until the tracker answers a scrape, so the first announce of a peer started next is not
    /// refused (ctorrent and Docket would retry only after their back-off).
    func waitUntilAnswering(timeout: Duration = .seconds(10)) async throws {
        let deadline = ContinuousClock.now + timeout
        let request = HTTPRequest(url: "http://127.0.0.1:\(port)/scrape", timeout: 2)
        while ContinuousClock.now < deadline {
            if let response = try? await HTTPClient().send(request), response.status > 0 { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw SeederTestTimeout(what: "opentracker on port \(port) answering")
    }

    /// Polls until the tracker lists a peer for `infoHash`; false after `timeout`.
    func waitForPeer(_ infoHash: InfoHash, completeOnly: Bool = false, timeout: Duration = .seconds(30)) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let count = await peers(infoHash, completeOnly: completeOnly), count > 0 { return true }
            try? await Task.sleep(for: .milliseconds(200))
        }
        return false
    }

    /// SIGKILL (opentracker does not stop on SIGTERM); reaped by Foundation in the background.
    func stop() {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }
}

struct SeederTestTimeout: Error, CustomStringConvertible {
    var what: String
    var description: String { "\(what) did not finish in time" }
}

enum SeederTestSupport {
    /// `count` consecutive TCP ports on 127.0.0.1 that nobody listens on now; returns the first.
    static func freePortRange(_ count: Int) throws -> UInt16 {
        for _ in 0..<50 {
            let base = UInt16.random(in: 20_000...50_000)
            if (0..<count).allSatisfy({ isFree(base + UInt16($0)) }) { return base }
        }
        throw SeederTestTimeout(what: "finding \(count) free ports")
    }

    private static func isFree(_ port: UInt16) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = INADDR_ANY
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        } == 0
    }

    /// Runs `body`, failing with `SeederTestTimeout` after `timeout` even if `body` ignores
    /// cancellation (it is cancelled and left behind, so a hang fails the test instead of the run).
    static func within<T: Sendable>(_ timeout: Duration, _ what: String,
                                    _ body: @escaping @Sendable () async throws -> T) async throws -> T {
        let waiter = LockedBox<CheckedContinuation<T, Error>?>(nil)
        let take: @Sendable () -> CheckedContinuation<T, Error>? = { waiter.withLockedValue { value in defer { value = nil }; return value } }
        return try await withCheckedThrowingContinuation { continuation in
            waiter.withLockedValue { $0 = continuation }
            let work = Task {
                do {
                    let value = try await body()
                    take()?.resume(returning: value)
                } catch {
                    take()?.resume(throwing: error)
                }
            }
            Task {
                try? await Task.sleep(for: timeout)
                if let continuation = take() {
                    work.cancel()
                    continuation.resume(throwing: SeederTestTimeout(what: what))
                }
            }
        }
    }

    /// Every value a progress stream yields until it finishes.
    static func collect(_ stream: AsyncStream<TransferProgress>) -> Task<[TransferProgress], Never> {
        Task {
            var all: [TransferProgress] = []
            for await progress in stream { all.append(progress) }
            return all
        }
    }

    /// PIDs of live ctorrent processes started by this test run (through their watchers) whose
    /// command line mentions `text`.
    static func ctorrentProcesses(mentioning text: String) -> [Int32] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { Int32($0) }.filter { pid in
            guard isLiveDescendant(pid, of: getpid(), named: "ctorrent"),
                  let cmdline = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return false }
            return String(decoding: cmdline, as: UTF8.self).contains(text)
        }
    }

    /// True when `pid` is called `name`, has not exited, and `ancestor` is on its parent chain.
    static func isLiveDescendant(_ pid: Int32, of ancestor: Int32, named name: String) -> Bool {
        guard let entry = ProcessEntry(pid), entry.name == name, entry.state != "Z" else { return false }
        var parent = entry.parent
        for _ in 0..<64 where parent > 1 {
            if parent == ancestor { return true }
            guard let next = ProcessEntry(parent) else { return false }
            parent = next.parent
        }
        return false
    }

    /// Live ctorrent processes under the watcher `pid` (a `CTorrentTransfer.pid`), waiting up to two
    /// seconds for the watcher to start one.
    static func ctorrents(under pid: Int32) async throws -> [Int32] {
        for _ in 0..<100 {
            let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
            let found = entries.compactMap { Int32($0) }.filter { isLiveDescendant($0, of: pid, named: "ctorrent") }
            if !found.isEmpty { return found }
            try await Task.sleep(for: .milliseconds(20))
        }
        return []
    }
}

/// One line of /proc/PID/stat: the command name, state and parent.
struct ProcessEntry {
    var name: String
    var state: Character
    var parent: Int32

    init?(_ pid: Int32) {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let open = stat.firstIndex(of: "("), let close = stat.lastIndex(of: ")") else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 2, let state = fields[0].first, let parent = Int32(fields[1]) else { return nil }
        name = String(stat[stat.index(after: open)..<close])
        self.state = state
        self.parent = parent
    }
}
