/// Why a torrent could not be added or did not finish.
public enum TorrentError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The torrent was stopped (or the client shut down) before it completed.
    case stopped(InfoHash)
    /// The torrent failed, e.g. its file could not be written.
    case failed(InfoHash, String)
    /// The same info-hash was added twice to one client.
    case alreadyAdded(InfoHash)
    /// The data file could not be opened or sized.
    case storage(path: String, message: String)
    /// The client was already shut down.
    case clientShutDown

    public var description: String {
        switch self {
        case .stopped(let hash): "torrent \(hash) was stopped before it completed; add it again to resume"
        case .failed(let hash, let message): "torrent \(hash) failed: \(message)"
        case .alreadyAdded(let hash): "torrent \(hash) is already added to this client; use the existing handle"
        case .storage(let path, let message): "cannot use '\(path)' for torrent data: \(message); check the path and permissions"
        case .clientShutDown: "the torrent client was shut down; create a new TorrentClient"
        }
    }
}
