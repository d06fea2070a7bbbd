@testable import DocketTorrent
import DocketCore
import Foundation
import Testing

/// Debian's opentracker in whitelist mode, for the aria2c interop tests.
struct InteropTracker {
    let process: SessionChildProcess
    let port: UInt16
    var host = "127.0.0.1"
    var announceURL: String { "http://\(host):\(port)/announce" }

    /// Starts opentracker chrooted in `dir`, accepting only `infoHashes`.
    static func start(dir: String, infoHashes: [InfoHash], host: String = "127.0.0.1") throws -> InteropTracker {
        try (infoHashes.map(\.hex).joined(separator: "\n") + "\n").write(toFile: dir + "/whitelist.txt", atomically: true, encoding: .utf8)
        let port = try freePort()
        let config = "listen.tcp_udp \(host):\(port)\ntracker.rootdir \(dir)\naccess.whitelist /whitelist.txt\n"
        try config.write(toFile: dir + "/opentracker.conf", atomically: true, encoding: .utf8)
        let process = try SessionChildProcess("/usr/bin/opentracker", ["-f", dir + "/opentracker.conf"])
        return InteropTracker(process: process, port: port, host: host)
    }

    /// How many seeders the tracker lists for `infoHash` (from /scrape); nil while it does not answer.
    func seeders(_ infoHash: InfoHash) -> Int? {
        let escaped = infoHash.bytes.map { String(format: "%%%02X", $0) }.joined()
        guard let response = try? HTTPClient().perform(HTTPRequest(url: "http://\(host):\(port)/scrape?info_hash=\(escaped)", timeout: 5), sink: nil),
              response.status == 200, let value = try? Bencode.decode([UInt8](response.body)),
              case .dictionary(let files)? = value["files"], let entry = files[infoHash.bytes] else { return nil }
        return entry["complete"]?.integer.map { Int($0) }
    }

    /// Polls until the tracker lists a seeder; false after `timeout` seconds.
    func waitForSeeder(_ infoHash: InfoHash, timeout: Double = 20) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let count = seeders(infoHash), count > 0 { return true }
            usleep(200_000)
        }
        return false
    }

    /// A TCP port nobody listens on right now.
    static func freePort() throws -> UInt16 {
        let (fd, port) = try Sockets.listen(host: "127.0.0.1", port: 0)
        close(fd)
        return port
    }
}

/// aria2c command lines for loopback BitTorrent without DHT, LPD or PEX.
enum Aria2 {
    static let path = "/usr/bin/aria2c"

    static func arguments(dir: String, torrent: String, seed: Bool) throws -> [String] {
        var arguments = [
            "--no-conf", "--dir=\(dir)", "--enable-dht=false", "--enable-dht6=false", "--bt-enable-lpd=false",
            "--enable-peer-exchange=false", "--bt-external-ip=127.0.0.1", "--listen-port=\(try InteropTracker.freePort())",
            "--file-allocation=none", "--summary-interval=0", "--console-log-level=warn", "--allow-overwrite=true",
            "--bt-stop-timeout=120", "--auto-save-interval=0",
        ]
        arguments += seed ? ["--seed-ratio=0.0", "--bt-seed-unverified=true", "--check-integrity=false"] : ["--seed-time=0"]
        return arguments + [torrent]
    }
}

/// One payload, its torrent file announcing to a whitelisted opentracker, and the two directions
/// of a transfer between Docket and another client, byte-verified.
struct InteropFixture {
    let dir: String
    let source: String
    let metainfo: Metainfo
    let torrentFile: String
    let tracker: InteropTracker
    let size: Int
    /// Set when the other client runs in a network namespace: Docket and the tracker use the host end.
    let link: NamespaceLink?

    /// Where Docket binds: the host end of the link, or loopback.
    var docketConfiguration: TorrentClient.Configuration {
        var configuration = TorrentClient.Configuration.testing
        if let link { configuration.bindAddress = link.hostAddress }
        if ProcessInfo.processInfo.environment["DOCKET_TEST_DEBUG"] != nil { configuration.logger = Logger(label: "docket", level: .debug) }
        return configuration
    }

