/// Super-seeding (after BEP 16): a complete torrent shows each peer only a few pieces at a time,
/// pieces no peer holds and no peer is being sent, and shows the next one when the peer announces
/// (`have`) a piece. Pieces thus leave the seed about once each and the peers
/// trade the rest among themselves. Requests for pieces not shown are still served.
extension Engine {
    /// Bytes of shown-but-missing pieces across all peers: enough to keep the seed's link busy
    /// between a piece's `have` and the next request, and no more, since every shown piece may
    /// go out twice. Each peer is shown at least one piece.
    static let superSeedRevealBudget = 1 << 20

    /// Pieces a peer may have shown and not yet announced: the budget shared by the peers, at least
    /// one. Swarm lab (100 MB of 256 KiB pieces, 100 Mbit/s), registry copies and T / T_min: a fixed
    /// 2 gave N = 2 1.04 / 1.10 and N = 8 1.11 / 1.25; a fixed 1 gave N = 8 1.08 / 1.20 but N = 2
    /// 1.15 (the seed idles between a `have` and the next request).
    func superSeedRevealAhead(_ torrent: Torrent) -> Int {
        let pieces = max(1, Self.superSeedRevealBudget / max(1, torrent.metainfo.pieceLength))
        return max(1, pieces / max(1, torrent.peers.count))
    }

    /// Seconds after which a piece shown to one peer and not yet announced is shown to another.
    static let superSeedReshowAfter: Double = 1

    func isSuperSeeding(_ torrent: Torrent) -> Bool {
        configuration.superSeeding && torrent.isComplete
    }

    /// Tops the peer up to `superSeedRevealAhead` shown-but-missing pieces.
    func revealPieces(to peer: PeerConnection, in torrent: Torrent) {
        let count = torrent.pieceCount
        guard count > 0, peer.bitfield.count == count else { return }
        var pending = peer.revealed.filter { !peer.bitfield.contains($0) }.count
        let ahead = superSeedRevealAhead(torrent)
        while pending < ahead {
            guard let index = pieceToReveal(for: peer, in: torrent) else { return }
            peer.revealed.insert(index)
            torrent.revealsInFlight[index] += 1
            torrent.revealedAt[index] = now
            peer.send(.have(piece: index))
            pending += 1
        }
    }

    /// A peer announced `index`: if it had been shown the piece, that showing is done.
    func peerAnnounced(_ index: Int, peer: PeerConnection, in torrent: Torrent) {
        if peer.revealed.contains(index), torrent.revealsInFlight[index] > 0 { torrent.revealsInFlight[index] -= 1 }
    }

    /// A peer left (or replaces its bitfield): the pieces it was shown and has not announced are
    /// no longer on their way to it.
    func forgetReveals(of peer: PeerConnection, in torrent: Torrent) {
        for index in peer.revealed where index < torrent.pieceCount && !peer.bitfield.contains(index) {
            if torrent.revealsInFlight[index] > 0 { torrent.revealsInFlight[index] -= 1 }
        }
    }

    /// The other half of a bitfield replacement: counts again what is still on its way.
    func rememberReveals(of peer: PeerConnection, in torrent: Torrent) {
        for index in peer.revealed where index < torrent.pieceCount && !peer.bitfield.contains(index) {
            torrent.revealsInFlight[index] += 1
        }
    }

    /// The first piece no peer holds and nobody is being sent (fresh pieces are distinct per peer
    /// by definition, so no random start is needed); failing that, one shown to someone more than
    /// `superSeedReshowAfter` ago who still has not announced it. Pieces a peer already holds are never shown again: the pullers pass
    /// those on, so the seed sends each piece about once. Nil when there is nothing to show.
    private func pieceToReveal(for peer: PeerConnection, in torrent: Torrent) -> Int? {
        var stalled: Int?
        for index in 0..<torrent.pieceCount {
            guard !peer.bitfield.contains(index), !peer.revealed.contains(index), torrent.availability[index] == 0 else { continue }
            if torrent.revealsInFlight[index] == 0 { return index }
            if stalled == nil, now - torrent.revealedAt[index] > Self.superSeedReshowAfter { stalled = index }
        }
        return stalled
    }
}
