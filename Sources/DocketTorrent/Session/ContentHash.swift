import DocketCore

/// The sha256 of a download's whole content, computed in piece order while the download runs, so
/// that whoever commits the file need not read it all again at the end (a registry blob's digest).
/// Pieces that verify out of order are read back from storage when the gap before them closes, at
/// most `readBackPerPiece` per verified piece so the event loop never stalls on a long run, and
/// up to `finalReadBack` bytes when the last piece verifies; if the hash is further behind than that,
/// there is no digest and the caller hashes the file itself.
final class ContentHash {
    /// Pieces read back per verified piece (about 10 ms of hashing for 256 KiB pieces).
    static let readBackPerPiece = 64
    /// When the last piece verifies, a gap of up to this many bytes is still hashed at once (about
    /// 40 ms); a longer one is left to the caller.
    static let finalReadBack: Int64 = 64 << 20

    private var hasher: Hasher? = Hasher(.sha256)
    /// Pieces hashed so far: `0..<hashedPieces`.
    private(set) var hashedPieces = 0
    private(set) var digest: [UInt8]?

    /// Piece `index` verified with `data`; feeds it when it is next, and verified pieces after it
    /// (some may have been verified earlier, or taken over from a resume file).
    func pieceVerified(_ index: Int, data: [UInt8], in torrent: Torrent) {
        guard hasher != nil else { return }
        if index == hashedPieces {
            hasher!.update(data)
            hashedPieces += 1
        }
        let remaining = Int64(torrent.pieceCount - hashedPieces) * Int64(torrent.metainfo.pieceLength)
        let limit = torrent.isComplete && remaining <= Self.finalReadBack ? torrent.pieceCount : Self.readBackPerPiece
        var readBack = 0
        var buffer: [UInt8] = []
        while hashedPieces < torrent.pieceCount, torrent.have.contains(hashedPieces), readBack < limit {
            let size = torrent.metainfo.pieceSize(hashedPieces)
            buffer = [UInt8](repeating: 0, count: size)
            let read = buffer.withUnsafeMutableBytes { torrent.storage.read(offset: torrent.pieceOffset(hashedPieces), count: size, into: $0.baseAddress!) }
            guard read else { return }
            hasher!.update(buffer)
            hashedPieces += 1
            readBack += 1
        }
        if hashedPieces == torrent.pieceCount, let finished = hasher.take() {
            digest = finished.finalize()
        }
    }
}
