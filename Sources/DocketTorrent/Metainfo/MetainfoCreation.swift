import Foundation
#if canImport(Glibc)
import Glibc
#endif

extension Metainfo {
    /// Makes a single-file torrent for the file at `path`, hashing its pieces on `threads`
    /// dedicated threads. Blocking: call it from `Blocking.run` or another non-pool thread.
    ///
    /// Deterministic: the info dictionary is exactly `{length, name, piece length, pieces}`
    /// plus `private: 1` when `isPrivate`, so the same file, name and piece length give the
    /// same info-hash on any machine.
    /// - Parameters:
    ///   - pieceLength: a power of two of at least 16 KiB; nil picks `pieceLength(forTotalSize:)`.
    /// - Throws: `MetainfoError.io` when the file cannot be read, `.invalidValue` for a bad name or piece length.
    public static func create(fileAt path: String, name: String, pieceLength: Int? = nil, isPrivate: Bool,
                              announce: String?, urlList: [String], threads: Int = 2) throws -> Metainfo
    {
        if let problem = problem(withPathElement: name) { throw MetainfoError.invalidValue(field: "info.name", reason: problem) }
        if let pieceLength, pieceLength < 16 << 10 || pieceLength > 1 << 30 || pieceLength & (pieceLength - 1) != 0 {
            throw MetainfoError.invalidValue(field: "info.piece length", reason: "must be a power of two from 16 KiB to 1 GiB, got \(pieceLength)")
        }
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw MetainfoError.io(path: path, operation: "open", errno: errno) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw MetainfoError.io(path: path, operation: "fstat", errno: errno) }
        guard info.st_mode & S_IFMT == S_IFREG else { throw MetainfoError.io(path: path, operation: "open (not a regular file)", errno: EINVAL) }
        let size = Int64(info.st_size)
        let length = pieceLength ?? Self.pieceLength(forTotalSize: size)
        _ = posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL)
        let pieces = try PieceHasher.hash(fd: fd, path: path, size: size, pieceLength: length, threads: max(1, threads))

        var infoDictionary: BencodeValue = [
            "length": .integer(size),
            "name": .bytes(Array(name.utf8)),
            "piece length": .integer(Int64(length)),
            "pieces": .bytes(pieces),
        ]
        if isPrivate, case .dictionary(var entries) = infoDictionary {
            entries[Array("private".utf8)] = 1
            infoDictionary = .dictionary(entries)
        }
        return Metainfo(
            name: name, pieceLength: length,
            pieceHashes: stride(from: 0, to: pieces.count, by: 20).map { Array(pieces[$0..<$0 + 20]) },
            files: [FileEntry(path: [name], length: size)], isPrivate: isPrivate,
            rawInfo: Bencode.encode(infoDictionary), isMultiFile: false,
            announce: announce, announceList: [], urlList: urlList)
    }
}
