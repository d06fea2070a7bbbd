import DocketCore
import Foundation

/// Finished pieces go through the disk writer (`DiskWriter`): checked, written and read back into
/// the content hash off the loop; the loop counts a piece as ours once the writer says it is on disk.
extension Engine {
    /// Bytes handed to the disk writer and not yet written, beyond which no new blocks are
    /// requested: a disk slower than the network holds up the download instead of filling memory.
    static let maxPendingWriteBytes = 64 << 20

    func writePiece(_ torrent: Torrent, _ index: Int, _ data: [UInt8], verified: Bool, contributors: Set<PeerID>) {
        guard let content = torrent.content, torrent.writing[index] == nil, !torrent.have.contains(index) else { return }
        torrent.writing[index] = (data.count, contributors)
        pendingWriteBytes += data.count
        diskWriter.write(content, piece: index, data: data, verified: verified)
    }

    /// The writer's answer for one piece.
    func pieceWritten(_ torrent: Torrent, piece index: Int, outcome: WrittenContent.WriteOutcome) {
        guard let pending = torrent.writing.removeValue(forKey: index) else { return }
        releasePendingWrites(pending.size)
        switch outcome {
        case .written:
            pieceVerified(torrent, index, size: pending.size)
        case .hashMismatch:
            punish(torrent, pending.contributors, piece: index)
        case .alreadyOnDisk:
            break
        case .failed(let message):
            torrent.failure = message
            logger.error("torrent failed", ["torrent.infohash": torrent.infoHash.hex, "error": message])
            publish(torrent, force: true)
        }
    }

    /// `bytes` left the disk writer (written, refused, or dropped): when that lifts the hold on
    /// requests, every peer's pipeline is topped up at once rather than at the next tick.
    private func releasePendingWrites(_ bytes: Int) {
        let wasHeldUp = pendingWriteBytes >= Self.maxPendingWriteBytes
        pendingWriteBytes -= bytes
        guard wasHeldUp, pendingWriteBytes < Self.maxPendingWriteBytes else { return }
        for torrent in torrents.values {
            for peer in torrent.peers.values {
                fillRequests(peer)
                flushPending.insert(peer.fd)
            }
        }
    }

    /// A verified piece is on disk: count it, tell every peer, and complete on the last one.
    private func pieceVerified(_ torrent: Torrent, _ index: Int, size: Int) {
        guard torrent.have.insert(index) else { return }
        torrent.verifiedBytes += Int64(size)
        torrent.resumeDirty = true
        for peer in torrent.peers.values { sendSoon(.have(piece: index), to: peer) }
        completeIfDone(torrent)
    }

    /// The read-back sha256 of the whole download (nil: reading back failed); completion waits for it.
    func contentHashed(_ torrent: Torrent, _ digest: [UInt8]?) {
        torrent.contentSHA256 = digest
        torrent.contentHashPending = false
        if digest == nil {
            logger.warning("could not read the download back to hash it", ["torrent.infohash": torrent.infoHash.hex])
        }
        publish(torrent, force: true)
    }

    /// A stopping torrent's pieces still with the writer are forgotten; nothing writes to its file after this.
    func dropWrites(_ torrent: Torrent) {
        guard let content = torrent.content else { return }
        diskWriter.drop(content)
        releasePendingWrites(torrent.writing.values.reduce(0) { $0 + $1.size })
        torrent.writing.removeAll()
    }
}
