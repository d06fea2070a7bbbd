import Foundation

/// Writes the pulled image as a `docker load` archive (`--output FILE`).
public struct ArchiveDeployer: Deployer {
    /// The archive to write; an existing file is replaced only once the new archive is complete.
    public let path: String

    public init(path: String) {
        self.path = ArchiveDeployer.absolute(path)
    }

    /// Fails before anything downloads when `path` cannot be an archive file: it is a directory,
    /// or its parent is missing or not a directory.
    public func prepare() async throws {
        let manager = FileManager.default
        var isDirectory: ObjCBool = false
        if manager.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
            throw DocketError.fileSystem(path: path, reason: "is a directory; give --output a file name such as \(path)/image.tar")
        }
        let parent = (path as NSString).deletingLastPathComponent
        guard manager.fileExists(atPath: parent, isDirectory: &isDirectory) else {
            throw DocketError.fileSystem(path: path, reason: "directory \(parent) does not exist; create it (mkdir -p '\(parent)') or give --output a path in an existing directory")
        }
        guard isDirectory.boolValue else {
            throw DocketError.fileSystem(path: path, reason: "\(parent) is a file, not a directory; give --output a path in a directory")
        }
    }

    public func deploy(_ image: PulledImage) async throws {
        try await image.writeDockerLoadArchive(to: path)
    }

    /// `~` expanded, relative paths against the working directory, `.`/`..` resolved.
    static func absolute(_ path: String) -> String {
        let expanded = (path as NSString).expandingTildeInPath
        let full = expanded.hasPrefix("/") ? expanded : FileManager.default.currentDirectoryPath + "/" + expanded
        return URL(fileURLWithPath: full).standardizedFileURL.path
    }
}
