import Foundation

/// Writes the pulled image as a `docker load` archive (`--output FILE`).
public struct ArchiveDeployer: Deployer {
    /// The archive to write; replaced if it exists.
    public let path: String

    public init(path: String) {
        self.path = path
    }

    /// Fails early when the archive's directory does not exist.
    public func prepare() async throws {
        let directory = ((path as NSString).deletingLastPathComponent as NSString).expandingTildeInPath
        var isDirectory: ObjCBool = false
        guard directory.isEmpty || (FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory) && isDirectory.boolValue) else {
            throw DocketError.fileSystem(path: path, reason: "directory \(directory) does not exist")
        }
    }

    public func deploy(_ image: PulledImage) async throws {
        try await image.writeDockerLoadArchive(to: path)
    }
}
