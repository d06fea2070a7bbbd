@testable import DocketTorrent
import Foundation
import Testing

/// Docket against libtorrent-rasterbar 2.0 (python3-libtorrent) through opentracker, both
/// directions, byte-verified.
@Suite(.serialized)
struct InteropLibtorrentTests {
    @Test func libtorrentDownloadsFromDocket() async throws {
        try await InteropFixture.with("interop-lt-a") { fixture in
            try await fixture.docketSeeds(to: "libtorrent", downloaded: fixture.dir + "/lt/payload.bin") {
                try Libtorrent.start(fixture: fixture, directory: fixture.dir + "/lt", seed: false)
            }
        }
    }

    @Test func docketDownloadsFromLibtorrent() async throws {
        try await InteropFixture.with("interop-lt-b") { fixture in
            let seedDirectory = try fixture.seedDirectory("lt")
            try await fixture.docketDownloads(from: "libtorrent") {
                try Libtorrent.start(fixture: fixture, directory: seedDirectory, seed: true)
            }
        }
    }
}

/// A libtorrent session in /usr/bin/python3 (the Debian python that has the bindings).
enum Libtorrent {
    static let python = "/usr/bin/python3"

    static let isAvailable: Bool = {
        guard FileManager.default.isExecutableFile(atPath: python) else { return false }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = ["-c", "import libtorrent"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return false }
        process.waitUntilExit()
        return process.terminationStatus == 0
    }()

    /// Downloads into `directory` (exiting when done) or seeds from it (until killed).
    static let script = """
    import libtorrent as lt, sys, time
    torrent, directory, port, seed = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4] == 'seed'
    session = lt.session({'listen_interfaces': '127.0.0.1:%d' % port, 'enable_dht': False, 'enable_lsd': False,
        'enable_upnp': False, 'enable_natpmp': False, 'enable_incoming_utp': False, 'enable_outgoing_utp': False,
        'allow_multiple_connections_per_ip': True, 'announce_ip': '127.0.0.1',
        'alert_mask': lt.alert.category_t.error_notification})
    params = lt.add_torrent_params()
    params.ti = lt.torrent_info(torrent)
    params.save_path = directory
    if seed:
        params.flags |= lt.torrent_flags.seed_mode
    handle = session.add_torrent(params)
    print('started', flush=True)
    while True:
        status = handle.status()
        if not seed and status.is_seeding:
            print('finished', flush=True)
            break
        for alert in session.pop_alerts():
            print(alert.message(), flush=True)
        time.sleep(0.2)
    """

    static func start(fixture: InteropFixture, directory: String, seed: Bool) throws -> SessionChildProcess {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let scriptPath = fixture.dir + "/libtorrent-client.py"
        try script.write(toFile: scriptPath, atomically: true, encoding: .utf8)
        return try SessionChildProcess(python, [scriptPath, fixture.torrentFile, directory, String(try InteropTracker.freePort()), seed ? "seed" : "leech"])
    }
}
