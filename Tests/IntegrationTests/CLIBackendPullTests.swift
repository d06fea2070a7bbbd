import DocketKit
import Foundation
import Testing

/// `docket-cli pull --backend docket|ctorrent` against a live registry: the layers come over
/// BitTorrent through the chosen backend (no fallback to HTTP) and the archive holds the image.
@Suite(.serialized) struct CLIBackendPullTests {
    @Test(arguments: ["docket", "ctorrent"])
    func pullWithBackendDownloadsLayersOverBitTorrent(_ backend: String) async throws {
        let registry = try await LiveRegistry.start(payloadMB: 3, label: "cli-backend-\(backend)")
        defer { registry.stop() }
        let output = registry.directory.path + "/out.tar"
        let pull = try await Command.run(CLIBinary.path, [
            "pull", "--registry", registry.url, registry.reference.description, "--store", registry.directory.path + "/store",
            "--output", output, "--seed-time", "0", "--backend", backend, "--port", String(CLIBinary.freePort()), "--json",
        ], timeout: 180)
        let events = pull.output.split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
        let torrentLayers = Set(events.filter { $0["event"] as? String == "layerStarted" && $0["source"] as? String == "peerToPeer" }
            .compactMap { $0["digest"] as? String })
        #expect(!torrentLayers.isEmpty, "no layer went over BitTorrent:\n\(pull.output)")
        let notices = events.filter { $0["event"] as? String == "notice" }.compactMap { $0["message"] as? String }
        #expect(!notices.contains { $0.contains("over HTTP") }, "the \(backend) backend fell back to HTTP: \(notices)")
        for done in events where done["event"] as? String == "layerDone" && torrentLayers.contains(done["digest"] as? String ?? "") {
            let size = done["size"] as? Int ?? -1
            let received = (done["bytesFromPeers"] as? Int ?? 0) + (done["bytesFromRegistry"] as? Int ?? 0)
            #expect(received >= size, "layer \(done["digest"] ?? "?") of \(size) bytes counted \(received) over BitTorrent")
        }
        #expect(events.contains { $0["event"] as? String == "pulled" })
        let manifestJSON = try await Command.run("tar", ["-xOf", output, "manifest.json"]).output
        let entries = try JSONSerialization.jsonObject(with: Data(manifestJSON.utf8)) as? [[String: Any]]
        #expect((entries?.first?["Layers"] as? [String])?.count == registry.resolved.manifest.layers.count)
        #expect((entries?.first?["RepoTags"] as? [String]) == [registry.reference.description])
    }
}
