import DocketTorrent
import Foundation

// docket-bench: measurements the README quotes. Not a test: numbers, not assertions.
//   docket-bench create FILE [--runs N]     torrent creation (SHA-1 over both cores), MB/s
//   docket-bench transfer FILE [--runs N]   one seeder -> one leecher on loopback, MB/s and CPU s/GB
//       [--upload-limit B/s]                 the seeder's upload limit
//       [--slow-seeder B/s]                  a second seeder limited to B/s beside it (a slow peer)
// bench/run.sh runs these beside mktorrent and aria2c in the same run.

let arguments = Array(CommandLine.arguments.dropFirst())
guard arguments.count >= 2 else {
    FileHandle.standardError.write(Data("usage: docket-bench create|transfer FILE [--runs N]\n".utf8))
    exit(64)
}
let mode = arguments[0]
let file = arguments[1]
let runs = arguments.firstIndex(of: "--runs").flatMap { Int(arguments[$0 + 1]) } ?? 3
func option(_ name: String) -> Int64? { arguments.firstIndex(of: name).flatMap { Int64(arguments[$0 + 1]) } }
let size = (try FileManager.default.attributesOfItem(atPath: file)[.size] as? NSNumber)?.int64Value ?? 0
let megabytes = Double(size) / 1_000_000

func cpuSeconds() -> Double {
    var usage = rusage()
    getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
    return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
}

/// Runs `body` once to warm up, then `runs` times; reports the best wall time and the CPU of that run.
func measure(_ label: String, _ body: () async throws -> Void) async throws {
    try await body()
    var best = (wall: Double.infinity, cpu: 0.0)
    for _ in 0..<runs {
        let cpu0 = cpuSeconds()
        let start = Date()
        try await body()
        let wall = Date().timeIntervalSince(start)
        if wall < best.wall { best = (wall, cpuSeconds() - cpu0) }
    }
    let line = String(format: "%@ %.0f MB: best %.2f s, %.0f MB/s, CPU %.2f s per GB", label, megabytes, best.wall,
                      megabytes / best.wall, best.cpu / (megabytes / 1000))
    print(line)
}

switch mode {
case "create":
    let pieceLength = Metainfo.pieceLength(forTotalSize: size)
    print("piece length \(pieceLength >> 10) KiB (Metainfo.pieceLength rule)")
    try await measure("docket create") {
        _ = try Metainfo.create(fileAt: file, name: "bench", isPrivate: true, announce: nil, urlList: [], threads: 2)
    }
case "transfer":
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
    try await measure("docket transfer") {
        let target = directory + "/copy"
        try? FileManager.default.removeItem(atPath: target)
        let leecher = try TorrentClient(configuration: .testing)
        defer { leecher.shutdown() }
        let handle = try leecher.add(metainfo, path: target, seeding: false)
        handle.addPeers(seeders.map { PeerAddress(host: "127.0.0.1", port: $0.listenPort) })
        try await handle.waitUntilComplete()
    }
    _ = seed
default:
    FileHandle.standardError.write(Data("unknown mode '\(mode)': use create or transfer\n".utf8))
    exit(64)
}
