@testable import DocketTorrent
import DocketCore
import Foundation

/// Debian's opentracker in whitelist mode, for the aria2c interop tests.
struct InteropTracker {
    let process: SessionChildProcess
    let port: UInt16
    var announceURL: String { "http://127.0.0.1:\(port)/announce" }

    /// Starts opentracker chrooted in `dir`, accepting only `infoHashes`.
    static func start(dir: String, infoHashes: [InfoHash]) throws -> InteropTracker {
        try (infoHashes.map(\.hex).joined(separator: "\n") + "\n").write(toFile: dir + "/whitelist.txt", atomically: true, encoding: .utf8)
        let port = try freePort()
        let config = "listen.tcp_udp 127.0.0.1:\(port)\ntracker.rootdir \(dir)\naccess.whitelist /whitelist.txt\n"
        try config.write(toFile: dir + "/opentracker.conf", atomically: true, encoding: .utf8)
        let process = try SessionChildProcess("/usr/bin/opentracker", ["-f", dir + "/opentracker.conf"])
        return InteropTracker(process: process, port: port)
    }

    /// How many seeders the tracker lists for `infoHash` (from /scrape); nil while it does not answer.
    func seeders(_ infoHash: InfoHash) -> Int? {
        let escaped = infoHash.bytes.map { String(format: "%%%02X", $0) }.joined()
        guard let response = try? HTTPClient().perform(HTTPRequest(url: "http://127.0.0.1:\(port)/scrape?info_hash=\(escaped)", timeout: 5), sink: nil),
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