    init(_ label: String, size: Int = 6 << 20, link: NamespaceLink? = nil) throws {
        self.size = size
        self.link = link
        dir = try SessionTestSupport.temporaryDirectory(label)
        source = dir + "/payload.bin"
        try SessionTestSupport.writeRandomFile(source, size: size, seed: UInt64.random(in: 1...UInt64.max))
        let bare = try Metainfo.create(fileAt: source, name: "payload.bin", pieceLength: 256 << 10, isPrivate: true, announce: nil, urlList: [])
        tracker = try InteropTracker.start(dir: dir, infoHashes: [bare.infoHash], host: link?.hostAddress ?? "127.0.0.1")
        metainfo = bare.with(announce: tracker.announceURL, announceList: [], urlList: [])
        torrentFile = dir + "/payload.torrent"
        try Data(metainfo.encoded()).write(to: URL(fileURLWithPath: torrentFile))
    }

    func cleanUp() {
        tracker.process.stop()
        try? FileManager.default.removeItem(atPath: dir)
    }

    /// Runs `body` with a fresh fixture, one interop test at a time across suites (the clients
    /// are heavy on two cores, and each picks its ports by probing).
    /// With `namespace`, the other client runs in a network namespace of its own (see `NamespaceLink`).
    static func with(_ label: String, size: Int = 6 << 20, namespace: Bool = false, _ body: (InteropFixture) async throws -> Void) async throws {
        await InteropGate.shared.acquire()
        defer { Task { await InteropGate.shared.release() } }
        let link = namespace ? try NamespaceLink() : nil
        defer { link?.remove() }
        let fixture = try InteropFixture(label, size: size, link: link)
        defer { fixture.cleanUp() }
        try await body(fixture)
    }

    /// A directory holding a copy of the payload, for a client that seeds it.
    func seedDirectory(_ name: String) throws -> String {
        let path = dir + "/" + name
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: source, toPath: path + "/payload.bin")
        return path
    }

    /// Docket seeds; `start` launches the other client, which must leave the payload at `downloaded`.
    func docketSeeds(to client: String, downloaded: String, timeout: Double = 90, _ start: () throws -> SessionChildProcess) async throws {
        let seeder = try TorrentClient(configuration: docketConfiguration)
        defer { seeder.shutdown() }
        let seed = try seeder.add(metainfo, path: source, seeding: true)
        #expect(tracker.waitForSeeder(metainfo.infoHash), "Docket's announce never reached the tracker")
        let other = try start()
        defer { other.stop() }
        let done = Self.waitForFile(downloaded, equalTo: source, timeout: timeout)
        if !done {
            while let line = other.readLine(timeout: 0.5) { print("\(client): \(line)") }
            let folder = (downloaded as NSString).deletingLastPathComponent
            for name in (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [] {
                let size = (try? FileManager.default.attributesOfItem(atPath: folder + "/" + name))?[.size] ?? "?"
                print("\(client) left \(folder)/\(name): \(size) bytes")
            }
        }
        #expect(done, "\(client) did not download a byte-identical copy from Docket within \(Int(timeout)) s")
        // The status is published at most four times a second: give the last count a moment.
        let deadline = Date().addingTimeInterval(5)
        while seed.status().bytesUploaded < Int64(size) && Date() < deadline { usleep(100_000) }
        #expect(seed.status().bytesUploaded >= Int64(size))
    }

    /// `start` launches the other client seeding; Docket downloads through the tracker.
    func docketDownloads(from client: String, timeout: Double = 90, _ start: () throws -> SessionChildProcess) async throws {
        let other = try start()
        defer { other.stop() }
        #expect(tracker.waitForSeeder(metainfo.infoHash, timeout: 30), "\(client)'s announce never reached the tracker")
        let leecher = try TorrentClient(configuration: docketConfiguration)
        defer { leecher.shutdown() }
        let handle = try leecher.add(metainfo, path: dir + "/docket.bin", seeding: false)
        do {
            try await SessionTestSupport.withTimeout(timeout, "Docket downloading from \(client)") { try await handle.waitUntilComplete() }
        } catch {
            while let line = other.readLine(timeout: 0.5) { print("\(client): \(line)") }
            throw error
        }
        #expect(SessionTestSupport.filesEqual(source, dir + "/docket.bin"))
        #expect(handle.status().bytesFromOtherPeers >= Int64(size))
    }

    /// Polls until `path` holds exactly the bytes of `source`.
    static func waitForFile(_ path: String, equalTo source: String, timeout: Double) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        let expected = FileManager.default.contents(atPath: source)
        while Date() < deadline {
            if let attributes = try? FileManager.default.attributesOfItem(atPath: path),
               (attributes[.size] as? NSNumber)?.intValue == expected?.count,
               FileManager.default.contents(atPath: path) == expected { return true }
            usleep(300_000)
        }
        return false
    }
}

