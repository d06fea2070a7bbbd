import DocketKit
import Foundation

/// Helpers shared by the tar and image-archive tests.
enum TarTestSupport {
    /// A fresh directory under the system temp directory; remove it when done.
    static func temporaryDirectory() throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("docket-test-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    /// Writes a tar at `path` with the members `build` adds, then the end marker.
    static func writeArchive(at path: String, _ build: (inout TarWriter) throws -> Void) throws {
        try TarWriter.write(toFileAt: path, build)
    }
}
