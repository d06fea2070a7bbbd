import DocketCore
import Foundation

/// Peer messages, requests, block arrival and piece verification.
extension Engine {
    func handle(_ message: PeerMessage, from peer: PeerConnection) {
        guard let torrent = peer.torrent else { return }
        switch message {
        case .keepAlive, .port, .unknown:
            break
        case .choke:
            peer.peerChoking = true
            torrent.release(peer)
        case .unchoke:
            peer.peerChoking = false
        case .interested:
            peer.peerInterested = true
            if peer.amChoking && unchokedCount(torrent) < Self.unchokeSlots { setChoking(peer, false) }
        case .notInterested:
            peer.peerInterested = false
            if !peer.amChoking { setChoking(peer, true) }
        case .have(let index):
            guard index < torrent.pieceCount else {
                closeConnection(peer, reason: "have for piece \(index) of \(torrent.pieceCount)")
                return
            }
            if peer.bitfield.insert(index) {
                peerAnnounced(index, peer: peer, in: torrent)
                torrent.availability[index] += 1
                if !peer.amInterested && !torrent.have.contains(index) { setInterested(peer, true) }
            }
            if isSuperSeeding(torrent) {
                revealPieces(to: peer, in: torrent)
                revealAfterPassedOn(index, by: peer, in: torrent)
            }
        case .bitfield(let bytes):
            // Normally the first message; a later one (some clients resend it) replaces the set.
            guard let bitfield = Bitfield(wire: bytes, count: torrent.pieceCount) else {
                closeConnection(peer, reason: "bitfield of \(bytes.count) bytes for \(torrent.pieceCount) pieces")
                return
            }
            logger.trace("bitfield \(bitfield.setCount)/\(torrent.pieceCount)", ["peer.address": "\(peer.address)"])
            for index in 0..<torrent.pieceCount where peer.bitfield.contains(index) { torrent.availability[index] -= 1 }
            forgetReveals(of: peer, in: torrent)
            peer.receivedBitfield = true
            peer.bitfield = bitfield
            rememberReveals(of: peer, in: torrent)
            for index in 0..<torrent.pieceCount where bitfield.contains(index) { torrent.availability[index] += 1 }
            if isSuperSeeding(torrent) { revealPieces(to: peer, in: torrent) }
            setInterested(peer, torrent.isInteresting(peer))
        case .request(let index, let begin, let length):
            guard index < torrent.pieceCount, torrent.have.contains(index), length > 0,
                  begin + length <= torrent.metainfo.pieceSize(index) else {
                closeConnection(peer, reason: "request for a block we do not have (piece \(index), \(begin)+\(length))")
                return
            }
            guard !peer.amChoking else { return }
            guard peer.pendingUploads < Self.maxQueuedUploads else {
                closeConnection(peer, reason: "more than \(Self.maxQueuedUploads) queued requests")
                return
            }
            peer.uploadQueue.append(.init(piece: index, begin: begin, length: length))
        case .cancel(let index, let begin, let length):
            let request = PeerConnection.UploadRequest(piece: index, begin: begin, length: length)
            if let position = peer.uploadQueue[peer.uploadHead...].firstIndex(of: request) {
                peer.uploadQueue.remove(at: position)
            }
        case .piece(let index, let begin, let block):
            receiveBlock(torrent, from: peer, piece: index, begin: begin, block: block)
        }
    }

    func setInterested(_ peer: PeerConnection, _ interested: Bool) {
        guard peer.amInterested != interested else { return }
        peer.amInterested = interested
        sendSoon(interested ? .interested : .notInterested, to: peer)
    }

    /// Tops up the peer's request pipeline.
    func fillRequests(_ peer: PeerConnection) {
        guard let torrent = peer.torrent, peer.phase == .active, !torrent.isComplete, !torrent.checking,
              peer.amInterested, !peer.peerChoking, pendingWriteBytes < Self.maxPendingWriteBytes else { return }
        if peer.outstanding.isEmpty { peer.pipeline.idle(now: now) }
        while peer.outstanding.count < peer.pipeline.depth {
            if let bucket = downloadBucket, bucket.tokens < Double(PeerWire.blockSize) { return }
            guard let request = torrent.nextRequest(for: peer) else { return }
            _ = downloadBucket?.take(request.length)
            peer.outstanding.insert(PeerConnection.blockKey(piece: request.piece, begin: request.begin))
            peer.send(.request(piece: request.piece, begin: request.begin, length: request.length))
        }
    }

