import DocketCore
import DocketKit
import DocketTorrent
import Foundation
import Testing

/// `docket-cli pull` killed with SIGKILL in the middle of a layer, then run again on the same store.
@Suite(.serialized) struct PullResumeTests {
    @Test func killedPullResumesAndTransfersOnlyTheRest() async throws {
        let registry = try await LiveRegistry.start(payloadMB: 20, label: "resume")
        defer { registry.stop() }
        let store = registry.directory.path + "/store"
        let arguments = ["pull", "--registry", registry.url, registry.reference.description, "--store", store,
                         "--output", registry.directory.path + "/out.tar", "--seed-time", "0", "--json"]

        // First run: slow (2 MB/s), killed once a third of the big layer's pieces is on record.
        let first = Process()
        first.executableURL = URL(fileURLWithPath: CLIBinary.path)
        first.arguments = arguments + ["--download-limit", "1000000"]
        first.standardOutput = FileHandle.nullDevice
        first.standardError = FileHandle.nullDevice
        try first.run()
        let payload = try #require(registry.resolved.manifest.layers.max { $0.size < $1.size })
        // Watched from a thread of its own, so a busy cooperative pool cannot delay the kill.
        let record = "\(store)/partial/\(payload.digest.hex).docket-resume"
        let recorded = try await Blocking.run { () -> ResumeRecord in
            var recorded = ResumeRecord(count: 0, set: 0)
            for _ in 0..<3000 {
                recorded = ResumeRecord.read(record)
                if recorded.count > 0 && recorded.set * 3 >= recorded.count { break }
                usleep(20_000)
            }
            kill(first.processIdentifier, SIGKILL)
            first.waitUntilExit()
            return recorded
        }
        #expect(recorded.set * 3 >= recorded.count && recorded.set < recorded.count,
                "the first pull should be killed part-way, recorded \(recorded.set) of \(recorded.count) pieces")
        let layerBytes = registry.resolved.manifest.layers.reduce(0) { $0 + $1.size }
        #expect(!FileManager.default.fileExists(atPath: "\(store)/blobs/sha256/\(payload.digest.hex)"))
        #expect(FileManager.default.fileExists(atPath: "\(store)/partial/\(payload.digest.hex)"))

        // Second run, unlimited: carries on from the partial files.
        let second = try await Command.run(CLIBinary.path, arguments, timeout: 120)
        let events = second.output.split(separator: "\n").compactMap { line in
            try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
        }
        let summary = try #require(events.last { $0["event"] as? String == "pulled" }, "no summary in:\n\(second.output)")
        // What the engine measured on the wire for the big layer: at most what was missing (+ a piece).
        let progress = try #require(events.last { $0["event"] as? String == "layerProgress" && $0["digest"] as? String == payload.digest.description })
        let received = try #require(progress["bytesFromRegistry"] as? Int64) + (try #require(progress["bytesFromPeers"] as? Int64))
        #expect(progress["verifiedBytes"] as? Int64 == payload.size)
        let pieceLength = Int64(Metainfo.pieceLength(forTotalSize: payload.size))
        #expect(received <= payload.size - (Int64(recorded.set) - 1) * pieceLength, "received \(received) of \(payload.size)")
        let total = try #require(summary["totalBytes"] as? Int64)
        let resumed = try #require(summary["bytesResumed"] as? Int64)
        let transferred = try #require(summary["bytesFromRegistry"] as? Int64) + (try #require(summary["bytesFromPeers"] as? Int64))
        // Every piece on record when the first run died was on disk and hashed again.
        #expect(resumed >= (Int64(recorded.set) - 1) * pieceLength, "resumed \(resumed) of \(layerBytes) layer bytes")
        // Each layer's own lines count what was resumed too, and they add up to the summary's count.
        let done = events.filter { $0["event"] as? String == "layerDone" }
        let payloadDone = try #require(done.last { $0["digest"] as? String == payload.digest.description })
        let payloadResumed = try #require(payloadDone["bytesResumed"] as? Int64, "layerDone: \(payloadDone)")
        #expect(payloadResumed >= (Int64(recorded.set) - 1) * pieceLength, "layerDone: \(payloadDone)")
        #expect(progress["bytesResumed"] as? Int64 == payloadResumed, "layerProgress: \(progress)")
        #expect(done.reduce(Int64(0)) { $0 + ($1["bytesResumed"] as? Int64 ?? -1) } == resumed)
        for layer in done {
            let parts = ["bytesFromRegistry", "bytesFromPeers", "bytesResumed"].map { layer[$0] as? Int64 ?? -1 }
            #expect(parts.reduce(0, +) == layer["size"] as? Int64, "layerDone parts do not add up to the size: \(layer)")
        }
        let stored = try #require(summary["bytesAlreadyStored"] as? Int64)
        // Blobs the first run finished are skipped; the rest is either resumed or transferred.
        #expect(transferred + resumed + stored == total)
        #expect(transferred < total - layerBytes / 4)

