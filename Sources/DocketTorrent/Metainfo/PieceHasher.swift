import DocketCore
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Hashes a file's pieces with SHA-1 on dedicated threads, never on the cooperative pool.
///
/// The pieces are split into one contiguous range per thread; each thread reads its range
/// with `pread` in large chunks into a buffer of its own and hashes the pieces in place.
enum PieceHasher {
    /// Bytes read per `pread` (rounded to whole pieces, at least one piece).
    static let readSize = 16 << 20

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

    private static func hashRange(_ job: Job) throws {
        let piecesPerRead = max(1, readSize / job.pieceLength)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: piecesPerRead * job.pieceLength, alignment: 4096)
        defer { buffer.deallocate() }
        var piece = job.pieces.lowerBound
        while piece < job.pieces.upperBound {
            let batch = min(piecesPerRead, job.pieces.upperBound - piece)
            let start = Int64(piece) * Int64(job.pieceLength)
            let length = Int(min(Int64(batch * job.pieceLength), job.size - start))
            try readFully(job, into: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<length]), at: start)
            for index in 0..<batch {
                let lower = index * job.pieceLength
                let upper = min(lower + job.pieceLength, length)
                var hasher = Hasher(.sha1)
                hasher.update(UnsafeRawBufferPointer(rebasing: buffer[lower..<upper]))
                let digest = hasher.finalize()
                (job.output.base + (piece + index) * 20).update(from: digest, count: 20)
            }
            piece += batch
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
