import DocketCore
import Foundation

/// Resuming downloads: taking over the pieces `ResumeCheck` confirmed, and keeping the resume file
/// (`ResumeFile`) current while downloading.
extension Engine {
    /// Minimum seconds between two writes of one torrent's resume file (a stop always writes).
    static let resumeWriteInterval: Double = 1

    /// Counts the confirmed pieces as verified, tells the peers, and starts requesting the rest.
    func resumeChecked(_ torrent: Torrent, _ verified: Bitfield) {
        torrent.checking = false
        var taken: [Int] = []
        for index in 0..<torrent.pieceCount where verified.contains(index) && torrent.have.insert(index) {
            let size = Int64(torrent.metainfo.pieceSize(index))
            torrent.verifiedBytes += size
            torrent.bytesResumed += size
            taken.append(index)
        }
        if let content = torrent.content, !taken.isEmpty { diskWriter.adopt(content, pieces: verified) }
        logger.info("resumed \(taken.count) verified pieces", ["torrent.infohash": torrent.infoHash.hex])
        // The file claimed more than held up: write the truth at the next chance.
        torrent.resumeDirty = true
        for peer in torrent.peers.values {
            // `have`s rather than a second bitfield: some clients accept a bitfield only first.
            for index in taken { sendSoon(.have(piece: index), to: peer) }
            setInterested(peer, torrent.isInteresting(peer))
        }
        completeIfDone(torrent)
        for peer in torrent.peers.values {
            fillRequests(peer)
            flush(peer)
        }
        publish(torrent, force: true)
    }

    /// Writes the resume file if pieces were verified since the last write, at most once per
    /// `resumeWriteInterval` unless the torrent is being stopped.
    func saveResume(_ torrent: Torrent) {
        let stopping = torrents[torrent.infoHash] !== torrent
        guard torrent.resumeDirty, !torrent.isComplete, torrent.failure == nil,
              stopping || now - torrent.lastResumeWrite >= Self.resumeWriteInterval else { return }
        torrent.resumeDirty = false
        torrent.lastResumeWrite = now
        let file = ResumeFile(infoHash: torrent.infoHash, have: torrent.have)
        if !stopping, let content = torrent.content {
            diskWriter.saveResume(content, file)
        } else if !file.write(forDataAt: torrent.storage.path) {
            logger.warning("cannot write the resume file: \(String(cString: strerror(errno)))",
                           ["torrent.infohash": torrent.infoHash.hex, "path": ResumeFile.path(for: torrent.storage.path)])
        }
    }
}
