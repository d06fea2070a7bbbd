import DocketCore
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// One download's pieces as the disk writer sees them: which are on disk, and the sha256 of the
/// whole content, read back from the file in order as the on-disk prefix grows.
///
/// The read-back hash is what lets a pull commit a layer without hashing it once more at the end:
/// the bytes hashed are the file's bytes, not the buffers that were written, and a piece is never
/// written again once it is on disk (`write` refuses it), so every byte was hashed after its last
/// write. What this cannot see is another process writing into the file; the store trusts its own
/// directory as it does for committed blobs.
///
/// Owned by the `DiskWriter` thread: nothing here is touched by the event loop except the
/// immutable `let`s and `storage`'s reads of pieces the loop already counts as verified.
final class WrittenContent: @unchecked Sendable {
    let infoHash: InfoHash
    /// Ties results to this run of the torrent (a stop and re-add makes a new one).
    let shared: TorrentShared
    let storage: PieceStorage
    private let metainfo: Metainfo

    private var onDisk: Bitfield
    /// Pieces below this index are in `hasher`.
    private var hashedPieces = 0
    private var hasher: Hasher? = Hasher(.sha256)
    private var buffer: [UInt8] = []
    /// The digest (or the failure to read back) was reported.
    private var finished = false
    /// Bytes written since the kernel was last asked to start writing the file out.
    private var unsubmitted = 0
    /// The resume file, kept open from its first write until `close`: its removal on completion
    /// then frees nothing, and the blocks go (with a `discard` mount, waiting for the disk) only
    /// when the torrent stops, off the path to completion.
    private var resumeFD: Int32 = -1
    /// Every this many bytes written, writeback of the file starts, so the commit's `fsync` finds
    /// little left to write.
    static let writebackBatch = 4 << 20

    init(metainfo: Metainfo, storage: PieceStorage, shared: TorrentShared) {
        self.metainfo = metainfo
        self.infoHash = metainfo.infoHash
        self.storage = storage
        self.shared = shared
        onDisk = Bitfield(count: metainfo.pieceCount)
    }

    /// Writes the download's resume file in place; false on an I/O error (errno set). Once every
    /// piece is on disk there is nothing to resume and nothing is written.
    func saveResume(_ file: ResumeFile) -> Bool {
        guard !onDisk.isComplete else { return true }
        if resumeFD < 0 { resumeFD = open(ResumeFile.path(for: storage.path), O_RDWR | O_CREAT | O_CLOEXEC, 0o644) }
        return resumeFD >= 0 && file.write(to: resumeFD)
    }

    /// Records a piece as on disk; with the last one the resume file goes (before the caller
    /// reports that piece), held open so nothing is freed yet.
    private func markOnDisk(_ index: Int) {
        guard onDisk.insert(index), onDisk.isComplete else { return }
        let path = ResumeFile.path(for: storage.path)
        if resumeFD < 0 { resumeFD = open(path, O_RDONLY | O_CLOEXEC) }
        unlink(path)
    }

    /// Lets go of the resume file (the torrent stopped).
    func close() {
        if resumeFD >= 0 { Glibc.close(resumeFD) }
        resumeFD = -1
    }

    enum WriteOutcome: Sendable, Equatable {
        case written
        /// The bytes do not match the piece's SHA-1.
        case hashMismatch
        /// Already on disk: never written twice (the read-back hash may have covered it).
        case alreadyOnDisk
        case failed(String)
    }

    /// Checks (unless `verified`) and writes one piece, starts its writeback, and extends the hash.
    func write(piece index: Int, data: [UInt8], verified: Bool) -> WriteOutcome {
        guard index < metainfo.pieceCount, !onDisk.contains(index) else { return .alreadyOnDisk }
        if !verified, Hasher.sha1(data) != metainfo.pieceHashes[index] { return .hashMismatch }
        let offset = Int64(index) * Int64(metainfo.pieceLength)
        guard data.withUnsafeBytes({ storage.write(offset: offset, bytes: $0) }) else {
            return .failed("writing piece \(index) to \(storage.path) failed: \(String(cString: strerror(errno)))")
        }
        markOnDisk(index)
        unsubmitted += data.count
        if unsubmitted >= Self.writebackBatch || onDisk.isComplete {
            // The whole file's dirty pages at once: pieces arrive out of order, and the block layer
            // merges neighbours into large writes (per 64 KiB piece it saw many small ones).
            storage.startWriteback(offset: 0, count: Int(storage.totalLength))
            unsubmitted = 0
        }
        return .written
    }

    /// Pieces an earlier run left on disk and `ResumeCheck` confirmed.
    func adopt(_ pieces: Bitfield) {
        for index in 0..<metainfo.pieceCount where pieces.contains(index) { markOnDisk(index) }
    }

    /// Reads back and hashes the pieces that now extend the hashed prefix, at most about `budget`
    /// bytes (`.more` when it stopped there: call again). Returns the content's sha256 once the last
    /// piece is in, or nil there when reading back failed (the caller then hashes the file itself);
    /// `.pending` until then, and after it was reported once.
    func advanceHash(budget: Int = .max) -> HashProgress {
        guard !finished else { return .pending }
        var read = 0
        while hashedPieces < metainfo.pieceCount, onDisk.contains(hashedPieces) {
            if read >= budget { return .more }
            let size = metainfo.pieceSize(hashedPieces)
            if buffer.count < size { buffer = [UInt8](repeating: 0, count: size) }
            let offset = Int64(hashedPieces) * Int64(metainfo.pieceLength)
            let ok = buffer.withUnsafeMutableBytes { storage.read(offset: offset, count: size, into: $0.baseAddress!) }
            guard ok else { return finish(nil) }
            buffer.withUnsafeBytes { hasher!.update(UnsafeRawBufferPointer(rebasing: $0[0..<size])) }
            hashedPieces += 1
            read += size
        }
        guard hashedPieces == metainfo.pieceCount, let done = hasher.take() else { return .pending }
        return finish(done.finalize())
    }

    enum HashProgress: Equatable {
        case pending
        /// Stopped at the budget with more on disk to hash.
        case more
        case finished([UInt8]?)
    }

    private func finish(_ digest: [UInt8]?) -> HashProgress {
        finished = true
        hasher = nil
        buffer = []
        return .finished(digest)
    }
}
