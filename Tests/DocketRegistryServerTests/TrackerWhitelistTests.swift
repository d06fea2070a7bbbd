import DocketKit
import DocketTorrent
import Foundation
import Testing
@testable import DocketRegistryServer

@Suite struct TrackerWhitelistTests {
    private let first = InfoHash(hex: "00112233445566778899aabbccddeeff00112233")!
    private let second = InfoHash(hex: "ffeeddccbbaa99887766554433221100ffeeddcc")!

    private func contents(_ path: String) -> String {
        String(decoding: FileManager.default.contents(atPath: path) ?? Data(), as: UTF8.self)
    }

    /// A child process this test owns that exits with status 42 on `SIGHUP` (python3, which
    /// unblocks and handles the signal whatever it inherited); returns once the handler is set.
    /// A process that exits 42 on SIGHUP; `name` becomes its command name (/proc/PID/comm).
    private func hangupListener(_ dir: String, name: String = "opentracker") async throws -> Process {
        let ready = dir + "/ready-\(UUID().uuidString.prefix(6))"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = ["-c", """
            import signal, sys, time
            signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGHUP])
            signal.signal(signal.SIGHUP, lambda *_: sys.exit(42))
            open('/proc/self/comm', 'w').write(sys.argv[2])
            open(sys.argv[1], 'w').close()
            time.sleep(60)
            """, ready, name]
        try process.run()
        for _ in 0..<200 where !FileManager.default.fileExists(atPath: ready) { try? await Task.sleep(for: .milliseconds(25)) }
        return process
    }

    /// Waits (off the cooperative pool's threads) for `process` to end; false after 10 s.
    private func ended(_ process: Process) async -> Bool {
        for _ in 0..<200 where process.isRunning { try? await Task.sleep(for: .milliseconds(50)) }
        return !process.isRunning
    }

    @Test func writesSortedHashesByRenameAndReadsThemBack() throws {
        let dir = try LiveRegistry.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let whitelist = TrackerWhitelist(path: dir + "/whitelist")
        #expect(try whitelist.read().isEmpty)
        try whitelist.check()

        try whitelist.write([second, first, second])
        #expect(contents(whitelist.path) == TrackerWhitelist.header + first.hex + "\n" + second.hex + "\n")
        #expect(try whitelist.read() == [first, second])
        let attributes = try FileManager.default.attributesOfItem(atPath: whitelist.path)
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o644)
        let inode = (attributes[.systemFileNumber] as? NSNumber)?.intValue

        // A new file renamed over the old one: a reader never sees half a list.
        try whitelist.write([first])
        #expect(contents(whitelist.path) == TrackerWhitelist.header + first.hex + "\n")
        #expect((try FileManager.default.attributesOfItem(atPath: whitelist.path)[.systemFileNumber] as? NSNumber)?.intValue != inode)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["whitelist"], "no temporary file left behind")

