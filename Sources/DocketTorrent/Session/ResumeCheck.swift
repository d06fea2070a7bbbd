import DocketCore
import Foundation

/// Hashes again the pieces a resume file claims, on a thread of its own (hundreds of megabytes must
/// not hold up the event loop or the caller), and hands the pieces that match to the loop. The torrent
/// requests nothing until the answer arrives; a stop meanwhile ends the check early.
enum ResumeCheck {
    static func start(metainfo: Metainfo, path: String, claimed: Bitfield, shared: TorrentShared, channel: CommandChannel) {
        let thread = Thread {
            let verified = verify(metainfo: metainfo, path: path, claimed: claimed, shared: shared)
            channel.send(.resumeChecked(metainfo.infoHash, shared, verified))
        }
        thread.name = "docket.torrent-resume-check"
        thread.start()
    }

    /// The claimed pieces whose bytes at `path` hash to the metainfo's piece hashes.
    static func verify(metainfo: Metainfo, path: String, claimed: Bitfield, shared: TorrentShared) -> Bitfield {
        var verified = Bitfield(count: metainfo.pieceCount)
        guard let storage = try? PieceStorage(metainfo: metainfo, path: path, seeding: true) else { return verified }
        defer { storage.close() }
        var buffer = [UInt8](repeating: 0, count: metainfo.pieceLength)
        for index in 0..<metainfo.pieceCount where claimed.contains(index) {
            if shared.isFinished { break }
            let size = metainfo.pieceSize(index)
            let read = buffer.withUnsafeMutableBytes {
                storage.read(offset: Int64(index) * Int64(metainfo.pieceLength), count: size, into: $0.baseAddress!)
            }
            guard read else { continue }
            if Hasher.sha1(buffer[0..<size]) == metainfo.pieceHashes[index] { verified.insert(index) }
        }
        return verified
    }
}
