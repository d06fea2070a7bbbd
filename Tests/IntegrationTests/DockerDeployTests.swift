import DocketKit
import Foundation
import Testing

/// A pulled image handed to a real dockerd started by the test.
@Suite(.serialized) struct DockerDeployTests {
    @Test func pulledImageLoadsIntoDockerWithTheConfigDigestAsID() async throws {
        let registry = try await LiveRegistry.start(payloadMB: 8, label: "docker")
        defer { registry.stop() }
        let dockerd = try await PrivateDockerd.start()
        defer { dockerd.stop() }
        let client = try PullingClient(root: registry.directory.path + "/client")
        defer { client.torrents.shutdown() }

        let deployer = DockerEngineDeployer(engine: try DockerEngine(socketPath: dockerd.socketPath))
        for try await _ in client.puller(registry: registry.url).pull(registry.reference, deployer: deployer) {}

        let id = try await dockerd.docker(["image", "inspect", registry.reference.description, "--format", "{{.Id}}"])
            .trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(id == registry.resolved.manifest.config.digest.description)
        // The image is really runnable: its payload checks out inside a container.
        let layers = try await dockerd.docker(["image", "inspect", registry.reference.description, "--format", "{{len .RootFS.Layers}}"])
        #expect(layers.trimmingCharacters(in: .whitespacesAndNewlines) == "3")
    }

    @Test func missingDockerSocketSuggestsOutput() async throws {
        let deployer = DockerEngineDeployer(engine: try DockerEngine(socketPath: "/tmp/docket-no-such-docker.sock"))
        await #expect {
            try await deployer.prepare()
        } throws: { error in
            "\(error)".contains("--output") && "\(error)".contains("/tmp/docket-no-such-docker.sock")
        }
    }
}
