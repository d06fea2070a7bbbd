/// How `ImagePuller` fetches an image.
public struct PullOptions: Sendable, Hashable {
    /// Fetch layers over BitTorrent (false: every blob over plain HTTP, like `--no-p2p`).
    public var peerToPeer: Bool
    /// How long to keep seeding the layers after the pull; zero stops at once.
    public var seedTime: Duration
    /// Layers fetched at the same time.
    public var maxConcurrentLayers: Int

    public init(peerToPeer: Bool = true, seedTime: Duration = .seconds(30), maxConcurrentLayers: Int = 4) {
        self.peerToPeer = peerToPeer
        self.seedTime = seedTime
        self.maxConcurrentLayers = max(1, maxConcurrentLayers)
    }
}
