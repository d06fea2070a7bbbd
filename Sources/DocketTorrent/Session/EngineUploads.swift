import Foundation

/// Serving requested blocks and choking.
extension Engine {
    /// Reads queued requests straight into the send buffer while it is short and tokens last.
    func pumpUploads(_ peer: PeerConnection, maxBlocks: Int = .max) {
        guard let torrent = peer.torrent, peer.phase == .active else { return }
        var blocks = 0
        while peer.uploadHead < peer.uploadQueue.count && peer.out.count < Self.sendBufferHighWater && blocks < maxBlocks {
            blocks += 1
            let request = peer.uploadQueue[peer.uploadHead]
            if uploadBucket != nil, !uploadBucket!.take(request.length) { break }
            peer.uploadHead += 1
            var header: [UInt8] = []
            header.reserveCapacity(13)
            PeerWire.appendPieceHeader(piece: request.piece, begin: request.begin, blockLength: request.length, to: &header)
            peer.out.append(header)
            let offset = torrent.pieceOffset(request.piece) + Int64(request.begin)
            let read = peer.out.appendInPlace(upTo: request.length) { pointer in
                torrent.storage.read(offset: offset, count: request.length, into: pointer) ? request.length : -1
            }
            guard read == request.length else {
                closeConnection(peer, reason: "reading piece \(request.piece) from \(torrent.storage.path) failed")
                return
            }
            torrent.bytesUploaded += Int64(request.length)
            peer.roundUploaded += Int64(request.length)
            peer.lastSent = now
        }
        if peer.uploadHead == peer.uploadQueue.count {
            peer.uploadQueue.removeAll(keepingCapacity: true)
            peer.uploadHead = 0
        } else if peer.uploadHead > 256 {
            peer.uploadQueue.removeFirst(peer.uploadHead)
            peer.uploadHead = 0
        }
    }

    /// With an upload limit, hands the tokens out one block per peer in turn, starting with a
    /// different peer each time, so no peer starves the others.
    func serveUploadsInTurn() {
        let waiting = connections.values.filter { $0.phase == .active && $0.pendingUploads > 0 }.sorted { $0.fd < $1.fd }
        guard !waiting.isEmpty else { return }
        uploadTurn = (uploadTurn + 1) % waiting.count
        let order = waiting[uploadTurn...] + waiting[..<uploadTurn]
        var progress = true
        while progress {
            progress = false
            for peer in order where peer.phase == .active && peer.pendingUploads > 0 {
                let before = peer.uploadHead
                pumpUploads(peer, maxBlocks: 1)
                if peer.uploadHead != before || peer.uploadQueue.isEmpty { progress = true }
            }
        }
        for peer in order { flush(peer) }
    }

    func unchokedCount(_ torrent: Torrent) -> Int {
        torrent.peers.values.reduce(0) { $0 + ($1.amChoking ? 0 : 1) }
    }

    func setChoking(_ peer: PeerConnection, _ choking: Bool) {
        guard peer.amChoking != choking else { return }
        peer.amChoking = choking
        sendSoon(choking ? .choke : .unchoke, to: peer)
        if choking {
            peer.uploadQueue.removeAll()
            peer.uploadHead = 0
        }
    }

    /// Every 10 s: unchoke the interested peers that gave us the most (that took the most, when
    /// seeding), plus one optimistic unchoke rotated every 30 s.
    func rechoke(_ torrent: Torrent) {
        torrent.lastChoke = now
        let interested = torrent.peers.values.filter { $0.peerInterested }
        let ranked = interested.sorted {
            torrent.isComplete ? $0.roundUploaded > $1.roundUploaded : $0.roundDownloaded > $1.roundDownloaded
        }
        var unchoke = Set(ranked.prefix(Self.unchokeSlots - 1).map(\.fd))
        let rest = ranked.dropFirst(Self.unchokeSlots - 1)
        if now - torrent.lastOptimistic >= 30 || torrent.optimistic.map({ fd in !rest.contains { $0.fd == fd } }) ?? true {
            torrent.optimistic = rest.randomElement()?.fd
            torrent.lastOptimistic = now
        }
        if let optimistic = torrent.optimistic { unchoke.insert(optimistic) }
        for peer in torrent.peers.values {
            setChoking(peer, !unchoke.contains(peer.fd))
            peer.roundDownloaded = 0
            peer.roundUploaded = 0
            flush(peer)
        }
    }
}