        // Empty: only the header, which is longer than one entry so opentracker replaces its list.
        try whitelist.write([])
        #expect(contents(whitelist.path) == TrackerWhitelist.header)
        #expect(TrackerWhitelist.header.utf8.count >= 41)
        #expect(try whitelist.read().isEmpty)
    }

    @Test func readIgnoresWhatOpentrackerIgnores() throws {
        let dir = try LiveRegistry.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/whitelist"
        try "# comment\n\(first.hex.uppercased())\nnot a hash\n\(second.hex) trailing words\n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(try TrackerWhitelist(path: path).read() == [first, second])
    }

    @Test func sendsSIGHUPToThePidAndToThePidFilesProcess() async throws {
        let dir = try LiveRegistry.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let byPid = try await hangupListener(dir)
        defer { if byPid.isRunning { byPid.terminate() } }
        let whitelist = TrackerWhitelist(path: dir + "/whitelist", reload: .pid(byPid.processIdentifier))
        try whitelist.check()
        try whitelist.write([first])
        try #require(await ended(byPid), "process \(byPid.processIdentifier) got no SIGHUP")
        #expect(byPid.terminationStatus == 42)

        // The pid file is read at each signal: a tracker restarted under a new pid is found.
        let byFile = try await hangupListener(dir)
        defer { if byFile.isRunning { byFile.terminate() } }
        try "\(byFile.processIdentifier)\n".write(toFile: dir + "/tracker.pid", atomically: true, encoding: .utf8)
        let fromFile = TrackerWhitelist(path: dir + "/whitelist", reload: .pidFile(dir + "/tracker.pid"))
        try fromFile.check()
        try fromFile.write([first, second])
        try #require(await ended(byFile), "process \(byFile.processIdentifier) got no SIGHUP")
        #expect(byFile.terminationStatus == 42)
        #expect(try fromFile.read() == [first, second])
    }

    /// A pid (or a stale pid file) naming a process that is not opentracker: refused at start and
    /// at each write, naming the pid and what it is, and the process gets no SIGHUP.
    @Test func refusesToSignalAProcessThatIsNotOpentracker() async throws {
        let dir = try LiveRegistry.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let other = try await hangupListener(dir, name: "postgres")
        defer { if other.isRunning { other.terminate() } }
        let pid = other.processIdentifier
        try "\(pid)\n".write(toFile: dir + "/tracker.pid", atomically: true, encoding: .utf8)
        for reload in [TrackerWhitelist.Reload.pid(pid), .pidFile(dir + "/tracker.pid")] {
            let whitelist = TrackerWhitelist(path: dir + "/whitelist", reload: reload)
            let checked = #expect(throws: TrackerWhitelistError.self) { try whitelist.check() }
            #expect(checked?.description.contains("process \(pid)") == true, "\(checked?.description ?? "")")
            #expect(checked?.description.contains("is 'postgres', not opentracker") == true, "\(checked?.description ?? "")")
            #expect(throws: TrackerWhitelistError.self) { try whitelist.write([first]) }
        }
        #expect(try String(contentsOfFile: dir + "/whitelist", encoding: .utf8).contains(first.hex), "the file itself is written")
        try await Task.sleep(for: .milliseconds(300))
        #expect(other.isRunning, "process \(pid) got SIGHUP although it is not opentracker")
    }

    @Test func checkNamesWhatIsWrong() throws {
        let dir = try LiveRegistry.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        func message(_ whitelist: TrackerWhitelist) -> String {
            do {
                try whitelist.check()
                return "no error"
            } catch {
                return "\(error)"
            }
        }
        #expect(message(TrackerWhitelist(path: dir + "/missing/whitelist")).contains("the directory \(dir)/missing does not exist"))
        #expect(message(TrackerWhitelist(path: dir)).contains("is a directory"))
        let gone: Int32 = 2_147_483_000   // above any pid_max
        #expect(message(TrackerWhitelist(path: dir + "/w", reload: .pid(gone))).contains("no process \(gone)"))
        #expect(message(TrackerWhitelist(path: dir + "/w", reload: .pidFile(dir + "/none.pid"))).contains("pid file \(dir)/none.pid cannot be read"))
        try "opentracker\n".write(toFile: dir + "/bad.pid", atomically: true, encoding: .utf8)
        #expect(message(TrackerWhitelist(path: dir + "/w", reload: .pidFile(dir + "/bad.pid"))).contains("holds 'opentracker', not a process id"))
        #expect(message(TrackerWhitelist(path: dir + "/w", reload: .pid(getpid()))).contains("process \(getpid()) is '"))
        // A file the registry did not write (a config, another project's list) is not taken over;
        // an empty one, or one it wrote, is.
        let foreign = dir + "/opentracker.conf"
        try "listen.tcp_udp 127.0.0.1:6969\n".write(toFile: foreign, atomically: true, encoding: .utf8)
        #expect(message(TrackerWhitelist(path: foreign)).contains("was not written by a Docket registry"))
        #expect(try String(contentsOfFile: foreign, encoding: .utf8) == "listen.tcp_udp 127.0.0.1:6969\n")
        try "".write(toFile: dir + "/empty", atomically: true, encoding: .utf8)
        #expect(message(TrackerWhitelist(path: dir + "/empty")) == "no error")
        let ours = TrackerWhitelist(path: dir + "/ours")
        try ours.write([InfoHash]())
        #expect(message(ours) == "no error")
        // A registry refuses to start with a whitelist it cannot keep.
        var configuration = RegistryServer.Configuration.testing(dataDirectory: dir + "/data")
        configuration.trackerWhitelist = TrackerWhitelist(path: dir + "/missing/whitelist")
        #expect(throws: TrackerWhitelistError.self) { try RegistryServer(configuration: configuration).start() }
    }

    /// The registry lists every torrent it serves: at start, after a push, and gc takes the
    /// collected blobs' torrents out. Its seeder announces to the external tracker.
    @Test func registryKeepsTheWhitelistOfItsTorrents() async throws {
        let work = try LiveRegistry.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: work) }
        let tracker = "http://127.0.0.1:9/announce"
        let whitelist = TrackerWhitelist(path: work + "/whitelist")
        let registry = try await LiveRegistry.start { $0.externalTracker = tracker; $0.trackerWhitelist = whitelist }
        defer { try? FileManager.default.removeItem(atPath: registry.directory) }
        #expect(contents(whitelist.path) == TrackerWhitelist.header, "an empty registry writes an empty whitelist at start")

        let image = try TestImage.make(in: work, largeLayerSize: 1_500_000)
        #expect(try await registry.push(image.archivePath, name: "team/app", tag: "1").status == 201)
        let orphan = Data((0..<(1 << 20) + 100).map { UInt8(truncatingIfNeeded: $0 &* 7) })
        let upload = HTTPRequest(method: "POST", url: registry.base + "/v2/team/app/blobs/uploads/?digest=\(Digest.sha256(of: orphan))",
                                 headers: [("Content-Type", "application/octet-stream")], body: .data(orphan))
        #expect(try await registry.client.send(upload).status == 201)

        let layer = try Metainfo.parse([UInt8](try await registry.get("/docket/v1/blobs/\(image.layerDigests[1])/torrent").body))
        let orphanTorrent = try Metainfo.parse([UInt8](try await registry.get("/docket/v1/blobs/\(Digest.sha256(of: orphan))/torrent").body))
        #expect(layer.announce == tracker)
        // Served torrents are listed before they are handed out.
        #expect(try whitelist.read() == [layer.infoHash, orphanTorrent.infoHash])
        await registry.stop()

        // At start, a fresh file lists every stored torrent.
        try FileManager.default.removeItem(atPath: whitelist.path)
        let again = try await LiveRegistry.start(directory: registry.directory) { $0.externalTracker = tracker; $0.trackerWhitelist = whitelist }
        #expect(try whitelist.read() == [layer.infoHash, orphanTorrent.infoHash])
        await again.stop()

        let report = try GarbageCollector.collect(dataDirectory: registry.directory, whitelist: whitelist)
        #expect(report.removedBlobs == [Digest.sha256(of: orphan)])
        #expect(try whitelist.read() == [layer.infoHash])
    }
}
