/// Block selection: a peer first finishes the pieces assigned to it, then takes one of the first
/// missing pieces (`frontierWindow`), then the rarest piece nobody is fetching, then helps with other pieces' unrequested blocks, and in endgame (every
/// missing block already requested) duplicates requests, which are cancelled when the block arrives.
extension Torrent {
    /// Requests allowed per block in endgame.
    static let endgameDuplicates: UInt8 = 2
    /// How many of the lowest missing pieces go before the rarest. A download hashes its content in
    /// order as pieces reach the disk (`WrittenContent`); rarest-first alone leaves the oldest, most
    /// common pieces for last, so the hash would stall at the first gap and the commit would read
    /// most of the file again at the end. Swarm lab, N = 8: see the changelog.
    static let frontierWindow = 4

    /// The next block to request from `peer`, marked as requested; nil when it has nothing useful.
    func nextRequest(for peer: PeerConnection) -> (piece: Int, begin: Int, length: Int)? {
        for index in peer.ownedPieces {
            if let partial = partials[index], let block = partial.firstUnrequested() {
                return mark(partial, block)
            }
        }
        if let index = frontierPiece(for: peer) ?? rarestUnstartedPiece(for: peer) {
            let partial = PartialPiece(index: index, size: metainfo.pieceSize(index), owner: peer.fd)
            partials[index] = partial
            peer.ownedPieces.append(index)
            return mark(partial, 0)
        }
        for partial in partials.values where peer.bitfield.contains(partial.index) {
            if let block = partial.firstUnrequested() {
                if partial.owner == nil {
                    partial.owner = peer.fd
                    peer.ownedPieces.append(partial.index)
                }
                return mark(partial, block)
            }
        }
        guard isEndgame else { return nil }
        for partial in partials.values where peer.bitfield.contains(partial.index) {
            for block in 0..<partial.blockCount where !partial.received[block] && partial.requesters[block] < Self.endgameDuplicates {
                let key = PeerConnection.blockKey(piece: partial.index, begin: block * PeerWire.blockSize)
                if !peer.outstanding.contains(key) { return mark(partial, block) }
            }
        }
        return nil
    }

    /// Every missing piece is started (or with the web seed).
    var isEndgame: Bool { have.setCount + partials.count + writing.count + webSeedInFlight.count >= pieceCount }

    private func mark(_ partial: PartialPiece, _ block: Int) -> (piece: Int, begin: Int, length: Int) {
        partial.requesters[block] += 1
        return (partial.index, block * PeerWire.blockSize, partial.blockLength(block))
    }

    /// One of the first `frontierWindow` missing pieces that `peer` has and nobody is fetching.
    func frontierPiece(for peer: PeerConnection) -> Int? {
        while frontier < pieceCount && have.contains(frontier) { frontier += 1 }
        var index = frontier, missing = 0
        while index < pieceCount && missing < Self.frontierWindow {
            if !have.contains(index) {
                missing += 1
                if peer.bitfield.contains(index), partials[index] == nil, writing[index] == nil, !webSeedInFlight.contains(index) {
                    return index
                }
            }
            index += 1
        }
        return nil
    }

    /// The least available piece `peer` has that is neither ours, started, being written, nor with the web seed;
    /// ties go to the first found from a random start so peers spread out.
    func rarestUnstartedPiece(for peer: PeerConnection) -> Int? {
        let count = pieceCount
        guard count > 0 else { return nil }
        let start = Int.random(in: 0..<count)
        var best: Int?
        var bestAvailability = Int32.max
        for step in 0..<count {
            let index = (start + step) % count
            guard peer.bitfield.contains(index), !have.contains(index), partials[index] == nil, writing[index] == nil,
                  !webSeedInFlight.contains(index), availability[index] < bestAvailability else { continue }
            best = index
            bestAvailability = availability[index]
            if bestAvailability <= 1 { break }
        }
        return best
    }

    /// Returns a peer's outstanding requests and assigned pieces to the pool (choke or disconnect).
    func release(_ peer: PeerConnection) {
        for key in peer.outstanding {
            let index = PeerConnection.piece(ofKey: key)
            guard let partial = partials[index] else { continue }
            let block = PeerConnection.begin(ofKey: key) / PeerWire.blockSize
            if block < partial.blockCount, partial.requesters[block] > 0 { partial.requesters[block] -= 1 }
        }
        peer.outstanding.removeAll()
        for index in peer.ownedPieces where partials[index]?.owner == peer.fd {
            partials[index]?.owner = nil
        }
        peer.ownedPieces.removeAll()
    }
}
