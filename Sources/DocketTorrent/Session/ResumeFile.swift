import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The sidecar that lets an interrupted download resume: `<path>.docket-resume` next to the data
/// holds which pieces were verified, written by the event loop at most once a second and when the
/// torrent stops, and removed when the download completes.
///
/// Layout: the 16 bytes `DOCKET-RESUME 1\n`, the 20-byte info hash, the piece count (4 bytes, big
/// endian), then the bitfield in wire order. A claim is only a hint: every claimed piece is hashed
/// again before it counts (`ResumeCheck`).
struct ResumeFile: Equatable {
    static let magic = Array("DOCKET-RESUME 1\n".utf8)
    static let suffix = ".docket-resume"

    var infoHash: InfoHash
    var have: Bitfield

    /// Where the sidecar of the data at `path` lives.
    static func path(for dataPath: String) -> String { dataPath + suffix }

    func encoded() -> [UInt8] {
        let count = UInt32(have.count)
        return Self.magic + infoHash.bytes + [UInt8(count >> 24), UInt8(count >> 16 & 0xff), UInt8(count >> 8 & 0xff), UInt8(count & 0xff)]
            + have.bytes
    }

    /// Reads a sidecar; nil for anything malformed.
    init?(decoding bytes: [UInt8]) {
        let header = Self.magic.count + 20 + 4
        guard bytes.count >= header, Array(bytes[0..<Self.magic.count]) == Self.magic,
              let hash = InfoHash(bytes: Array(bytes[Self.magic.count..<Self.magic.count + 20])) else { return nil }
        let count = bytes[header - 4..<header].reduce(0) { $0 << 8 | Int($1) }
        guard let have = Bitfield(wire: Array(bytes[header...]), count: count) else { return nil }
        self.infoHash = hash
        self.have = have
    }

    init(infoHash: InfoHash, have: Bitfield) {
        self.infoHash = infoHash
        self.have = have
    }

    /// The pieces an earlier run claims for this torrent at `path`, or nil when there is no sidecar,
    /// it is for another torrent or unreadable, or a data file is missing or of the wrong size.
    /// Call before `PieceStorage` (which creates and sizes the files).
    static func claimedPieces(of metainfo: Metainfo, at path: String) -> Bitfield? {
        guard let data = FileManager.default.contents(atPath: Self.path(for: path)),
              let file = ResumeFile(decoding: [UInt8](data)),
              file.infoHash == metainfo.infoHash, file.have.count == metainfo.pieceCount, file.have.setCount > 0 else { return nil }
        for entry in metainfo.files {
            let filePath = metainfo.isMultiFile ? ([path] + entry.path).joined(separator: "/") : path
            var info = stat()
            guard stat(filePath, &info) == 0, Int64(info.st_size) == entry.length else { return nil }
        }
        return file.have
    }

    /// Without a resume file, a single file shorter than the torrent's data holds what a sequential
    /// downloader (plain HTTP) wrote from the start: the pieces wholly inside it are worth checking.
    /// A file of full length without one is left alone (the engine makes it that long at once, so
    /// its bytes say nothing). Nil when there is nothing to check.
    static func prefixPieces(of metainfo: Metainfo, at path: String) -> Bitfield? {
        var info = stat()
        guard !metainfo.isMultiFile, !FileManager.default.fileExists(atPath: Self.path(for: path)),
              stat(path, &info) == 0, info.st_size > 0, Int64(info.st_size) < metainfo.totalLength else { return nil }
        let whole = Int(Int64(info.st_size) / Int64(metainfo.pieceLength))
        guard whole > 0 else { return nil }
        var pieces = Bitfield(count: metainfo.pieceCount)
        for index in 0..<whole { pieces.insert(index) }
        return pieces
    }

    /// Writes the sidecar through a temporary file and a rename, so a reader sees the old or the new
    /// one; false on an I/O error. Not fsynced: a sidecar lost in a crash only costs re-downloading.
    func write(forDataAt path: String) -> Bool {
        let target = Self.path(for: path)
        let temporary = target + ".tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { return false }
        let bytes = encoded()
        let written = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        Glibc.close(fd)
        guard written == bytes.count, rename(temporary, target) == 0 else {
            unlink(temporary)
            return false
        }
        return true
    }

    /// Overwrites the sidecar open at `fd` in place (cut to size if it was longer); false on an I/O
    /// error. A write torn by a crash mixes two bitfields of verified pieces, and every claimed piece
    /// is hashed again on resume, so no rename is needed, and none happens: replacing a file frees
    /// the old one's blocks, which on a file system mounted with `discard` waits for the disk.
    func write(to fd: Int32) -> Bool {
        let bytes = encoded()
        let written = bytes.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
        guard written == bytes.count else { return false }
        var info = stat()
        if fstat(fd, &info) == 0, info.st_size > bytes.count { return ftruncate(fd, off_t(bytes.count)) == 0 }
        return true
    }

    /// Removes the sidecar of the data at `path` (the download is complete).
    static func remove(forDataAt path: String) {
        unlink(Self.path(for: path))
    }
}
