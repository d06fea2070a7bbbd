import Foundation

/// Picks one image manifest out of an OCI image index or Docker manifest list.
enum ManifestIndex {
    private struct Index: Decodable {
        struct Entry: Decodable {
            struct Platform: Decodable { var os: String?; var architecture: String? }
            var digest: Digest
            var mediaType: String?
            var platform: Platform?
        }
        var manifests: [Entry]
    }

    /// The architecture name OCI uses for this machine.
    static var hostArchitecture: String {
        #if arch(arm64)
        "arm64"
        #else
        "amd64"
        #endif
    }

    /// The digest of the entry for linux on this machine's architecture, else the only entry.
    static func platformEntry(in bytes: Data, reference: ImageReference) throws -> Digest {
        guard let index = try? JSONDecoder().decode(Index.self, from: bytes), !index.manifests.isEmpty else {
            throw DocketError.registry(status: 200, message: "the image index of \(reference) lists no manifests")
        }
        if let match = index.manifests.first(where: { $0.platform?.os == "linux" && $0.platform?.architecture == hostArchitecture }) {
            return match.digest
        }
        if index.manifests.count == 1 || index.manifests.allSatisfy({ $0.platform == nil }) { return index.manifests[0].digest }
        let platforms = index.manifests.compactMap { entry in entry.platform.map { "\($0.os ?? "?")/\($0.architecture ?? "?")" } }
        throw DocketError.registry(status: 200, message: "\(reference) has no linux/\(hostArchitecture) image (it has \(platforms.joined(separator: ", ")))")
    }
}
