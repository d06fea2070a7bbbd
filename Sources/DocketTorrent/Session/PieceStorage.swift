import CDocketShims
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The torrent's bytes on disk, addressed by torrent offset, through `pread`/`pwrite` on file
/// descriptors opened once and kept for the torrent's life (the file may be renamed meanwhile).
///
/// A single-file torrent lives at `path`; a multi-file torrent's files live below the directory `path`.
/// Used only by the event loop after `TorrentClient.add` opened it; hence unchecked Sendable.
final class PieceStorage: @unchecked Sendable {
    private struct Segment {
        var fd: Int32
        var start: Int64
        var length: Int64
    }

    private let segments: [Segment]
    let totalLength: Int64
    let path: String

    /// Opens (and for downloads creates and sizes) the files. Seeding requires them complete.
    init(metainfo: Metainfo, path: String, seeding: Bool) throws {
        self.path = path
        totalLength = metainfo.totalLength
        var opened: [Segment] = []
        var start: Int64 = 0
        do {
            for file in metainfo.files {
                let filePath = metainfo.isMultiFile ? ([path] + file.path).joined(separator: "/") : path
                if !seeding && metainfo.isMultiFile {
                    try FileManager.default.createDirectory(atPath: (filePath as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
                }
                // No access-time updates: the event loop reads pieces to serve them, and updating the
                // access time of a file being written can wait for the journal (swarm lab: every host
                // stalled for a quarter second at once).
                let fd = docket_open_noatime(filePath, seeding ? O_RDONLY | O_CLOEXEC : O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
                guard fd >= 0 else { throw TorrentError.storage(path: filePath, message: String(cString: strerror(errno))) }
                opened.append(Segment(fd: fd, start: start, length: file.length))
                var info = stat()
                fstat(fd, &info)
                if seeding && Int64(info.st_size) < file.length {
                    throw TorrentError.storage(path: filePath, message: "it has \(info.st_size) bytes but the torrent needs \(file.length) to seed")
                }
                if !seeding && Int64(info.st_size) != file.length && ftruncate(fd, off_t(file.length)) != 0 {
                    throw TorrentError.storage(path: filePath, message: "cannot size it to \(file.length) bytes: \(String(cString: strerror(errno)))")
                }
                start += file.length
            }
        } catch {
            for segment in opened { Glibc.close(segment.fd) }
            throw error
        }
        segments = opened
    }

    /// Reads `count` bytes at torrent `offset` into `buffer`; false on an I/O error or short file.
    func read(offset: Int64, count: Int, into buffer: UnsafeMutableRawPointer) -> Bool {
        forEachSpan(offset: offset, count: count) { fd, fileOffset, bufferOffset, length in
            var done = 0
            while done < length {
                let n = pread(fd, buffer + bufferOffset + done, length - done, off_t(fileOffset + Int64(done)))
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { return false }
                done += n
            }
            return true
        }
    }

    /// Writes `bytes` at torrent `offset`; false on an I/O error.
    func write(offset: Int64, bytes: UnsafeRawBufferPointer) -> Bool {
        forEachSpan(offset: offset, count: bytes.count) { fd, fileOffset, bufferOffset, length in
            var done = 0
            while done < length {
                let n = pwrite(fd, bytes.baseAddress! + bufferOffset + done, length - done, off_t(fileOffset + Int64(done)))
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { return false }
                done += n
            }
            return true
        }
    }

    /// Asks the kernel to start writing the range to disk now, without waiting. Pieces then reach
    /// the disk while the download goes on, and the `fsync` that commits the finished file finds
    /// little left to write (a 100 MB layer otherwise waits for all of it at the end).
    func startWriteback(offset: Int64, count: Int) {
        _ = forEachSpan(offset: offset, count: count) { fd, fileOffset, _, length in
            docket_start_writeback(fd, fileOffset, Int64(length))
            return true
        }
    }

    private func forEachSpan(offset: Int64, count: Int, _ body: (Int32, Int64, Int, Int) -> Bool) -> Bool {
        guard offset >= 0, offset + Int64(count) <= totalLength else { return false }
        var position = offset
        var remaining = count
        for segment in segments where remaining > 0 && position < segment.start + segment.length {
            if position < segment.start { continue }
            let inFile = position - segment.start
            let length = Int(min(Int64(remaining), segment.length - inFile))
            if length > 0, !body(segment.fd, inFile, Int(position - offset), length) { return false }
            position += Int64(length)
            remaining -= length
        }
        return remaining == 0
    }

    func close() {
        for segment in segments { Glibc.close(segment.fd) }
    }
}
