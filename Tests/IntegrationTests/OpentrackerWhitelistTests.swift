import DocketCore
import DocketKit
import DocketTorrent
import Foundation
import Testing

/// Debian's opentracker (whitelist mode) as the registry's tracker: `docket-cli serve --tracker …
/// --tracker-whitelist … --tracker-pidfile …` keeps its whitelist and makes it reload, and pulls
/// find their peers through it.
@Suite(.serialized) struct OpentrackerWhitelistTests {
    let cli = CLIBinary.path

    /// opentracker chrooted in `root`, reading `root/whitelist`, its pid written to `pidFile`.
    final class Opentracker: @unchecked Sendable {
        let process = Process()
        let port = CLIBinary.freePort()
        let root: String
        let pidFile: String
        var announceURL: String { "http://127.0.0.1:\(port)/announce" }
        var whitelistPath: String { root + "/whitelist" }

        init(root: String, pidFile: String) throws {
            self.root = root
            self.pidFile = pidFile
            try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
            FileManager.default.createFile(atPath: whitelistPath, contents: Data())
            let config = "listen.tcp_udp 127.0.0.1:\(port)\ntracker.rootdir \(root)\naccess.whitelist /whitelist\n"
            try config.write(toFile: root + "/opentracker.conf", atomically: true, encoding: .utf8)
            process.executableURL = URL(fileURLWithPath: "/usr/bin/opentracker")
            process.arguments = ["-f", root + "/opentracker.conf"]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            try "\(process.processIdentifier)\n".write(toFile: pidFile, atomically: true, encoding: .utf8)
        }

        /// One announce for `infoHash` as a leecher: the peers, or the tracker's refusal.
        func announce(_ infoHash: InfoHash) async -> Result<AnnounceResponse, Error> {
            let request = AnnounceRequest(infoHash: infoHash, peerID: .random(prefix: "-DK0010-"), port: 6881, uploaded: 0,
                                          downloaded: 0, left: 1000, event: .started, numWant: 50)
            do {
                let response = try await HTTPClient().send(HTTPRequest(url: request.url(base: announceURL), timeout: 5))
                return .success(try AnnounceResponse.parse([UInt8](response.body)))
            } catch {
                return .failure(error)
            }
        }

        /// Seeders opentracker lists for `infoHash` (from /scrape); nil when it does not answer.
        func seeders(_ infoHash: InfoHash) async -> Int? {
            let escaped = infoHash.bytes.map { String(format: "%%%02X", $0) }.joined()
            guard let response = try? await HTTPClient().send(HTTPRequest(url: "http://127.0.0.1:\(port)/scrape?info_hash=\(escaped)", timeout: 5)),
                  let value = try? Bencode.decode([UInt8](response.body)), case .dictionary(let files)? = value["files"],
                  let entry = files[infoHash.bytes] else { return nil }
            return entry["complete"]?.integer.map { Int($0) }
        }

        /// SIGTERM, then SIGKILL: a child of the test runner may inherit SIGTERM blocked.
        func stop() {
            guard process.isRunning else { return }
            kill(process.processIdentifier, SIGTERM)
            for _ in 0..<30 where process.isRunning { usleep(100_000) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
        }
    }

    /// Whether `result` is opentracker refusing a hash that is not on its whitelist.
    private func isRefusal(_ result: Result<AnnounceResponse, Error>) -> Bool {
        if case .failure(let error) = result, case TrackerError.failure(let reason)? = error as? TrackerError {
            return reason.contains("not authorized")
        }
        return false
    }

