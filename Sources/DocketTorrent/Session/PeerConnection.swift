/// One TCP connection to a peer, owned by the event loop.
final class PeerConnection {
    enum Phase { case connecting, handshaking, active, closed }

    /// A block a peer asked us for.
    struct UploadRequest: Equatable {
        var piece: Int
        var begin: Int
        var length: Int
    }

    let fd: Int32
    let address: PeerAddress
    /// Dialled by us (address is the peer's listen address) rather than accepted.
    let outgoing: Bool
    var phase: Phase
    var torrent: Torrent?
    var peerID: PeerID?
    var decoder = PeerWireDecoder()
    let out = ByteQueue()
    var writeRegistered = false

    var amChoking = true
    var amInterested = false
    var peerChoking = true
    var peerInterested = false
    var bitfield = Bitfield(count: 0)
    /// Super-seeding: pieces we have shown this peer with `have`.
    var revealed: Set<Int> = []
    var receivedBitfield = false

    /// Our requests to this peer, by block key.
    var outstanding: Set<Int> = []
    /// How many of them to keep outstanding, adapted to the peer's rate.
    var pipeline: RequestPipeline
    /// Pieces assigned to this peer by the picker.
    var ownedPieces: [Int] = []
    /// The peer's requests to us, served in order.
    var uploadQueue: [UploadRequest] = []
    var uploadHead = 0

    let createdAt: Double
    var lastReceived: Double
    var lastSent: Double
    var lastBlockAt: Double
    /// Payload bytes in the current choke round (the choker's rate measure).
    var roundDownloaded: Int64 = 0
    var roundUploaded: Int64 = 0
    var isRegistrySeed = false
    /// Messages other than requests, blocks and cancels since the last one-second tick (flood guard).
    var controlMessages = 0

    init(fd: Int32, address: PeerAddress, outgoing: Bool, torrent: Torrent?, now: Double) {
        self.fd = fd
        self.address = address
        self.outgoing = outgoing
        self.torrent = torrent
        self.phase = outgoing ? .connecting : .handshaking
        createdAt = now
        lastReceived = now
        lastSent = now
        lastBlockAt = now
        pipeline = RequestPipeline(now: now)
    }

    var pendingUploads: Int { uploadQueue.count - uploadHead }

    func send(_ message: PeerMessage) {
        var bytes: [UInt8] = []
        message.encode(into: &bytes)
        out.append(bytes)
    }

    static func blockKey(piece: Int, begin: Int) -> Int { piece << 32 | begin }
    static func piece(ofKey key: Int) -> Int { key >> 32 }
    static func begin(ofKey key: Int) -> Int { key & 0xffff_ffff }
}
