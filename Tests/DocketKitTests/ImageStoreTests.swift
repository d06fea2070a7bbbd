import Foundation
import Testing
@testable import DocketKit

/// Which backend a shared-suite test runs against.
enum StoreKind: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case file, memory

    var testDescription: String { rawValue }

    func make() -> (any ImageStore, cleanup: @Sendable () -> Void) {
        switch self {
        case .file:
            let root = (NSTemporaryDirectory() as NSString).appendingPathComponent("docket-store-test-\(UUID().uuidString)")
            return (FileImageStore(root: root), { try? FileManager.default.removeItem(atPath: root) })
        case .memory:
            return (MemoryImageStore(), {})
        }
    }
}

/// The one suite every `ImageStore` passes.
@Suite struct ImageStoreTests {
    let bytes = Data("layer bytes for the store suite".utf8)
    var digest: Digest { Digest.sha256(of: bytes) }

    @Test(arguments: StoreKind.allCases)
    func commitVerifiesAndPublishes(_ kind: StoreKind) async throws {
        let (store, cleanup) = kind.make()
        defer { cleanup() }
        #expect(await store.contains(digest) == false)
        #expect(await store.path(of: digest) == nil)
        let write = try await store.beginWrite(digest)
        #expect(FileManager.default.fileExists(atPath: write.path))
        try bytes.write(to: URL(fileURLWithPath: write.path))
        try await store.commit(write)
        #expect(await store.contains(digest))
        let path = try #require(await store.path(of: digest))
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == bytes)
        #expect(!FileManager.default.fileExists(atPath: write.path))
    }

    @Test(arguments: StoreKind.allCases)
    func mismatchLeavesNothing(_ kind: StoreKind) async throws {
        let (store, cleanup) = kind.make()
        defer { cleanup() }
        let write = try await store.beginWrite(digest)
        let wrong = Data("other bytes".utf8)
        try wrong.write(to: URL(fileURLWithPath: write.path))
        await #expect(throws: DocketError.self) { try await store.commit(write) }
        #expect(await store.contains(digest) == false)
        #expect(await store.path(of: digest) == nil)
        #expect(!FileManager.default.fileExists(atPath: write.path))
    }

    @Test(arguments: StoreKind.allCases)
    func mismatchReportsBothDigests(_ kind: StoreKind) async throws {
        let (store, cleanup) = kind.make()
        defer { cleanup() }
        let write = try await store.beginWrite(digest)
        let wrong = Data("tampered".utf8)
        try wrong.write(to: URL(fileURLWithPath: write.path))
        let error = await #expect(throws: DocketError.self) { try await store.commit(write) }
        guard case .digestMismatch(let expected, let actual)? = error else {
            Issue.record("expected digestMismatch, got \(String(describing: error))")
            return
        }
        #expect(expected == digest)
        #expect(actual == Digest.sha256(of: wrong))
    }

    @Test(arguments: StoreKind.allCases)
    func readBackCommitPublishesAndAWrongOneLeavesNothing(_ kind: StoreKind) async throws {
        let (store, cleanup) = kind.make()
        defer { cleanup() }
        // A writer's read-back digest that is not the blob's: refused like any mismatch, file removed.
        let wrong = try await store.beginWrite(digest)
        try bytes.write(to: URL(fileURLWithPath: wrong.path))
        let error = await #expect(throws: DocketError.self) {
            try await store.commit(wrong, readBack: Digest.sha256(of: Data("other".utf8)))
        }
        guard case .digestMismatch(let expected, _)? = error else {
            Issue.record("expected digestMismatch, got \(String(describing: error))")
            return
        }
        #expect(expected == digest)
        #expect(await store.contains(digest) == false)
        #expect(!FileManager.default.fileExists(atPath: wrong.path))
        // The right one publishes the bytes.
        let write = try await store.beginWrite(digest)
        try bytes.write(to: URL(fileURLWithPath: write.path))
        try await store.commit(write, readBack: digest)
        let path = try #require(await store.path(of: digest))
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == bytes)
    }

    @Test(arguments: StoreKind.allCases)
    func cancelRemovesTheWrite(_ kind: StoreKind) async throws {
        let (store, cleanup) = kind.make()
        defer { cleanup() }
        let write = try await store.beginWrite(digest)
        try bytes.write(to: URL(fileURLWithPath: write.path))
        await store.cancel(write)
        #expect(!FileManager.default.fileExists(atPath: write.path))
        #expect(await store.contains(digest) == false)
    }

    @Test(arguments: StoreKind.allCases)
    func concurrentWritesOfOneBlobDoNotCollide(_ kind: StoreKind) async throws {
        let (store, cleanup) = kind.make()
        defer { cleanup() }
        let first = try await store.beginWrite(digest)
        let second = try await store.beginWrite(digest)
        #expect(first.path != second.path)
        try bytes.write(to: URL(fileURLWithPath: first.path))
        try bytes.write(to: URL(fileURLWithPath: second.path))
        try await store.commit(first)
        try await store.commit(second)
        #expect(await store.contains(digest))
    }

    @Test(arguments: StoreKind.allCases)
    func resumableWriteKeepsItsBytesUntilCommitted(_ kind: StoreKind) async throws {
        let (store, cleanup) = kind.make()
        defer { cleanup() }
        let first = try await store.beginResumableWrite(digest)
        #expect(first.isResumable)
        let half = bytes.prefix(bytes.count / 2)
        try half.write(to: URL(fileURLWithPath: first.path))
        try Data("resume".utf8).write(to: URL(fileURLWithPath: first.path + ".docket-resume"))
        await store.cancel(first)
        // The next attempt gets the same file with what the first one wrote.
        let second = try await store.beginResumableWrite(digest)
        #expect(second == first)
        #expect(try Data(contentsOf: URL(fileURLWithPath: second.path)) == half)
        try bytes.write(to: URL(fileURLWithPath: second.path))
        try await store.commit(second)
        #expect(try Data(contentsOf: URL(fileURLWithPath: try #require(await store.path(of: digest)))) == bytes)
        #expect(!FileManager.default.fileExists(atPath: second.path))
        #expect(!FileManager.default.fileExists(atPath: second.path + ".docket-resume"))
        #expect(!FileManager.default.fileExists(atPath: second.path + ".lock"))
    }

    @Test(arguments: StoreKind.allCases)
    func heldResumableWriteSendsOthersToAPlainWrite(_ kind: StoreKind) async throws {
        let (store, cleanup) = kind.make()
        defer { cleanup() }
        let holder = try await store.beginResumableWrite(digest)
        let other = try await store.beginResumableWrite(digest)
        #expect(!other.isResumable)
        #expect(other.path != holder.path)
        try bytes.write(to: URL(fileURLWithPath: other.path))
        try await store.commit(other)
        #expect(await store.contains(digest))
        await store.cancel(holder)
        let again = try await store.beginResumableWrite(digest)
        #expect(again.isResumable)
        await store.cancel(again)
    }

    @Test(arguments: StoreKind.allCases)
    func wrongResumableBytesAreThrownAway(_ kind: StoreKind) async throws {
        let (store, cleanup) = kind.make()
        defer { cleanup() }
        let write = try await store.beginResumableWrite(digest)
        try Data("not the layer".utf8).write(to: URL(fileURLWithPath: write.path))
        try Data("resume".utf8).write(to: URL(fileURLWithPath: write.path + ".docket-resume"))
        await #expect(throws: DocketError.self) { try await store.commit(write) }
        #expect(!FileManager.default.fileExists(atPath: write.path + ".docket-resume"))
        let fresh = try await store.beginResumableWrite(digest)
        #expect(fresh.isResumable)
        #expect(try Data(contentsOf: URL(fileURLWithPath: fresh.path)).isEmpty)
        await store.cancel(fresh)
    }

    /// Another process holding the partial's lock (util-linux `flock`) sends this one to `tmp/`.
    @Test func fileStorePartialIsExclusiveAcrossProcesses() async throws {
        let root = (NSTemporaryDirectory() as NSString).appendingPathComponent("docket-partial-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.createDirectory(atPath: "\(root)/partial", withIntermediateDirectories: true)
        let marker = "\(root)/locked"
        let holder = Process()
        holder.executableURL = URL(fileURLWithPath: "/usr/bin/flock")
        holder.arguments = ["-o", "\(root)/partial/\(digest.hex).lock", "sh", "-c", "touch \(marker); sleep 30"]
        try holder.run()
        // SIGKILL: the test runner's signal mask may leave SIGTERM blocked in children.
        defer { if holder.isRunning { kill(holder.processIdentifier, SIGKILL) } }
        for _ in 0..<100 where !FileManager.default.fileExists(atPath: marker) { try await Task.sleep(for: .milliseconds(50)) }
        #expect(FileManager.default.fileExists(atPath: marker))
        let store = FileImageStore(root: root)
        let write = try await store.beginResumableWrite(digest)
        #expect(!write.isResumable)
        #expect(write.path.hasPrefix("\(root)/tmp/"))
        await store.cancel(write)
        kill(holder.processIdentifier, SIGKILL)
        var resumable = false
        for _ in 0..<100 where !resumable {
            let attempt = try await store.beginResumableWrite(digest)
            resumable = attempt.isResumable
            await store.cancel(attempt)
            if !resumable { try await Task.sleep(for: .milliseconds(50)) }
        }
        #expect(resumable)
    }

    @Test(arguments: StoreKind.allCases)
    func manifestsByTagAndDigest(_ kind: StoreKind) async throws {
        let (store, cleanup) = kind.make()
        defer { cleanup() }
        let manifest = Data(#"{"schemaVersion":2}"#.utf8)
        let tag = try ImageReference(parsing: "team/app:1.0")
        #expect(try await store.manifest(for: tag) == nil)
        let digest = try await store.putManifest(manifest, for: tag)
        #expect(digest == Digest.sha256(of: manifest))
        #expect(try await store.manifest(for: tag) == manifest)
        #expect(try await store.manifest(for: ImageReference(name: "team/app", reference: digest.description)) == manifest)
        #expect(try await store.manifest(for: ImageReference(parsing: "team/app:2.0")) == nil)
    }

    @Test(arguments: StoreKind.allCases)
    func manifestUnderWrongDigestIsRefused(_ kind: StoreKind) async throws {
        let (store, cleanup) = kind.make()
        defer { cleanup() }
        let reference = try ImageReference(name: "team/app", reference: "sha256:" + String(repeating: "0", count: 64))
        await #expect(throws: DocketError.self) { _ = try await store.putManifest(Data("{}".utf8), for: reference) }
        #expect(try await store.manifest(for: reference) == nil)
    }

    /// A store whose directory is a file: the error names that file and what to do, without
    /// Foundation's generic text.
    @Test func fileStoreOnAFileSaysSo() async throws {
        let file = NSTemporaryDirectory() + "docket-store-file-\(UUID().uuidString)"
        try Data("not a directory".utf8).write(to: URL(fileURLWithPath: file))
        defer { try? FileManager.default.removeItem(atPath: file) }
        let store = FileImageStore(root: file)
        do {
            _ = try await store.beginWrite(digest)
            Issue.record("a write into a store that is a file succeeded")
        } catch {
            let text = "\(error)"
            #expect(text.contains("\(file) is a file, not a directory"), "\(text)")
            #expect(!text.contains("NSCocoaErrorDomain"), "\(text)")
        }
        #expect(try String(contentsOfFile: file, encoding: .utf8) == "not a directory")
    }

    /// A store that cannot be created (procfs takes no new directories): the error names the
    /// directory that could not be made and the system's reason, not Foundation's generic text.
    @Test func fileStoreThatCannotBeCreatedNamesTheDirectory() async throws {
        let root = "/proc/docket-store-\(UUID().uuidString)/store"
        let store = FileImageStore(root: root)
        do {
            _ = try await store.beginResumableWrite(digest)
            Issue.record("a write under \(root) succeeded")
        } catch {
            let parent = (root as NSString).deletingLastPathComponent
            #expect("\(error)".hasPrefix("\(parent): creating directory failed: No such file or directory"), "\(error)")
        }
    }

    /// A directory where the partial file or its lock belongs: the error names it and says to
    /// remove it, and the directory is left alone.
    @Test(arguments: ["", ".lock"])
    func fileStorePartialThatIsADirectorySaysWhatToDo(_ suffix: String) async throws {
        let root = (NSTemporaryDirectory() as NSString).appendingPathComponent("docket-partial-dir-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let inTheWay = "\(root)/partial/\(digest.hex)\(suffix)"
        try FileManager.default.createDirectory(atPath: inTheWay + "/inside", withIntermediateDirectories: true)
        let store = FileImageStore(root: root)
        do {
            let write = try await store.beginResumableWrite(digest)
            Issue.record("a resumable write over the directory \(inTheWay) succeeded: \(write.path)")
        } catch {
            #expect("\(error)" == "\(inTheWay): is a directory where the partial download of \(digest) belongs; "
                    + "remove it (rm -r '\(inTheWay)') and pull again")
        }
        #expect(FileManager.default.fileExists(atPath: inTheWay + "/inside"))
        // Once it is removed, as the message says, the write goes ahead.
        try FileManager.default.removeItem(atPath: inTheWay)
        let write = try await store.beginResumableWrite(digest)
        #expect(write.isResumable && write.path == "\(root)/partial/\(digest.hex)")
        await store.cancel(write)
    }

    /// A pull killed while writing into `tmp/` leaves its file and companions unlocked: the next
    /// pull's sweep removes them, and keeps the writes this process and another one still hold.
    /// Partial downloads untouched for the store's lifetime go (with their companions) when a pull
    /// starts; recent ones, and old ones a live pull is writing, stay.
    @Test func stalePartialsAreRemovedAndRecentOrLiveOnesKept() async throws {
        let root = (NSTemporaryDirectory() as NSString).appendingPathComponent("docket-partials-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let store = FileImageStore(root: root)
        let partials = "\(root)/partial"
        try FileManager.default.createDirectory(atPath: partials, withIntermediateDirectories: true)
        let old = Date(timeIntervalSinceNow: -FileImageStore.partialLifetime - 3600)
        func plant(_ digest: Digest, modified: Date) throws {
            let path = "\(partials)/\(digest.hex)"
            for file in [path, path + ".docket-resume", path + ".lock"] {
                try Data("bytes".utf8).write(to: URL(fileURLWithPath: file))
            }
            try FileManager.default.setAttributes([.modificationDate: modified], ofItemAtPath: path)
        }
        let stale = Digest.sha256(of: Data("stale".utf8)), recent = Digest.sha256(of: Data("recent".utf8))
        try plant(stale, modified: old)
        try plant(recent, modified: Date())
        // An old partial that a pull is carrying on right now.
        let live = try await store.beginResumableWrite(digest)
        try FileManager.default.setAttributes([.modificationDate: old], ofItemAtPath: live.path)

        await store.removeAbandonedWrites()

        let left = Set((try? FileManager.default.contentsOfDirectory(atPath: partials)) ?? [])
        #expect(!left.contains { $0.hasPrefix(stale.hex) }, "\(left)")
        #expect(left.isSuperset(of: ["\(recent.hex)", "\(recent.hex).docket-resume", "\(recent.hex).lock"]), "\(left)")
        #expect(left.contains(digest.hex) && left.contains("\(digest.hex).lock"), "\(left)")
        await store.cancel(live)
    }

    @Test func abandonedPlainWritesAreRemovedAndLiveOnesKept() async throws {
        let root = (NSTemporaryDirectory() as NSString).appendingPathComponent("docket-sweep-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let tmp = "\(root)/tmp"
        let store = FileImageStore(root: root)
        let mine = try await store.beginWrite(digest)
        try bytes.write(to: URL(fileURLWithPath: mine.path))
        try Data("resume".utf8).write(to: URL(fileURLWithPath: mine.path + ".docket-resume"))
        // Another process's write, locked the way a live pull locks it.
        let theirs = "\(tmp)/\(digest.hex).\(UUID().uuidString)"
        let marker = "\(root)/locked"
        let holder = Process()
        holder.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        holder.arguments = ["-c", "import fcntl, sys, time; f = open(sys.argv[1], 'a'); fcntl.flock(f, fcntl.LOCK_EX); "
                            + "open(sys.argv[2], 'w').close(); time.sleep(30)", theirs, marker]
        try holder.run()
        defer { if holder.isRunning { kill(holder.processIdentifier, SIGKILL) } }
        for _ in 0..<100 where !FileManager.default.fileExists(atPath: marker) { try await Task.sleep(for: .milliseconds(50)) }
        try Data("theirs".utf8).write(to: URL(fileURLWithPath: theirs + ".docket-resume"))
        // A dead pull's write, its resume file, and a resume file whose write is already gone.
        let dead = "\(tmp)/\(digest.hex).\(UUID().uuidString)"
        try Data("half a layer".utf8).write(to: URL(fileURLWithPath: dead))
        try Data("resume".utf8).write(to: URL(fileURLWithPath: dead + ".docket-resume"))
        let orphan = "\(tmp)/\(digest.hex).\(UUID().uuidString).docket-resume"
        try Data("resume".utf8).write(to: URL(fileURLWithPath: orphan))
        // Not a plain write's name (a manifest being written): not ours to judge.
        let other = "\(tmp)/\(UUID().uuidString)"
        try Data("manifest".utf8).write(to: URL(fileURLWithPath: other))

        await store.removeAbandonedWrites()

        let left = Set(try FileManager.default.contentsOfDirectory(atPath: tmp).map { "\(tmp)/\($0)" })
        #expect(left == [mine.path, mine.path + ".docket-resume", theirs, theirs + ".docket-resume", other])
        // The kept write still commits and lets go of its lock; once the other process is gone too,
        // the next sweep removes its write and every companion left without a write.
        try await store.commit(mine)
        #expect(await store.contains(digest))
        kill(holder.processIdentifier, SIGKILL)
        holder.waitUntilExit()
        await store.removeAbandonedWrites()
        #expect(try FileManager.default.contentsOfDirectory(atPath: tmp) == [(other as NSString).lastPathComponent])
    }

    @Test func fileStoreLayout() async throws {
        let root = (NSTemporaryDirectory() as NSString).appendingPathComponent("docket-layout-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let store = FileImageStore(root: root)
        let write = try await store.beginWrite(digest)
        #expect(write.path.hasPrefix("\(root)/tmp/"))
        try bytes.write(to: URL(fileURLWithPath: write.path))
        try await store.commit(write)
        #expect(FileManager.default.fileExists(atPath: "\(root)/blobs/sha256/\(digest.hex)"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: "\(root)/tmp").isEmpty)
        let partial = try await store.beginResumableWrite(Digest.sha256(of: Data("partial".utf8)))
        #expect(partial.path == "\(root)/partial/\(Digest.sha256(of: Data("partial".utf8)).hex)")
        await store.cancel(partial)
        let manifestDigest = try await store.putManifest(Data("{}".utf8), for: ImageReference(parsing: "team/app:1.0"))
        #expect(FileManager.default.fileExists(atPath: "\(root)/manifests/sha256/\(manifestDigest.hex)"))
        let tag = try String(contentsOfFile: "\(root)/tags/team/app/1.0", encoding: .utf8)
        #expect(tag == manifestDigest.description)
    }

    @Test func fileStoreSurvivesReopening() async throws {
        let root = (NSTemporaryDirectory() as NSString).appendingPathComponent("docket-reopen-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let write = try await FileImageStore(root: root).beginWrite(digest)
        try bytes.write(to: URL(fileURLWithPath: write.path))
        try await FileImageStore(root: root).commit(write)
        #expect(await FileImageStore(root: root).contains(digest))
    }
}
