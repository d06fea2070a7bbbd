import DocketCore
import Foundation
import Testing

/// Pulls into one store at once go to `tmp/` while another holds the layer's partial file. One of
/// them killed with SIGKILL leaves its download and resume file there; the next pull removes them
/// and leaves the files of the pull still running alone.
@Suite(.serialized) struct ConcurrentPullSweepTests {
    @Test func nextPullRemovesTheTmpFilesOfAKilledPullOnly() async throws {
        let registry = try await LiveRegistry.start(payloadMB: 8, label: "sweep")
        defer { registry.stop() }
        let store = registry.directory.path + "/store"
        let payload = try #require(registry.resolved.manifest.layers.max { $0.size < $1.size })
        let tmp = store + "/tmp"
        let (url, reference, directory) = (registry.url, registry.reference.description, registry.directory.path)
        let pull: @Sendable (String, Int?) -> [String] = { name, limit in
            ["pull", "--registry", url, reference, "--store", store, "--output", "\(directory)/\(name).tar", "--seed-time", "0", "--json"]
                + (limit.map { ["--download-limit", String($0)] } ?? [])
        }
        // The partial file is held the way a first pull holds it, so every pull below uses tmp/.
        try FileManager.default.createDirectory(atPath: store + "/partial", withIntermediateDirectories: true)
        let marker = registry.directory.path + "/locked"
        let holder = try Command.start("/usr/bin/python3", [
            "-c", "import fcntl, sys, time; f = open(sys.argv[1], 'a'); fcntl.flock(f, fcntl.LOCK_EX); "
                + "open(sys.argv[2], 'w').close(); time.sleep(120)",
            "\(store)/partial/\(payload.digest.hex).lock", marker,
        ])
        defer { Self.end(holder) }

        let hex = payload.digest.hex
        let downloads: @Sendable () -> Set<String> = { Self.downloads(in: tmp, of: hex) }
        let (live, killed, liveFiles, killedFiles) = try await Blocking.run { () -> (pid_t, pid_t, Set<String>, Set<String>) in
            for _ in 0..<250 where !FileManager.default.fileExists(atPath: marker) { usleep(20_000) }
            // Slow enough (8 MB at 250 kB/s: about 30 s) to be still running when the next pull has
            // swept, however loaded the machine (at 1 MB/s it had finished first in a full test run).
            let live = try Command.start(CLIBinary.path, pull("live", 250_000))
            var liveFiles: Set<String> = []
            for _ in 0..<500 where liveFiles.isEmpty {
                liveFiles = downloads()
                usleep(20_000)
            }
            let killed = try Command.start(CLIBinary.path, pull("killed", 1_000_000))
            var killedFiles: Set<String> = []
            // Killed once its download and resume file are there (the engine writes the record each second).
            for _ in 0..<500 {
                killedFiles = downloads().subtracting(liveFiles)
                if let file = killedFiles.first, FileManager.default.fileExists(atPath: "\(tmp)/\(file).docket-resume") { break }
                usleep(20_000)
            }
            kill(killed, SIGKILL)
            var status: Int32 = 0
            waitpid(killed, &status, 0)
            return (live, killed, liveFiles, killedFiles)
        }
        defer { Self.end(live) }
        #expect(liveFiles.count == 1 && killedFiles.count == 1, "downloads in tmp/: live \(liveFiles), killed \(killedFiles)")
        let killedFile = try #require(killedFiles.first)
        let liveFile = try #require(liveFiles.first)
        #expect(FileManager.default.fileExists(atPath: "\(tmp)/\(killedFile).docket-resume"), "pull \(killed) wrote no resume file")

        // The next pull (unlimited) sweeps the killed one's files, not the live one's.
        try await Command.run(CLIBinary.path, pull("next", nil), timeout: 120)
        let left = Set((try? FileManager.default.contentsOfDirectory(atPath: tmp)) ?? [])
        #expect(!left.contains(killedFile) && !left.contains(killedFile + ".docket-resume"), "left in tmp/: \(left.sorted())")
        #expect(left.contains(liveFile), "the running pull's download \(liveFile) was removed: \(left.sorted())")
        #expect(try Digest.sha256(ofFileAt: "\(store)/blobs/sha256/\(payload.digest.hex)") == payload.digest)

        // And the live pull still finishes.
        let status = try await Blocking.run { () -> Int32 in
            var status: Int32 = 0
            for _ in 0..<4500 where waitpid(live, &status, WNOHANG) == 0 { usleep(20_000) }
            return status
        }
        #expect(status == 0, "the live pull ended with wait status \(status)")
    }

    /// `<hex>.<uuid>` downloads of the blob in `directory` (not their companions).
    private static func downloads(in directory: String, of hex: String) -> Set<String> {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return Set(entries.filter { $0.hasPrefix(hex + ".") && $0.split(separator: ".").count == 2 })
    }

    /// Kills and reaps `pid` if it still runs.
    private static func end(_ pid: pid_t) {
        var status: Int32 = 0
        if waitpid(pid, &status, WNOHANG) == 0 {
            kill(pid, SIGKILL)
            waitpid(pid, &status, 0)
        }
    }
}
