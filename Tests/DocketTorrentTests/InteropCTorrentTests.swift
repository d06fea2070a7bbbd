@testable import DocketTorrent
import Foundation
import Testing

/// Docket against Enhanced CTorrent dnh3.3.2 through opentracker, both directions, byte-verified.
/// ctorrent drops peers that share its own address, so it reports a loopback address of its own
/// (127.x.y.z, all of 127/8 reaches this host) with `-I` and Docket stays on 127.0.0.1.
@Suite(.serialized)
struct InteropCTorrentTests {
    @Test func ctorrentDownloadsFromDocket() async throws {
        try await InteropFixture.with("interop-ct-a") { fixture in
            try FileManager.default.createDirectory(atPath: fixture.dir + "/ct", withIntermediateDirectories: true)
            try await fixture.docketSeeds(to: "ctorrent", downloaded: fixture.dir + "/ct/payload.bin") {
                try CTorrent.start(fixture: fixture, file: fixture.dir + "/ct/payload.bin", seed: false)
            }
        }
    }

    @Test func docketDownloadsFromCTorrent() async throws {
        try await InteropFixture.with("interop-ct-b") { fixture in
            let seedDirectory = try fixture.seedDirectory("ct")
            try await fixture.docketDownloads(from: "ctorrent") {
                try CTorrent.start(fixture: fixture, file: seedDirectory + "/payload.bin", seed: true)
            }
        }
    }
}

enum CTorrent {
    static let path = "/usr/bin/ctorrent"

    /// Downloads to `file`, or seeds it (`-f`: trust it without a hash check).
    static func start(fixture: InteropFixture, file: String, seed: Bool) throws -> SessionChildProcess {
        let port = try InteropTracker.freePort()
        let identity = "127.\(Int(port) / 62_500 + 1).\((Int(port) / 250) % 250 + 1).\(Int(port) % 250 + 2)"
        var arguments = ["-e", seed ? "1" : "0", "-s", file, "-p", String(port), "-I", identity, "-b", file + ".bf", "-M", "20"]
        if seed { arguments.append("-f") }
        return try SessionChildProcess(path, arguments + [fixture.torrentFile], currentDirectory: fixture.dir)
    }
}