        for blob in registry.blobs {
            #expect(try Digest.sha256(ofFileAt: "\(store)/blobs/sha256/\(blob.digest.hex)") == blob.digest)
        }
        let leftovers = (try? FileManager.default.contentsOfDirectory(atPath: store + "/partial")) ?? []
        #expect(leftovers.isEmpty, "left in partial/: \(leftovers)")
    }
}

extension PullResumeTests {
    /// `docket-cli pull --no-p2p` (paced by `--download-limit`) stopped with Ctrl-C: it ends at once
    /// (exit 130) saying the same pull carries on, and the next pull fetches only the rest.
    @Test func interruptedHTTPPullEndsAtOnceAndResumes() async throws {
        let registry = try await LiveRegistry.start(payloadMB: 12, label: "http-resume")
        defer { registry.stop() }
        let store = registry.directory.path + "/store"
        let arguments = ["pull", "--registry", registry.url, registry.reference.description, "--store", store, "--no-p2p",
                         "--output", registry.directory.path + "/out.tar", "--seed-time", "0", "--json"]
        let payload = try #require(registry.resolved.manifest.layers.max { $0.size < $1.size })
        let partial = "\(store)/partial/\(payload.digest.hex)"

        let first = Process()
        first.executableURL = URL(fileURLWithPath: CLIBinary.path)
        first.arguments = arguments + ["--download-limit", "2000000"]
        let errors = Pipe()
        first.standardOutput = FileHandle.nullDevice
        first.standardError = errors
        try first.run()
        let (kept, stopSeconds) = try await Blocking.run { () -> (Int64, Double) in
            for _ in 0..<1500 {
                let size = (try? FileManager.default.attributesOfItem(atPath: partial)[.size] as? Int64) ?? 0
                if size >= 3_000_000 { break }
                usleep(10_000)
            }
            let signalled = Date()
            kill(first.processIdentifier, SIGINT)
            first.waitUntilExit()
            let size = (try? FileManager.default.attributesOfItem(atPath: partial)[.size] as? Int64) ?? 0
            return (size, Date().timeIntervalSince(signalled))
        }
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(first.terminationStatus == 130, "\(message)")
        #expect(message.contains("interrupted; the same pull again carries on"), "\(message)")
        // Paced at 1 MB/s the layer had 9 s to go; the pull did not wait for it.
        #expect(stopSeconds < 5, "took \(stopSeconds) s to stop")
        #expect(kept >= 3_000_000 && kept < payload.size, "kept \(kept) of \(payload.size)")
        #expect(FileManager.default.fileExists(atPath: partial + ".docket-http"))

        let second = try await Command.run(CLIBinary.path, arguments, timeout: 120)
        let events = second.output.split(separator: "\n").compactMap { line in
            try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
        }
        let done = try #require(events.last { $0["event"] as? String == "layerDone" && $0["digest"] as? String == payload.digest.description },
                                "no layerDone for the payload in:\n\(second.output)")
        #expect(done["bytesResumed"] as? Int64 == kept, "\(done)")
        #expect(done["bytesFromRegistry"] as? Int64 == payload.size - kept, "\(done)")
        let progress = try #require(events.last { $0["event"] as? String == "layerProgress" && $0["digest"] as? String == payload.digest.description })
        #expect(progress["bytesResumed"] as? Int64 == kept && progress["bytesFromRegistry"] as? Int64 == payload.size - kept, "\(progress)")
        #expect(try Digest.sha256(ofFileAt: "\(store)/blobs/sha256/\(payload.digest.hex)") == payload.digest)
        let leftovers = (try? FileManager.default.contentsOfDirectory(atPath: store + "/partial")) ?? []
        #expect(leftovers.isEmpty, "left in partial/: \(leftovers)")
    }
}

/// What a resume file records: pieces in total and pieces verified (format in DocketTorrent's
/// `ResumeFile`: 16-byte magic, 20-byte info hash, 4-byte count, bitfield).
private struct ResumeRecord {
    var count: Int
    var set: Int

    static func read(_ path: String) -> ResumeRecord {
        guard let data = FileManager.default.contents(atPath: path), data.count >= 40 else { return ResumeRecord(count: 0, set: 0) }
        let bytes = [UInt8](data)
        return ResumeRecord(count: bytes[36..<40].reduce(0) { $0 << 8 | Int($1) }, set: bytes[40...].reduce(0) { $0 + $1.nonzeroBitCount })
    }
}
