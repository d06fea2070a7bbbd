import DocketTorrent
import Foundation

// docket-bench: measurements the README quotes. Not a test: numbers, not assertions.
//   docket-bench create FILE [--runs N]   torrent creation (SHA-1 over both cores), MB/s
//   docket-bench transfer FILE [--runs N] in-process seeder -> leecher, direct connect, MB/s and CPU s/GB
//       [--upload-limit B/s]              the seeder's upload limit
//       [--slow-seeder B/s]               a second seeder limited to B/s beside it (a slow peer)
//   docket-bench seed TORRENT FILE        seeds FILE, announcing to the torrent's tracker, until killed
//   docket-bench leech TORRENT DIR        downloads into DIR/<name> through the torrent's tracker,
//                                         prints `complete` once every piece is verified, then exits
// bench/run.sh runs these beside mktorrent, aria2c and libtorrent (bench/lt_transfer.py) in the same
// run: separate seeder and leecher processes, one .torrent, one opentracker (bench/transfer.py).

let arguments = Array(CommandLine.arguments.dropFirst())
func usage() -> Never {
    FileHandle.standardError.write(Data(("usage: docket-bench create FILE [--runs N] | transfer FILE [--runs N] [--upload-limit B/s] "
        + "[--slow-seeder B/s] | seed TORRENT FILE | leech TORRENT DIR\n").utf8))
    exit(64)
}
guard arguments.count >= 2 else { usage() }

let runs = arguments.firstIndex(of: "--runs").flatMap { Int(arguments[$0 + 1]) } ?? 3
func option(_ name: String) -> Int64? { arguments.firstIndex(of: name).flatMap { Int64(arguments[$0 + 1]) } }

func cpuSeconds() -> Double {
    var usage = rusage()
    getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
    return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
}

func fileSize(_ path: String) -> Int64 {
    ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.int64Value ?? 0
}

/// Runs `body` once to warm up, then `runs` times; reports the best wall time and the CPU of that run.
func measure(_ label: String, megabytes: Double, _ body: () async throws -> Void) async throws {
    try await body()
    var best = (wall: Double.infinity, cpu: 0.0)
    for _ in 0..<runs {
        let cpu0 = cpuSeconds()
        let start = Date()
        try await body()
        let wall = Date().timeIntervalSince(start)
        if wall < best.wall { best = (wall, cpuSeconds() - cpu0) }
    }
    print(String(format: "%@ %.0f MB: best %.2f s, %.0f MB/s, CPU %.2f s per GB", label, megabytes, best.wall,
                 megabytes / best.wall, best.cpu / (megabytes / 1000)))
}

/// A client on loopback, any port: the same engine `docket-cli pull` runs.
func loopbackClient() throws -> TorrentClient {
    try TorrentClient(configuration: TorrentClient.Configuration(bindAddress: "127.0.0.1"))
}

/// One line on standard output, unbuffered (bench/transfer.py times it).
func say(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}

func loadTorrent(_ path: String) throws -> Metainfo {
    try Metainfo.parse([UInt8](try Data(contentsOf: URL(fileURLWithPath: path))))
}

switch arguments[0] {
case "create":
    let file = arguments[1]
    let size = fileSize(file)
    print("piece length \(Metainfo.pieceLength(forTotalSize: size) >> 10) KiB (Metainfo.pieceLength rule)")
    try await measure("docket create", megabytes: Double(size) / 1_000_000) {
        _ = try Metainfo.create(fileAt: file, name: "bench", isPrivate: true, announce: nil, urlList: [], threads: 2)
    }
case "transfer":
    let file = arguments[1]
    let metainfo = try Metainfo.create(fileAt: file, name: "bench", isPrivate: true, announce: nil, urlList: [], threads: 2)
    var limited = TorrentClient.Configuration.testing
    limited.uploadRateLimit = option("--upload-limit")
    let seeder = try TorrentClient(configuration: limited)
    defer { seeder.shutdown() }
    let seed = try seeder.add(metainfo, path: file, seeding: true)
    var seeders = [seeder]
    if let slow = option("--slow-seeder") {
        var configuration = TorrentClient.Configuration.testing
        configuration.uploadRateLimit = slow
        let slowSeeder = try TorrentClient(configuration: configuration)
        _ = try slowSeeder.add(metainfo, path: file, seeding: true)
        seeders.append(slowSeeder)
    }
    defer { seeders.dropFirst().forEach { $0.shutdown() } }
    let directory = NSTemporaryDirectory() + "docket-bench-\(getpid())"
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: directory) }
    try await measure("docket transfer", megabytes: Double(fileSize(file)) / 1_000_000) {
        let target = directory + "/copy"
        try? FileManager.default.removeItem(atPath: target)
        let leecher = try TorrentClient(configuration: .testing)
        defer { leecher.shutdown() }
        let handle = try leecher.add(metainfo, path: target, seeding: false)
        handle.addPeers(seeders.map { PeerAddress(host: "127.0.0.1", port: $0.listenPort) })
        try await handle.waitUntilComplete()
    }
    _ = seed
case "seed":
    guard arguments.count == 3 else { usage() }
    let client = try loopbackClient()
    _ = try client.add(try loadTorrent(arguments[1]), path: arguments[2], seeding: true)
    say("seeding on port \(client.listenPort)")
    while true { try await Task.sleep(for: .seconds(3600)) }
case "leech":
    guard arguments.count == 3 else { usage() }
    let metainfo = try loadTorrent(arguments[1])
    let client = try loopbackClient()
    let handle = try client.add(metainfo, path: arguments[2] + "/" + metainfo.name, seeding: false)
    try await handle.waitUntilComplete()
    say("complete")
    client.shutdown()
default:
    usage()
}
