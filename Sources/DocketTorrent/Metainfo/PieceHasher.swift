import DocketCore
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Hashes a file's pieces with SHA-1 on dedicated threads, never on the cooperative pool.
///
/// The pieces are split into one contiguous range per thread; each thread reads its range
/// with `pread` into a buffer of its own and hashes each chunk right after reading it.
enum PieceHasher {
    /// Bytes read per `pread` (at most one piece): small enough to stay in the CPU cache
    /// between the copy and the hash. 1 MiB measured fastest on a 1 GiB file (128 KiB to
    /// 2 MiB within a few percent; whole 16 MiB reads about 15% slower).
    static let readSize = 1 << 20

    /// The 20-byte SHA-1 of every piece of the first `size` bytes of `fd`, concatenated.
    /// Blocks the calling thread until all workers finish.
    static func hash(fd: Int32, path: String, size: Int64, pieceLength: Int, threads: Int) throws -> [UInt8] {
        let pieceCount = size == 0 ? 0 : Int((size - 1) / Int64(pieceLength) + 1)
        guard pieceCount > 0 else { return [] }
        let workers = max(1, min(threads, pieceCount))
        let output = SharedBuffer(count: pieceCount * 20)
        defer { output.deallocate() }
        let failure = LockedBox<MetainfoError?>(nil)
        let group = DispatchGroup()
        for worker in 0..<workers {
            let range = (worker * pieceCount / workers)..<((worker + 1) * pieceCount / workers)
            let job = Job(fd: fd, path: path, size: size, pieceLength: pieceLength, pieces: range, output: output)
            if worker == workers - 1 {
                run(job, failure: failure)
            } else {
                group.enter()
                let thread = Thread {
                    run(job, failure: failure)
                    group.leave()
                }
                thread.name = "docket.piece-hasher.\(worker)"
                thread.start()
            }
        }
        group.wait()
        if let error = failure.withLockedValue({ $0 }) { throw error }
        return Array(UnsafeBufferPointer(start: output.base, count: pieceCount * 20))
    }

    private struct Job: Sendable {
        let fd: Int32
        let path: String
        let size: Int64
        let pieceLength: Int
        let pieces: Range<Int>
        let output: SharedBuffer
    }

    private static func run(_ job: Job, failure: LockedBox<MetainfoError?>) {
        do {
            try hashRange(job)
        } catch let error as MetainfoError {
            failure.withLockedValue { if $0 == nil { $0 = error } }
        } catch {
            failure.withLockedValue { if $0 == nil { $0 = .io(path: job.path, operation: "hashing", errno: EIO) } }
        }
    }

    /// Reads the job's byte range in `readSize` chunks that never cross a piece boundary,
    /// feeding each to the current piece's hasher while it is still in the CPU cache.
    private static func hashRange(_ job: Job) throws {
        let chunkSize = min(readSize, job.pieceLength)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: chunkSize, alignment: 4096)
        defer { buffer.deallocate() }
        for piece in job.pieces {
            let start = Int64(piece) * Int64(job.pieceLength)
            let end = min(start + Int64(job.pieceLength), job.size)
            var hasher = Hasher(.sha1)
            var offset = start
            while offset < end {
                let length = Int(min(Int64(chunkSize), end - offset))
                let chunk = UnsafeMutableRawBufferPointer(rebasing: buffer[0..<length])
                try readFully(job, into: chunk, at: offset)
                hasher.update(UnsafeRawBufferPointer(chunk))
                offset += Int64(length)
            }
            let digest = hasher.finalize()
            (job.output.base + piece * 20).update(from: digest, count: 20)
        }
    }

    private static func readFully(_ job: Job, into buffer: UnsafeMutableRawBufferPointer, at offset: Int64) throws {
        var done = 0
        while done < buffer.count {
            let got = pread(job.fd, buffer.baseAddress! + done, buffer.count - done, off_t(offset) + off_t(done))
            if got < 0 {
                if errno == EINTR { continue }
                throw MetainfoError.io(path: job.path, operation: "pread", errno: errno)
            }
            guard got > 0 else { throw MetainfoError.io(path: job.path, operation: "pread (file shrank while hashing)", errno: EIO) }
            done += got
        }
    }
}

/// Piece-hash output shared by the worker threads; each writes only its own pieces' slots.
private final class SharedBuffer: @unchecked Sendable {
    let base: UnsafeMutablePointer<UInt8>

    init(count: Int) { base = .allocate(capacity: count) }

    func deallocate() { base.deallocate() }
}
