import Foundation

/// Failures users hit; each says what failed, with which input, and what to do next.
public enum DocketError: Error, CustomStringConvertible, Sendable {
    case registryUnreachable(url: String, reason: String)
    case imageNotFound(ImageReference, registry: String)
    case blobNotFound(Digest, registry: String)
    case digestMismatch(expected: Digest, actual: Digest)
    case dockerSocketMissing(path: String)
    case dockerEngine(String)
    case diskFull(path: String)
    case invalidArchive(path: String, reason: String)
    case registry(status: Int, message: String)
    /// The server at `url` answered without a registry's error (a web server's page, say).
    case notARegistry(url: String, status: Int)
    case torrent(String)
    /// The registry serves this blob over plain HTTP only (it is under the small-blob threshold).
    case torrentUnavailable(Digest)
    /// A local file operation failed: which path, and what the system said.
    case fileSystem(path: String, reason: String)

    public var description: String {
        switch self {
        case .registryUnreachable(let url, let reason):
            "cannot reach registry \(url) (\(reason)): check the address and that `docket-cli serve` is running there"
        case .imageNotFound(let ref, let registry):
            "image \(ref) not found on \(registry): run `docket-cli images --registry \(registry)` to see what it holds"
        case .blobNotFound(let digest, let registry):
            "blob \(digest) not found on \(registry)"
        case .digestMismatch(let expected, let actual):
            "digest mismatch: expected \(expected), got \(actual); the download was discarded, try again"
        case .dockerSocketMissing(let path):
            "no Docker engine at \(path): start dockerd, set DOCKER_HOST, or use --output FILE to write an archive instead"
        case .dockerEngine(let message):
            "Docker engine error: \(message)"
        case .diskFull(let path):
            "disk full while writing \(path): free some space and pull again (already stored blobs are kept)"
        case .invalidArchive(let path, let reason):
            "\(path) is not an image archive (\(reason)): give a file written by `docker save` or an OCI layout tar"
        case .registry(let status, let message):
            "registry answered \(status): \(message)"
        case .notARegistry(let url, let status):
            "\(url) answered HTTP \(status) without a registry's error: is it a Docket registry? Check the URL and port of `docket-cli serve`"
        case .torrent(let message):
            "BitTorrent transfer failed: \(message)"
        case .torrentUnavailable(let digest):
            "the registry has no torrent for blob \(digest) (small blobs go over plain HTTP)"
        case .fileSystem(let path, let reason):
            "\(path): \(reason)"
        }
    }
}
