@testable import DocketTorrent
import Foundation
import Testing

/// Docket against transmission-cli 3.00 through opentracker, both directions, byte-verified.
/// transmission ignores loopback peers from a tracker, so it runs in a network namespace of its
/// own, joined to this one by a veth link.
@Suite(.serialized, .enabled(if: NamespaceLink.isAvailable, "needs root to create network namespaces"))
struct InteropTransmissionTests {
    @Test func transmissionDownloadsFromDocket() async throws {
        try await InteropFixture.with("interop-tr-a", namespace: true) { fixture in
            try await fixture.docketSeeds(to: "transmission-cli", downloaded: fixture.dir + "/tr/payload.bin") {
                try Transmission.start(fixture: fixture, downloadDirectory: fixture.dir + "/tr")
            }
        }
    }

    @Test func docketDownloadsFromTransmission() async throws {
        try await InteropFixture.with("interop-tr-b", namespace: true) { fixture in
            let seedDirectory = try fixture.seedDirectory("tr")
            try await fixture.docketDownloads(from: "transmission-cli") {
                try Transmission.start(fixture: fixture, downloadDirectory: seedDirectory)
            }
        }
    }
}

/// transmission-cli with its own config directory: no DHT, LPD, PEX, uTP or port mapping.
enum Transmission {
    static let path = "/usr/bin/transmission-cli"

    /// Downloads into (or, when the payload is already there, seeds from) `downloadDirectory`.
    static func start(fixture: InteropFixture, downloadDirectory: String) throws -> SessionChildProcess {
        let config = fixture.dir + "/tr-config-\(UUID().uuidString.prefix(6))"
        try FileManager.default.createDirectory(atPath: config, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: downloadDirectory, withIntermediateDirectories: true)
        let settings = """
        {"dht-enabled": false, "lpd-enabled": false, "pex-enabled": false, "utp-enabled": false,
         "port-forwarding-enabled": false, "encryption": 0, "ratio-limit-enabled": false,
         "speed-limit-up-enabled": false, "speed-limit-down-enabled": false}
        """
        try settings.write(toFile: config + "/settings.json", atomically: true, encoding: .utf8)
        let arguments = ["-g", config, "-w", downloadDirectory, "-p", String(try InteropTracker.freePort()), "-M", "-et", fixture.torrentFile]
        let (executable, command) = fixture.link.map { $0.command(path, arguments) } ?? (path, arguments)
        return try SessionChildProcess(executable, command)
    }
}
