import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A growable FIFO of bytes on malloc'd memory: the send buffer of one connection.
/// Writers append (or fill reserved space in place, e.g. with `pread`), the socket drains the front.
final class ByteQueue {
    private var storage: UnsafeMutableRawPointer
    private var capacity: Int
    private var head = 0
    private var tail = 0

    init(capacity: Int = 64 * 1024) {
        self.capacity = capacity
        storage = malloc(capacity)!
    }

    deinit { free(storage) }

    var count: Int { tail - head }
    var isEmpty: Bool { head == tail }

    /// Makes room for `n` more bytes at the end.
    private func reserve(_ n: Int) {
        if tail + n <= capacity { return }
        if head > 0 {
            memmove(storage, storage + head, tail - head)
            tail -= head
            head = 0
        }
        if tail + n > capacity {
            var newCapacity = capacity * 2
            while newCapacity < tail + n { newCapacity *= 2 }
            storage = realloc(storage, newCapacity)!
            capacity = newCapacity
        }
    }

    func append(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { append($0) }
    }

    func append(_ bytes: UnsafeRawBufferPointer) {
        guard bytes.count > 0 else { return }
        reserve(bytes.count)
        (storage + tail).copyMemory(from: bytes.baseAddress!, byteCount: bytes.count)
        tail += bytes.count
    }

    /// Lets `fill` write up to `n` bytes in place; it returns how many it wrote (negative: none).
    func appendInPlace(upTo n: Int, _ fill: (UnsafeMutableRawPointer) -> Int) -> Int {
        reserve(n)
        let written = fill(storage + tail)
        if written > 0 { tail += min(written, n) }
        return written
    }

    /// Writes as much as the socket takes. Returns false on a fatal socket error.
    func drain(to fd: Int32) -> Bool {
        while head < tail {
            let n = send(fd, storage + head, tail - head, Int32(MSG_NOSIGNAL))
            if n > 0 {
                head += n
            } else if n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) {
                break
            } else if n < 0 && errno == EINTR {
                continue
            } else {
                return false
            }
        }
        if head == tail { head = 0; tail = 0 }
        return true
    }
}
