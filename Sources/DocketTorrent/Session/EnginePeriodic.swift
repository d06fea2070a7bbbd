import DocketCore
import Foundation

/// Timers: token refills, timeouts, keep-alives, dialling, choking, web seeds and status.
extension Engine {
    static let connectTimeout: Double = 10
    static let handshakeTimeout: Double = 20
    static let idleTimeout: Double = 150
    static let keepAliveInterval: Double = 90
    static let requestTimeout: Double = 60
    static let webSeedGrace: Double = 2
    static let webSeedConcurrency = 2

    func tick() {
        if uploadBucket != nil || downloadBucket != nil {
            uploadBucket?.refill(now: now)
            downloadBucket?.refill(now: now)
            if uploadBucket != nil { serveUploadsInTurn() }
            if downloadBucket != nil {
                for peer in connections.values where peer.phase == .active {
                    fillRequests(peer)
                    flush(peer)
                }
                for torrent in torrents.values where torrent.webSeedAwaitsTokens {
                    torrent.webSeedAwaitsTokens = false
                    scheduleWebSeed(torrent)
                }
            }
        }
        for torrent in torrents.values where now - torrent.lastPublishTime >= 0.25 {
            publish(torrent, force: false)
        }
        guard now - lastSecondTick >= 1 else { return }
        lastSecondTick = now
        for connection in Array(connections.values) { checkTimeouts(connection) }
        for torrent in torrents.values {
            connectToKnownPeers(torrent)
            if now - torrent.lastChoke >= 10 { rechoke(torrent) }
            for peer in torrent.peers.values {
                // Pieces nobody held a moment ago (their holders left) or shown to a peer that
                // stalled: a super-seed shows them without waiting for the peer's next `have`.
                if isSuperSeeding(torrent) { revealPieces(to: peer, in: torrent) }
                setInterested(peer, torrent.isInteresting(peer))
                fillRequests(peer)
                flush(peer)
            }
            scheduleWebSeed(torrent)
            saveResume(torrent)
        }
    }

    private func checkTimeouts(_ connection: PeerConnection) {
        connection.controlMessages = 0
        switch connection.phase {
        case .connecting where now - connection.createdAt > Self.connectTimeout:
            closeConnection(connection, reason: "connect timed out")
        case .handshaking where now - connection.createdAt > Self.handshakeTimeout:
            closeConnection(connection, reason: "no handshake within \(Int(Self.handshakeTimeout)) s")
        case .active:
            if now - connection.lastReceived > Self.idleTimeout {
                closeConnection(connection, reason: "silent for \(Int(Self.idleTimeout)) s")
            } else if let torrent = connection.torrent, torrent.isComplete, connection.bitfield.isComplete {
                closeConnection(connection, reason: "both sides are seeds")
            } else if !connection.outstanding.isEmpty && now - connection.lastBlockAt > Self.requestTimeout {
                // Slow or stuck: give its blocks to other peers; late arrivals are still accepted.
                for key in connection.outstanding {
                    let piece = PeerConnection.piece(ofKey: key), begin = PeerConnection.begin(ofKey: key)
                    let length = connection.torrent.map { min(PeerWire.blockSize, $0.metainfo.pieceSize(piece) - begin) } ?? PeerWire.blockSize
                    connection.send(.cancel(piece: piece, begin: begin, length: length))
                }
                connection.torrent?.release(connection)
                connection.lastBlockAt = now
                flush(connection)
            } else if now - connection.lastSent > Self.keepAliveInterval {
                connection.send(.keepAlive)
                connection.lastSent = now
                flush(connection)
            }
        default:
            break
        }
    }

    /// Publishes the status when it changed (at most every 250 ms) or when forced.
    func publish(_ torrent: Torrent, force: Bool) {
        let status = torrent.status
        guard force || status != torrent.lastPublished else { return }
        torrent.lastPublished = status
        torrent.lastPublishTime = now
        torrent.shared.publish(status)
    }
}
