import DocketCore
import Foundation

/// The thread that checks, writes and read-back-hashes finished pieces, one engine's worth, so the
/// event loop never waits for the disk. A busy disk (eight pulls writing into one file system, a
/// journal commit) used to stop every socket of the loop at once; now it only delays `have`s.
///
/// Jobs run in submission order; each result goes back to the loop as an `EngineCommand`.
final class DiskWriter: @unchecked Sendable {
    private struct Job {
        var content: WrittenContent
        var work: Work
    }

    private enum Work {
        case piece(index: Int, data: [UInt8], verified: Bool)
        case adopt(Bitfield)
        case saveResume(ResumeFile)
        case release
        /// More of the on-disk prefix to read back (`hashBudget` per job).
        case hash
    }

    /// Bytes read back per job: a resumed layer of gigabytes whose first piece lands last is hashed
    /// in slices, so writes queued behind it, and a stop (`drop` waits for the running job), wait for
    /// one slice at most.
    static let hashBudget = 16 << 20

    private let condition = NSCondition()
    private var queue: [Job] = []
    private var head = 0
    private var current: WrittenContent?
    private var running = true
    private let channel: CommandChannel
    private let logger: Logger
    private let done = DispatchSemaphore(value: 0)

    init(channel: CommandChannel, logger: Logger) {
        self.channel = channel
        self.logger = logger
        let thread = Thread { [unowned self] in
            self.run()
            self.done.signal()
        }
        thread.name = "docket.torrent-disk"
        thread.start()
    }

    /// Queues a finished piece; `verified` skips the SHA-1 (the caller checked it).
    func write(_ content: WrittenContent, piece index: Int, data: [UInt8], verified: Bool) {
        enqueue(Job(content: content, work: .piece(index: index, data: data, verified: verified)))
    }

    /// Queues pieces confirmed on disk by `ResumeCheck`, so the content hash can read them back.
    func adopt(_ content: WrittenContent, pieces: Bitfield) {
        enqueue(Job(content: content, work: .adopt(pieces)))
    }

    /// Queues a write of the download's resume file (`ResumeFile`): creating and renaming files can
    /// wait for the file system's journal, which must not hold up the sockets. Once every piece is
    /// on disk the writer removes the file instead, before it reports the last piece.
    func saveResume(_ content: WrittenContent, _ file: ResumeFile) {
        enqueue(Job(content: content, work: .saveResume(file)))
    }

    /// Forgets the queued jobs of `content` and waits for the one running, if it is theirs: after
    /// this, nothing writes to its storage (which the caller then closes). The writer then lets go
    /// of its resume file.
    func drop(_ content: WrittenContent) {
        condition.lock()
        queue = queue[head...].filter { $0.content !== content }
        head = 0
        while current === content { condition.wait() }
        queue.append(Job(content: content, work: .release))
        condition.signal()
        condition.unlock()
    }

    /// Ends the thread once the queue is empty; blocks until it has.
    func shutdown() {
        condition.lock()
        running = false
        condition.broadcast()
        condition.unlock()
        done.wait()
    }

    private func enqueue(_ job: Job) {
        condition.lock()
        queue.append(job)
        condition.signal()
        condition.unlock()
    }

    private func run() {
        while let job = next() {
            perform(job)
            condition.lock()
            current = nil
            condition.broadcast()
            condition.unlock()
        }
    }

    private func next() -> Job? {
        condition.lock()
        defer { condition.unlock() }
        while head == queue.count {
            guard running else { return nil }
            condition.wait()
        }
        let job = queue[head]
        head += 1
        if head == queue.count {
            queue.removeAll(keepingCapacity: true)
            head = 0
        }
        current = job.content
        return job
    }

    private func perform(_ job: Job) {
        let content = job.content
        switch job.work {
        case .piece(let index, let data, let verified):
            let outcome = content.write(piece: index, data: data, verified: verified)
            channel.send(.pieceWritten(content.infoHash, content.shared, piece: index, outcome))
        case .adopt(let pieces):
            content.adopt(pieces)
        case .saveResume(let file):
            if !content.saveResume(file) {
                logger.warning("cannot write the resume file: \(String(cString: strerror(errno)))",
                               ["torrent.infohash": content.infoHash.hex, "path": ResumeFile.path(for: content.storage.path)])
            }
            return
        case .release:
            content.close()
            return
        case .hash:
            break
        }
        switch content.advanceHash(budget: Self.hashBudget) {
        case .finished(let digest):
            channel.send(.contentHashed(content.infoHash, content.shared, digest))
        case .more:
            enqueue(Job(content: content, work: .hash))
        case .pending:
            break
        }
    }
}
