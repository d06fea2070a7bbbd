/// Why an announce to an HTTP tracker did not yield peers.
public enum TrackerError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The tracker answered with a `failure reason`.
    case failure(String)
    /// The tracker's answer was not a valid announce response.
    case invalidResponse(String)

    public var description: String {
        switch self {
        case .failure(let reason): "tracker refused the announce: \(reason)"
        case .invalidResponse(let detail): "tracker sent an invalid announce response: \(detail); check the tracker URL"
        }
    }
}