    /// The peer turned out slower than its queue: the requests past `surplusThreshold` (the last
    /// blocks asked for) are cancelled and go back to the pool, so faster peers can fetch them
    /// rather than wait behind it. One that arrives anyway is still accepted.
    private func cancelSurplus(_ torrent: Torrent, _ peer: PeerConnection) {
        let surplus = peer.outstanding.count - peer.pipeline.surplusThreshold
        for key in peer.outstanding.sorted().suffix(surplus) {
            peer.outstanding.remove(key)
            let index = PeerConnection.piece(ofKey: key), begin = PeerConnection.begin(ofKey: key)
            guard let partial = torrent.partials[index] else { continue }
            let block = begin / PeerWire.blockSize
            guard block < partial.blockCount else { continue }
            if partial.requesters[block] > 0 { partial.requesters[block] -= 1 }
            peer.send(.cancel(piece: index, begin: begin, length: partial.blockLength(block)))
        }
    }

    private func receiveBlock(_ torrent: Torrent, from peer: PeerConnection, piece index: Int, begin: Int, block: [UInt8]) {
        let key = PeerConnection.blockKey(piece: index, begin: begin)
        let requested = peer.outstanding.remove(key) != nil
        peer.lastBlockAt = now
        if requested, peer.pipeline.received(block.count, now: now), peer.outstanding.count > peer.pipeline.surplusThreshold {
            cancelSurplus(torrent, peer)
        }
        guard let partial = torrent.partials[index], begin % PeerWire.blockSize == 0 else { return }
        let blockIndex = begin / PeerWire.blockSize
        guard blockIndex < partial.blockCount, block.count == partial.blockLength(blockIndex) else {
            closeConnection(peer, reason: "block of the wrong size for piece \(index) at \(begin)")
            return
        }
        if requested, partial.requesters[blockIndex] > 0 { partial.requesters[blockIndex] -= 1 }
        guard !partial.received[blockIndex] else { return }
        partial.data.withUnsafeMutableBytes { buffer in
            block.withUnsafeBytes { buffer.baseAddress!.advanced(by: begin).copyMemory(from: $0.baseAddress!, byteCount: block.count) }
        }
        partial.received[blockIndex] = true
        partial.receivedCount += 1
        if let id = peer.peerID { partial.contributors.insert(id) }
        if peer.isRegistrySeed { torrent.bytesFromRegistrySeed += Int64(block.count) } else { torrent.bytesFromOtherPeers += Int64(block.count) }
        peer.roundDownloaded += Int64(block.count)
        if partial.requesters[blockIndex] > 0 {
            // Endgame: somebody else was asked for this block too.
            for other in torrent.peers.values where other !== peer && other.outstanding.remove(key) != nil {
                sendSoon(.cancel(piece: index, begin: begin, length: block.count), to: other)
            }
            partial.requesters[blockIndex] = 0
        }
        if partial.isComplete { finishPiece(torrent, partial) }
    }

    /// A piece's blocks are all in: the disk writer checks, writes and hashes it (`EngineDisk`).
    private func finishPiece(_ torrent: Torrent, _ partial: PartialPiece) {
        torrent.partials[partial.index] = nil
        if let owner = partial.owner, let peer = torrent.peers[owner] {
            peer.ownedPieces.removeAll { $0 == partial.index }
        }
        writePiece(torrent, partial.index, partial.data, verified: false, contributors: partial.contributors)
    }

    /// On the last piece: drops what is in flight and tells the tracker (the disk writer removed the
    /// resume file when the last piece reached the disk).
    func completeIfDone(_ torrent: Torrent) {
        if torrent.isComplete {
            for peer in torrent.peers.values { setInterested(peer, false) }
            logger.info("torrent complete", ["torrent.infohash": torrent.infoHash.hex])
            torrent.resumeDirty = false
            torrent.partials.removeAll()
            for peer in torrent.peers.values {
                peer.outstanding.removeAll()
                peer.ownedPieces.removeAll()
            }
            torrent.announcer?.completed()
            publish(torrent, force: true)
        }
    }

    /// A piece failed its hash: every contributor is dropped, and banned on its second offence.
    func punish(_ torrent: Torrent, _ contributors: Set<PeerID>, piece: Int) {
        logger.warning("piece failed its hash check", ["torrent.infohash": torrent.infoHash.hex, "piece": "\(piece)"])
        for id in contributors {
            let strikes = (torrent.strikes[id] ?? 0) + 1
            torrent.strikes[id] = strikes
            if strikes >= 2 { torrent.banned.insert(id) }
            for peer in torrent.peers.values where peer.peerID == id {
                closeConnection(peer, reason: "sent data for piece \(piece) that failed the hash check")
            }
        }
    }
}
