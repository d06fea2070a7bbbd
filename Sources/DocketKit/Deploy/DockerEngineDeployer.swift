import Foundation

/// Loads the pulled image into the local Docker engine (`POST /images/load`).
public struct DockerEngineDeployer: Deployer {
    public let engine: DockerEngine
    /// Where the temporary archive is written before it is streamed to the engine.
    public let temporaryDirectory: String

    public init(engine: DockerEngine, temporaryDirectory: String = NSTemporaryDirectory()) {
        self.engine = engine
        self.temporaryDirectory = temporaryDirectory
    }

    /// Throws `DocketError.dockerSocketMissing` (which suggests `--output`) when no engine answers.
    public func prepare() async throws {
        try await engine.ping()
    }

    public func deploy(_ image: PulledImage) async throws {
        let path = (temporaryDirectory as NSString).appendingPathComponent("docket-load-\(UUID().uuidString).tar")
        defer { try? FileManager.default.removeItem(atPath: path) }
        try await image.writeDockerLoadArchive(to: path)
        try await engine.loadImage(archiveAt: path)
    }
}
