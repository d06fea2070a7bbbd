import CDocketShims
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// epoll flag values from <sys/epoll.h> (identical on every Linux architecture Swift supports).
enum EpollEvents {
    static let readable: UInt32 = 0x001      // EPOLLIN
    static let writable: UInt32 = 0x004      // EPOLLOUT
    static let error: UInt32 = 0x008         // EPOLLERR
    static let hangUp: UInt32 = 0x010        // EPOLLHUP
    static let readHangUp: UInt32 = 0x2000   // EPOLLRDHUP
}

/// A thin epoll wrapper (through the `docket_epoll_*` shims) plus an eventfd that other threads
/// write to wake the loop. Level-triggered; the token of each registration is its file descriptor.
final class Epoll {
    private static let ctlAdd: Int32 = 1, ctlDelete: Int32 = 2, ctlModify: Int32 = 3

    let fd: Int32
    let wakeFD: Int32
    private let maxEvents: Int
    private var readyFDs: [Int32]
    private var readyEvents: [UInt32]

    init(maxEvents: Int = 256) throws {
        fd = docket_epoll_create()
        guard fd >= 0 else { throw SocketError(call: "epoll_create1", address: "-", code: errno) }
        wakeFD = docket_eventfd(0)
        guard wakeFD >= 0 else {
            close(fd)
            throw SocketError(call: "eventfd", address: "-", code: errno)
        }
        self.maxEvents = min(maxEvents, 256)
        readyFDs = [Int32](repeating: -1, count: self.maxEvents)
        readyEvents = [UInt32](repeating: 0, count: self.maxEvents)
        add(wakeFD, readable: true, writable: false)
    }

    deinit {
        close(fd)
        close(wakeFD)
    }

    private func control(_ op: Int32, _ target: Int32, readable: Bool, writable: Bool) {
        let mask = (readable ? EpollEvents.readable : 0) | (writable ? EpollEvents.writable : 0) | EpollEvents.readHangUp
        _ = docket_epoll_ctl(fd, op, target, mask)
    }

    func add(_ target: Int32, readable: Bool, writable: Bool) {
        control(Self.ctlAdd, target, readable: readable, writable: writable)
    }

    func modify(_ target: Int32, readable: Bool, writable: Bool) {
        control(Self.ctlModify, target, readable: readable, writable: writable)
    }

    func remove(_ target: Int32) {
        control(Self.ctlDelete, target, readable: false, writable: false)
    }

    /// Waits up to `timeoutMilliseconds` and calls `body(fd, events)` for each ready descriptor.
    func wait(timeoutMilliseconds: Int32, _ body: (Int32, UInt32) -> Void) {
        let count = readyFDs.withUnsafeMutableBufferPointer { fds in
            readyEvents.withUnsafeMutableBufferPointer { events in
                docket_epoll_wait(fd, fds.baseAddress, events.baseAddress, Int32(maxEvents), timeoutMilliseconds)
            }
        }
        guard count > 0 else { return }
        for index in 0..<Int(count) {
            let target = readyFDs[index]
            if target == wakeFD {
                var value: UInt64 = 0
                _ = read(wakeFD, &value, 8)
                continue
            }
            body(target, readyEvents[index])
        }
    }

    /// Wakes a `wait` in progress; safe from any thread.
    static func wake(_ wakeFD: Int32) {
        var one: UInt64 = 1
        _ = write(wakeFD, &one, 8)
    }
}
