import DocketTorrent
import Foundation

// docket-bench: measurements the README quotes. Not a test: numbers, not assertions.
//   docket-bench create FILE [--runs N]   torrent creation (SHA-1 over both cores), MB/s
//   docket-bench seed TORRENT FILE        seeds FILE, announcing to the torrent's tracker, until killed
//   docket-bench leech TORRENT DIR        downloads into DIR/<name> through the torrent's tracker,
//                                         prints `complete` once every piece is verified, then exits
// bench/run.sh runs these beside mktorrent, aria2c and libtorrent (bench/lt_transfer.py) in the same
// run: separate seeder and leecher processes, one .torrent, one opentracker (bench/transfer.py).

let arguments = Array(CommandLine.arguments.dropFirst())
func usage() -> Never {
    FileHandle.standardError.write(Data("usage: docket-bench create FILE [--runs N] | seed TORRENT FILE | leech TORRENT DIR\n".utf8))
    exit(64)
}
guard arguments.count >= 2 else { usage() }

func cpuSeconds() -> Double {
    var usage = rusage()
    getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
    return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
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
    let runs = arguments.firstIndex(of: "--runs").flatMap { Int(arguments[$0 + 1]) } ?? 3
    let size = (try FileManager.default.attributesOfItem(atPath: file)[.size] as? NSNumber)?.int64Value ?? 0
    let megabytes = Double(size) / 1_000_000
    let pieceLength = Metainfo.pieceLength(forTotalSize: size)
    print("piece length \(pieceLength >> 10) KiB (Metainfo.pieceLength rule)")
    let create = { _ = try Metainfo.create(fileAt: file, name: "bench", isPrivate: true, announce: nil, urlList: [], threads: 2) }
    try create()   // warm-up
    var best = (wall: Double.infinity, cpu: 0.0)
    for _ in 0..<runs {
        let cpu0 = cpuSeconds()
        let start = Date()
        try create()
        let wall = Date().timeIntervalSince(start)
        if wall < best.wall { best = (wall, cpuSeconds() - cpu0) }
    }
    print(String(format: "docket create %.0f MB: best %.2f s, %.0f MB/s, CPU %.2f s per GB", megabytes, best.wall,
                 megabytes / best.wall, best.cpu / (megabytes / 1000)))
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
