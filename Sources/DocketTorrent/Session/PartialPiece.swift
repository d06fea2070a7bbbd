/// A piece being downloaded: its buffer, which blocks arrived and how many requests are out for each.
final class PartialPiece {
    let index: Int
    let size: Int
    var data: [UInt8]
    var received: [Bool]
    var requesters: [UInt8]
    var receivedCount = 0
    /// The connection (fd) the picker assigned the piece to; nil once it left.
    var owner: Int32?
    /// Ids of the peers whose blocks went into the buffer (blamed on a hash failure).
    var contributors: Set<PeerID> = []

    init(index: Int, size: Int, owner: Int32?) {
        self.index = index
        self.size = size
        self.owner = owner
        let blocks = (size + PeerWire.blockSize - 1) / PeerWire.blockSize
        data = [UInt8](repeating: 0, count: size)
        received = [Bool](repeating: false, count: blocks)
        requesters = [UInt8](repeating: 0, count: blocks)
    }

    var blockCount: Int { received.count }
    var isComplete: Bool { receivedCount == received.count }
    var hasRequests: Bool { requesters.contains { $0 > 0 } }

    func blockLength(_ block: Int) -> Int {
        min(PeerWire.blockSize, size - block * PeerWire.blockSize)
    }

    /// The first block neither received nor requested.
    func firstUnrequested() -> Int? {
        for block in 0..<received.count where !received[block] && requesters[block] == 0 { return block }
        return nil
    }
}
