import DocketCore
import DocketKit
import DocketRegistryServer
import Foundation
import Testing

/// Real OCI clients (docker, skopeo, podman) started by the tests, pushing to and pulling from an
/// in-process registry on loopback (loopback registries need no TLS for docker).
@Suite(.serialized) struct OCIClientTests {
    /// A registry on 127.0.0.1 in a temporary directory, plus an image archive built by make-image.sh.
    struct Setup {
        let directory: TemporaryDirectory
        let server: RegistryServer
        let archive: String
        var host: String { "127.0.0.1:\(server.port)" }

        init(label: String, payloadMB: Int = 3) async throws {
            directory = try TemporaryDirectory(label)
            server = RegistryServer(configuration: .testing(dataDirectory: directory.path + "/registry"))
            try server.start()
            archive = directory.path + "/image.tar"
            try await ImageFixture.build(at: archive, reference: "fixture/\(label):1", payloadMB: payloadMB)
        }

        func stop() {
            server.stop()
            directory.remove()
        }
    }

    @Test func dockerPushRmiPullKeepsTheImageIDAndLayersArriveOverBitTorrent() async throws {
        let setup = try await Setup(label: "dockerpush")
        defer { setup.stop() }
        let dockerd = try await PrivateDockerd.start()
        defer { dockerd.stop() }

        _ = try await dockerd.docker(["load", "-i", setup.archive])
        let remote = "\(setup.host)/team/app:1.0"
        _ = try await dockerd.docker(["tag", "fixture/dockerpush:1", remote])
        let id = try await dockerd.docker(["image", "inspect", remote, "--format", "{{.Id}}"]).trimmingCharacters(in: .whitespacesAndNewlines)
        _ = try await dockerd.docker(["push", remote])
        _ = try await dockerd.docker(["rmi", remote, "fixture/dockerpush:1"])
        _ = try await dockerd.docker(["pull", remote])
        let pulledID = try await dockerd.docker(["image", "inspect", remote, "--format", "{{.Id}}"]).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(pulledID == id)
        #expect(id.hasPrefix("sha256:"))

        // Docket's own puller gets the docker-pushed layers; the large one over BitTorrent.
        let client = try PullingClient(root: setup.directory.path + "/client")
        defer { client.torrents.shutdown() }
        var peerToPeer: Set<Digest> = []
        var large: Set<Digest> = []
        var summary: PullSummary?
        for try await event in client.puller(registry: "http://\(setup.host)").pull(try ImageReference(parsing: "team/app:1.0")) {
            if case .layerStarted(let digest, let size, let source) = event {
                if size >= 1 << 20 { large.insert(digest) }
                if source == .peerToPeer { peerToPeer.insert(digest) }
            }
            if case .pulled(let done) = event { summary = done }
        }
        #expect(summary?.layerCount == 3)
        // Every layer at or above the 1 MiB threshold (payload, busybox) came over BitTorrent.
        #expect(!large.isEmpty)
        #expect(peerToPeer == large)
        for digest in peerToPeer {
            #expect(try await client.verifiedDigest(of: digest) == digest)
            let torrent = try await HTTPClient().send(HTTPRequest(url: "http://\(setup.host)/docket/v1/blobs/\(digest)/torrent"))
            #expect(torrent.status == 200)
        }
    }

    @Test func skopeoCopiesInAndOutThroughDockerAndOCILayouts() async throws {
        let setup = try await Setup(label: "skopeo")
        defer { setup.stop() }
        let layout = setup.directory.path + "/layout"
        try await Command.run("skopeo", ["copy", "--quiet", "--dest-tls-verify=false", "docker-archive:\(setup.archive)", "docker://\(setup.host)/team/app:1.0"])
        try await Command.run("skopeo", ["copy", "--quiet", "--src-tls-verify=false", "docker://\(setup.host)/team/app:1.0", "oci:\(layout):copy"])
        try await Command.run("skopeo", ["copy", "--quiet", "--dest-tls-verify=false", "oci:\(layout):copy", "docker://\(setup.host)/mirror/app:2"])
        let first = try await Self.inspect(setup, "team/app:1.0")
        let second = try await Self.inspect(setup, "mirror/app:2")
        #expect(first["Layers"] as? [String] == second["Layers"] as? [String])
        #expect((first["Layers"] as? [String])?.count == 3)
        // The OCI layout copy went through a manifest conversion; its config is the same image.
        let raw = try await Command.run("skopeo", ["inspect", "--raw", "--tls-verify=false", "docker://\(setup.host)/mirror/app:2"]).output
        #expect(raw.contains(MediaType.ociManifest))
    }

    @Test func podmanPullsFromDocket() async throws {
        let setup = try await Setup(label: "podman")
        defer { setup.stop() }
        try await Command.run("skopeo", ["copy", "--quiet", "--dest-tls-verify=false", "docker-archive:\(setup.archive)", "docker://\(setup.host)/team/app:1.0"])
        let root = setup.directory.path + "/podman"
        let storage = ["--storage-driver", "vfs", "--root", root + "/root", "--runroot", root + "/run"]
        try await Command.run("podman", storage + ["pull", "--quiet", "--tls-verify=false", "\(setup.host)/team/app:1.0"], timeout: 180)
        let layers = try await Command.run("podman", storage + ["image", "inspect", "\(setup.host)/team/app:1.0", "--format", "{{len .RootFS.Layers}}"]).output
        #expect(layers.trimmingCharacters(in: .whitespacesAndNewlines) == "3")
        _ = try? await Command.run("podman", storage + ["system", "reset", "--force"], check: false)
    }

    private static func inspect(_ setup: Setup, _ reference: String) async throws -> [String: Any] {
        let output = try await Command.run("skopeo", ["inspect", "--tls-verify=false", "docker://\(setup.host)/\(reference)"]).output
        return (try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any]) ?? [:]
    }
}
