/// Super-seeding (after BEP 16): a complete torrent shows each peer only a few pieces at a time,
/// pieces no peer holds and no peer is being sent, and shows the next one once the peer has passed
/// one on (another peer announced it). Pieces thus leave the seed about once each and the peers
/// trade the rest among themselves; a peer whose upload cannot keep up gets no more than it can
/// pass on. Requests for pieces not shown are still served.
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

    /// Seconds a shown piece that its puller has not passed on counts against it (`revealPieces`).
    static let superSeedPassOnWindow: Double = 2

    func isSuperSeeding(_ torrent: Torrent) -> Bool {
        configuration.superSeeding && torrent.isComplete
    }

    /// Tops the peer up to `superSeedRevealAhead` shown pieces it has not received, and to twice
    /// that many it has not passed on (no other peer holds them yet; shown in the last
    /// `superSeedPassOnWindow` seconds; only while another peer still downloads). Without the second
    /// limit a puller that started first collected shown pieces faster than its upload could pass
    /// them on (swarm lab, N = 8: one host took 27 MB from the registry, 2-3x the others, and
    /// finished 1.3 s after them); counting unpassed pieces against the first limit kept the seed's
    /// link waiting (0.2 s slower). The window and the lone-peer exception keep a puller that has
    /// nobody to pass pieces to, or whose peers take nothing, from being shown nothing at all.
    func revealPieces(to peer: PeerConnection, in torrent: Torrent) {
        let count = torrent.pieceCount
        guard count > 0, peer.bitfield.count == count else { return }
        let othersDownload = torrent.peers.values.contains { $0 !== peer && !$0.bitfield.isComplete }
        var missing = 0, notPassedOn = 0
        for index in peer.revealed {
            if !peer.bitfield.contains(index) {
                missing += 1
                notPassedOn += 1
            } else if othersDownload, torrent.availability[index] <= 1,
                      now - torrent.revealedAt[index] < Self.superSeedPassOnWindow {
                notPassedOn += 1
            }
        }
        let ahead = superSeedRevealAhead(torrent)
        while missing < ahead && notPassedOn < 2 * ahead {
            guard let index = pieceToReveal(for: peer, in: torrent) else { return }
            peer.revealed.insert(index)
            torrent.revealsInFlight[index] += 1
            torrent.revealedAt[index] = now
            peer.send(.have(piece: index))
            missing += 1
            notPassedOn += 1
        }
    }

    /// A peer announced `index`: if it had been shown the piece, that showing is done.
    func peerAnnounced(_ index: Int, peer: PeerConnection, in torrent: Torrent) {
        if peer.revealed.contains(index), torrent.revealsInFlight[index] > 0 { torrent.revealsInFlight[index] -= 1 }
    }

    /// `index` reached a second peer: whoever it was shown to has passed it on and may see more.
    func revealAfterPassedOn(_ index: Int, by peer: PeerConnection, in torrent: Torrent) {
        guard torrent.availability[index] == 2 else { return }
        for other in torrent.peers.values where other !== peer && other.revealed.contains(index) {
            revealPieces(to: other, in: torrent)
            flushPending.insert(other.fd)
        }
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
    /// `superSeedReshowAfter` ago who still has not announced it. While fresh pieces remain, pieces
    /// a peer already holds are not shown: the pullers pass those on, so the seed sends each piece
    /// about once. Once every piece has left the seed, its link would idle while the pullers trade
    /// the last pieces, so it shows the rarest piece the peer lacks (swarm lab, N = 8: the last host
    /// finished 0.1 s sooner for 1-2 % more registry bytes). Nil when there is nothing to show.
    private func pieceToReveal(for peer: PeerConnection, in torrent: Torrent) -> Int? {
        var stalled: Int?
        var rarest: Int?
        var rarestAvailability = Int32.max
        for index in 0..<torrent.pieceCount where !peer.bitfield.contains(index) && !peer.revealed.contains(index) {
            let availability = torrent.availability[index]
            if availability == 0 {
                if torrent.revealsInFlight[index] == 0 { return index }
                if stalled == nil, now - torrent.revealedAt[index] > Self.superSeedReshowAfter { stalled = index }
            } else if availability < rarestAvailability {
                rarest = index
                rarestAvailability = availability
            }
        }
        return stalled ?? rarest
    }
}