    /// Polls `condition` every 100 ms off the cooperative pool; false after `seconds`.
    private func eventually(_ seconds: Double, _ condition: @escaping @Sendable () async -> Bool) async -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if await condition() { return true }
            try? await Task.sleep(for: .milliseconds(100))
        }
        return await condition()
    }

    @Test func registryKeepsOpentrackersWhitelistAndPullsFindPeersThroughIt() async throws {
        // The same image pushed to a throwaway registry first: torrents are deterministic, so its
        // layer info-hashes are the ones `serve` will make, known before `serve` sees the image.
        let live = try await LiveRegistry.start(payloadMB: 12, label: "otwl")
        defer { live.stop() }
        var hashes: [InfoHash] = []
        for layer in live.resolved.manifest.layers where layer.size >= 1 << 20 {
            let body = try await HTTPClient().send(HTTPRequest(url: "\(live.url)/docket/v1/blobs/\(layer.digest)/torrent")).body
            hashes.append(try Metainfo.parse([UInt8](body)).infoHash)
        }
        let layerHashes = hashes
        try #require(layerHashes.count >= 1)
        let archive = live.directory.path + "/image.tar"

        let directory = try TemporaryDirectory("otwl")
        defer { directory.remove() }
        let tracker = try Opentracker(root: directory.path + "/opentracker", pidFile: directory.path + "/opentracker.pid")
        defer { tracker.stop() }
        let unlisted = InfoHash(hex: String(repeating: "ab", count: 20))!
        // Whitelist mode is on: the layer hashes and any other hash are refused before the push.
        #expect(await eventually(10) { self.isRefusal(await tracker.announce(unlisted)) }, "opentracker did not refuse an unlisted hash")
        for hash in layerHashes {
            #expect(isRefusal(await tracker.announce(hash)), "opentracker accepted \(hash) before the registry listed it")
        }

        let serve = try await ServeProcess(dataDirectory: directory.path + "/registry", arguments: [
            "--tracker", tracker.announceURL, "--tracker-whitelist", tracker.whitelistPath, "--tracker-pidfile", tracker.pidFile,
            "--upload-limit", "3M",
        ])
        defer { serve.stop() }
        let push = try await Command.run(cli, ["push", "--registry", serve.url, archive, "it/otwl:1.0"])
        #expect(push.output.contains("pushed it/otwl:1.0"))

        // (a) The whitelist lists the layer torrents' info-hashes, as served with opentracker's URL.
        let whitelist = tracker.whitelistPath
        #expect(await eventually(60) {
            let listed = Set((FileManager.default.contents(atPath: whitelist).map { String(decoding: $0, as: UTF8.self) } ?? "").split(separator: "\n").map(String.init))
            return layerHashes.allSatisfy { listed.contains($0.hex) }
        }, "the whitelist never listed \(layerHashes)")
        for layer in live.resolved.manifest.layers where layer.size >= 1 << 20 {
            let body = try await HTTPClient().send(HTTPRequest(url: "\(serve.url)/docket/v1/blobs/\(layer.digest)/torrent")).body
            let served = try Metainfo.parse([UInt8](body))
            #expect(layerHashes.contains(served.infoHash))
            #expect(served.announce == tracker.announceURL)
        }

        // (b) After the SIGHUP, opentracker answers for those hashes, and still refuses others.
        for hash in layerHashes {
            #expect(await eventually(10) { (try? await tracker.announce(hash).get()) != nil }, "opentracker still refuses \(hash) after the reload")
        }
        #expect(isRefusal(await tracker.announce(unlisted)))
        // The registry's seeder announced itself there.
        #expect(await eventually(30) { 
            for hash in layerHashes where (await tracker.seeders(hash) ?? 0) < 1 { return false }
            return true
        }, "the registry's seeder is not listed by opentracker")

        // (c) Two pulls at once, verified; their only tracker is opentracker, so every peer they
        // met (the registry's seeder, each other) came from it. The seeder sends 3 MB/s: the two
        // 12 MB pulls must trade pieces.
        let (cli, registryURL, work) = (self.cli, serve.url, directory.path)
        let pulls = try await withThrowingTaskGroup(of: CommandResult.self) { group in
            for index in 1...2 {
                group.addTask {
                    try await Command.run(cli, ["pull", "--registry", registryURL, "it/otwl:1.0", "--store", work + "/store\(index)",
                                                "--output", work + "/out\(index).tar", "--seed-time", "2", "--json"], timeout: 180)
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        var fromPeers: [Int64] = []
        var peersSeen = 0
        for pull in pulls {
            let events = pull.output.split(separator: "\n").compactMap {
                try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
            }
            let pulled = events.first { $0["event"] as? String == "pulled" }
            #expect(pulled != nil, "no pulled event: \(pull.output.suffix(2000))")
            fromPeers.append((pulled?["bytesFromPeers"] as? NSNumber)?.int64Value ?? 0)
            peersSeen = max(peersSeen, events.compactMap { ($0["connectedPeers"] as? NSNumber)?.intValue }.max() ?? 0)
        }
        #expect(peersSeen >= 1, "no pull ever connected to a peer")
        #expect(fromPeers.contains { $0 > 0 }, "the pulls did not trade pieces: \(fromPeers)")
        for index in 1...2 {
            let manifestJSON = try await Command.run("tar", ["-xOf", directory.path + "/out\(index).tar", "manifest.json"]).output
            let entries = try JSONSerialization.jsonObject(with: Data(manifestJSON.utf8)) as? [[String: Any]]
            #expect((entries?.first?["Layers"] as? [String])?.count == live.resolved.manifest.layers.count)
        }
    }
}
