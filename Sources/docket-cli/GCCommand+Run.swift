import DocketCore
import DocketKit
import DocketRegistryServer
import Foundation

extension GCCommand {
    func run() async throws {
        let (directory, dryRun, whitelist) = (dataDirectory, self.dryRun, trackerWhitelist?.whitelist)
        let report = try await Blocking.run(name: "docket.gc") {
            try GarbageCollector.collect(dataDirectory: directory, dryRun: dryRun, whitelist: whitelist)
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            Console.line(String(decoding: try encoder.encode(report), as: UTF8.self))
            return
        }
        let verb = dryRun ? "would delete" : "deleted"
        for digest in report.removedBlobs { Console.line("\(verb) \(digest)") }
        Console.line("\(verb) \(report.removedBlobs.count) blobs (\(ByteFormat.megabytes(report.freedBytes))), kept \(report.keptBlobs)"
                     + (dryRun ? "" : ", removed \(report.removedManifests) unlinked manifests"))
    }
}
