import DocketCore
import Foundation

/// BEP 19 web seeds: whole pieces by HTTP Range when no connected peer can provide them.
extension Engine {
    /// Starts up to two piece fetches for pieces that no unchoking peer has.
    func scheduleWebSeed(_ torrent: Torrent) {
        guard !torrent.isComplete, !torrent.checking, torrent.failure == nil, !torrent.metainfo.isMultiFile,
              let base = torrent.metainfo.urlList.first, torrent.webSeedFailures < 5,
              now >= torrent.webSeedNextAttempt, now - torrent.startedAt >= Self.webSeedGrace else { return }
        let url = base.hasSuffix("/") ? base + percentEncodedPath(torrent.metainfo.name) : base
        let providers = torrent.peers.values.filter { !$0.peerChoking }
        // An unchoking registry seed has every piece even when it shows only a few (super-seeding):
        // fetching from the registry's web seed too would only send the registry's bytes twice.
        if providers.contains(where: \.isRegistrySeed) { return }
        var index = 0
        while torrent.webSeedInFlight.count < Self.webSeedConcurrency && index < torrent.pieceCount {
            defer { index += 1 }
            guard !torrent.have.contains(index), torrent.writing[index] == nil, !torrent.webSeedInFlight.contains(index),
                  !providers.contains(where: { $0.bitfield.contains(index) }) else { continue }
            if let partial = torrent.partials[index], partial.owner != nil || partial.hasRequests { continue }
            // The download limit covers web-seed bytes too: a fetch waits until the bucket is out of
            // debt (`tick` tries again as it refills), then charges its whole piece.
            if let bucket = downloadBucket {
                guard bucket.tokens > 0 else {
                    torrent.webSeedAwaitsTokens = true
                    return
                }
                downloadBucket?.charge(torrent.metainfo.pieceSize(index))
            }
            torrent.partials[index] = nil
            torrent.webSeedInFlight.insert(index)
            fetchPiece(torrent, index: index, url: url)
        }
    }

    private func fetchPiece(_ torrent: Torrent, index: Int, url: String) {
        let start = torrent.pieceOffset(index)
        let size = torrent.metainfo.pieceSize(index)
        let end = start + Int64(size) - 1
        let hash = torrent.infoHash
        let channel = self.channel
        let http = self.http
        let thread = Thread {
            let request = HTTPRequest(url: url, headers: [("Range", "bytes=\(start)-\(end)")], timeout: 120)
            let result: Result<[UInt8], TrackerFailure>
            do {
                let response = try http.perform(request, sink: nil)
                let contentRange = response.header("content-range") ?? ""
                if response.status != 206 {
                    result = .failure(TrackerFailure(message: "web seed \(url) answered \(response.status) to a Range request; it must answer 206"))
                } else if !contentRange.hasPrefix("bytes \(start)-\(end)/") {
                    result = .failure(TrackerFailure(message: "web seed \(url) sent Content-Range '\(contentRange)' for bytes \(start)-\(end)"))
                } else if response.body.count != size {
                    result = .failure(TrackerFailure(message: "web seed \(url) sent \(response.body.count) bytes for a \(size)-byte piece"))
                } else {
                    result = .success([UInt8](response.body))
                }
            } catch {
                result = .failure(TrackerFailure(message: "web seed \(url): \(error)"))
            }
            channel.send(.webSeedResult(hash, piece: index, result))
        }
        thread.name = "docket.webseed"
        thread.start()
    }

    func webSeedFinished(_ torrent: Torrent, piece: Int, result: Result<[UInt8], TrackerFailure>) {
        torrent.webSeedInFlight.remove(piece)
        switch result {
        case .success(let data):
            guard Hasher.sha1(data) == torrent.metainfo.pieceHashes[piece] else {
                torrent.webSeedFailures += 1
                torrent.webSeedNextAttempt = now + 5
                logger.warning("web seed piece failed its hash check", ["torrent.infohash": torrent.infoHash.hex, "piece": "\(piece)"])
                return
            }
            guard !torrent.have.contains(piece), torrent.writing[piece] == nil else { return }
            if torrent.partials[piece] != nil {
                torrent.partials[piece] = nil
                for peer in torrent.peers.values {
                    peer.ownedPieces.removeAll { $0 == piece }
                    for key in peer.outstanding where PeerConnection.piece(ofKey: key) == piece {
                        peer.outstanding.remove(key)
                        sendSoon(.cancel(piece: piece, begin: PeerConnection.begin(ofKey: key), length: min(PeerWire.blockSize, data.count - PeerConnection.begin(ofKey: key))), to: peer)
                    }
                }
            }
            torrent.bytesFromWebSeed += Int64(data.count)
            writePiece(torrent, piece, data, verified: true, contributors: [])
            webSeedFailuresReset(torrent)
            scheduleWebSeed(torrent)
        case .failure(let failure):
            torrent.webSeedFailures += 1
            torrent.webSeedNextAttempt = now + 2 * Double(torrent.webSeedFailures)
            logger.info("web seed fetch failed: \(failure.message)", ["torrent.infohash": torrent.infoHash.hex])
        }
    }

    private func webSeedFailuresReset(_ torrent: Torrent) {
        torrent.webSeedFailures = 0
    }

    private func percentEncodedPath(_ name: String) -> String {
        name.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? name
    }
}