/// A lock the interop tests take so only one runs at a time.
actor InteropGate {
    static let shared = InteropGate()
    private var busy = false
    private var waiters: [CheckedContinuation<Void, Never>] = []

    func acquire() async {
        if !busy {
            busy = true
            return
        }
        await withCheckedContinuation { waiters.append($0) }
    }

    func release() {
        if waiters.isEmpty { busy = false } else { waiters.removeFirst().resume() }
    }
}

/// A network namespace joined to this one by a veth pair on a /30 of its own, for clients that
/// will not talk to loopback peers or to peers on their own address. Named with a per-process
/// prefix; `remove` deletes exactly what `init` made.
final class NamespaceLink: @unchecked Sendable {
    static let ip = "/usr/sbin/ip"
    nonisolated(unsafe) private static var counter = 0
    private static let lock = NSLock()

    let name: String
    let hostInterface: String
    let hostAddress: String
    let namespaceAddress: String

    static var isAvailable: Bool { getuid() == 0 && FileManager.default.isExecutableFile(atPath: ip) }

    init() throws {
        let index = Self.lock.withLock { () -> Int in
            Self.counter += 1
            return Self.counter
        }
        let tag = "\(getpid() % 100_000)x\(index)"
        name = "dkh\(tag)"
        hostInterface = "dkh\(tag)h"
        let subnet = "10.\(200 + index % 50).\(getpid() % 250).\(0)"
        let base = subnet.split(separator: ".").prefix(3).joined(separator: ".")
        hostAddress = base + ".1"
        namespaceAddress = base + ".2"
        let peerInterface = "dkh\(tag)n"
        do {
            try Self.run(["netns", "add", name])
            try Self.run(["link", "add", hostInterface, "type", "veth", "peer", "name", peerInterface])
            try Self.run(["link", "set", peerInterface, "netns", name])
            try Self.run(["addr", "add", hostAddress + "/30", "dev", hostInterface])
            try Self.run(["link", "set", hostInterface, "up"])
            try Self.run(["-n", name, "addr", "add", namespaceAddress + "/30", "dev", peerInterface])
            try Self.run(["-n", name, "link", "set", peerInterface, "up"])
            try Self.run(["-n", name, "link", "set", "lo", "up"])
        } catch {
            remove()
            throw error
        }
    }

    /// The command line that runs `executable arguments` inside the namespace.
    func command(_ executable: String, _ arguments: [String]) -> (String, [String]) {
        (Self.ip, ["netns", "exec", name, executable] + arguments)
    }

    func remove() {
        _ = try? Self.run(["link", "delete", hostInterface])
        _ = try? Self.run(["netns", "delete", name])
    }

    struct Failed: Error, CustomStringConvertible {
        var description: String
    }

    private static func run(_ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: ip)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            throw Failed(description: "ip \(arguments.joined(separator: " ")) failed: \(output)")
        }
    }
}
