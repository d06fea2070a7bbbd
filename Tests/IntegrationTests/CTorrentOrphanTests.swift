import DocketCore
import Foundation
import Testing

/// `docket-cli pull --backend ctorrent` ended by a signal in the middle of a layer: every ctorrent it
/// started must go too (before, SIGKILL left them seeding, writing into `partial/` and holding ports).
@Suite(.serialized) struct CTorrentOrphanTests {
    @Test(arguments: [SIGKILL, SIGTERM])
    func ctorrentChildrenDieWithThePull(_ signal: Int32) async throws {
        // The registry's seeder sends 1 MB/s and ctorrent has no web seed: the 8 MB layer takes seconds.
        let registry = try await LiveRegistry.start(payloadMB: 8, seederUploadLimit: 1_000_000, label: "orphan-\(signal)")
        defer { registry.stop() }
        let store = registry.directory.path + "/store"
        let pullPID = try Command.start(CLIBinary.path, [
            "pull", "--registry", registry.url, registry.reference.description, "--store", store,
            "--output", registry.directory.path + "/out.tar", "--seed-time", "60", "--backend", "ctorrent",
            "--port", String(CLIBinary.freePort()), "--json",
        ])
        let payload = try #require(registry.resolved.manifest.layers.max { $0.size < $1.size })
        let partial = "\(store)/partial/\(payload.digest.hex)"

        // Watched from a thread of its own: once ctorrent has written part of the big layer, kill.
        let (children, scratch) = try await Blocking.run { () -> ([Int32], [String]) in
            var children: [Int32] = []
            for _ in 0..<1500 {
                children = ProcessTree.descendants(of: pullPID, named: "ctorrent")
                if !children.isEmpty, ProcessTree.allocatedBytes(partial) > 0 { break }
                usleep(20_000)
            }
            // Each ctorrent's scratch directory (torrent and bitfield files): its `-b` argument's directory.
            let scratch = children.compactMap { ProcessTree.argument(after: "-b", of: $0) }.map { ($0 as NSString).deletingLastPathComponent }
            kill(pullPID, signal)
            var status: Int32 = 0
            while waitpid(pullPID, &status, 0) < 0 && errno == EINTR {}
            return (children, scratch)
        }
        defer { for pid in children where ProcessTree.isAlive(pid, named: "ctorrent") { kill(pid, SIGKILL) } }
        #expect(!children.isEmpty, "no ctorrent was started under docket-cli \(pullPID)")
        #expect(!FileManager.default.fileExists(atPath: "\(store)/blobs/sha256/\(payload.digest.hex)"),
                "the layer finished before the kill: the test did not interrupt a transfer")

        let survivors = try await Blocking.run { () -> [Int32] in
            var survivors = children
            for _ in 0..<300 where !survivors.isEmpty {
                survivors = survivors.filter { ProcessTree.isAlive($0, named: "ctorrent") }
                usleep(20_000)
            }
            return survivors
        }
        #expect(survivors.isEmpty, "ctorrent \(survivors) outlived docket-cli pull killed by signal \(signal)")
        #expect(scratch.count == children.count, "no -b argument in the command lines of \(children)")
        let leftovers = try await Blocking.run { () -> [String] in
            var leftovers = scratch
            for _ in 0..<100 where !leftovers.isEmpty {
                leftovers = leftovers.filter { FileManager.default.fileExists(atPath: $0) }
                usleep(20_000)
            }
            return leftovers
        }
        #expect(leftovers.isEmpty, "ctorrent scratch directories left behind: \(leftovers)")
        #expect(ProcessTree.ctorrents(mentioning: store).isEmpty, "a ctorrent still works on \(store)")
    }
}

/// The process tree as /proc shows it.
enum ProcessTree {
    /// Live processes called `name` whose parent chain leads to `ancestor`.
    static func descendants(of ancestor: Int32, named name: String) -> [Int32] {
        allPIDs().filter { pid in
            guard isAlive(pid, named: name) else { return false }
            var current = pid
            for _ in 0..<64 {
                guard let parent = entry(current)?.parent, parent > 1 else { return false }
                if parent == ancestor { return true }
                current = parent
            }
            return false
        }
    }

    /// Live (not zombie) ctorrent processes whose command line mentions `text`, whoever their parent.
    static func ctorrents(mentioning text: String) -> [Int32] {
        allPIDs().filter { pid in
            guard isAlive(pid, named: "ctorrent"),
                  let cmdline = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return false }
            return String(decoding: cmdline, as: UTF8.self).contains(text)
        }
    }

    /// The argument that follows `flag` in the command line of `pid`.
    static func argument(after flag: String, of pid: Int32) -> String? {
        guard let cmdline = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return nil }
        let arguments = cmdline.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
        guard let index = arguments.firstIndex(of: flag), index + 1 < arguments.count else { return nil }
        return arguments[index + 1]
    }

    /// True while `pid` runs under that name (an exited, unreaped process counts as gone).
    static func isAlive(_ pid: Int32, named name: String) -> Bool {
        guard let entry = entry(pid) else { return false }
        return entry.name == name && entry.state != "Z"
    }

    /// Bytes on disk of the file at `path` (ctorrent preallocates sparsely), 0 when missing.
    static func allocatedBytes(_ path: String) -> Int64 {
        var info = stat()
        guard stat(path, &info) == 0 else { return 0 }
        return Int64(info.st_blocks) * 512
    }

    private static func allPIDs() -> [Int32] {
        ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).compactMap { Int32($0) }
    }

    private static func entry(_ pid: Int32) -> (name: String, state: Character, parent: Int32)? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let open = text.firstIndex(of: "("), let close = text.lastIndex(of: ")") else { return nil }
        let fields = text[text.index(after: close)...].split(separator: " ")
        guard fields.count > 2, let state = fields[0].first, let parent = Int32(fields[1]) else { return nil }
        return (String(text[text.index(after: open)..<close]), state, parent)
    }
}
