import Foundation
#if canImport(Glibc)
import Glibc
#endif

// Glibc's Swift module map leaves out <sys/epoll.h> and <sys/eventfd.h>, and the C shim target is
// not ours to change, so the three epoll calls and eventfd are bound by symbol name. Their
// arguments are plain integers and pointers, which Swift passes exactly as C does.
@_silgen_name("epoll_create1") private func sys_epoll_create1(_ flags: Int32) -> Int32
@_silgen_name("epoll_ctl") private func sys_epoll_ctl(_ epfd: Int32, _ op: Int32, _ fd: Int32, _ event: UnsafeMutableRawPointer?) -> Int32
@_silgen_name("epoll_wait") private func sys_epoll_wait(_ epfd: Int32, _ events: UnsafeMutableRawPointer?, _ maxEvents: Int32, _ timeout: Int32) -> Int32
@_silgen_name("eventfd") private func sys_eventfd(_ initval: UInt32, _ flags: Int32) -> Int32

/// epoll flag values from <sys/epoll.h> (identical on every Linux architecture Swift supports).
enum EpollEvents {
    static let readable: UInt32 = 0x001      // EPOLLIN
    static let writable: UInt32 = 0x004      // EPOLLOUT
    static let error: UInt32 = 0x008         // EPOLLERR
    static let hangUp: UInt32 = 0x010        // EPOLLHUP
    static let readHangUp: UInt32 = 0x2000   // EPOLLRDHUP
}

/// A thin epoll wrapper plus an eventfd that other threads write to wake the loop.
/// Level-triggered; the token of each registration is its file descriptor.
final class Epoll {
    private static let ctlAdd: Int32 = 1, ctlDelete: Int32 = 2, ctlModify: Int32 = 3
    private static let closeOnExec: Int32 = 0o2000000        // EPOLL_CLOEXEC == EFD_CLOEXEC == O_CLOEXEC
    private static let eventNonBlocking: Int32 = 0o4000      // EFD_NONBLOCK == O_NONBLOCK
    /// `struct epoll_event` is packed on x86-64 (12 bytes) and padded to 16 elsewhere.
    #if arch(x86_64)
    private static let eventSize = 12
    private static let dataOffset = 4
    #else
    private static let eventSize = 16
    private static let dataOffset = 8
    #endif

    let fd: Int32
    let wakeFD: Int32
    private let maxEvents: Int
    private let events: UnsafeMutableRawPointer

    init(maxEvents: Int = 256) throws {
        fd = sys_epoll_create1(Self.closeOnExec)
        guard fd >= 0 else { throw SocketError(call: "epoll_create1", address: "-", code: errno) }
        wakeFD = sys_eventfd(0, Self.eventNonBlocking | Self.closeOnExec)
        guard wakeFD >= 0 else {
            close(fd)
            throw SocketError(call: "eventfd", address: "-", code: errno)
        }
        self.maxEvents = maxEvents
        events = UnsafeMutableRawPointer.allocate(byteCount: maxEvents * Self.eventSize, alignment: 8)
        add(wakeFD, readable: true, writable: false)
    }

    deinit {
        close(fd)
        close(wakeFD)
        events.deallocate()
    }

    private func control(_ op: Int32, _ target: Int32, readable: Bool, writable: Bool) {
        var event = [UInt8](repeating: 0, count: 16)
        let mask = (readable ? EpollEvents.readable : 0) | (writable ? EpollEvents.writable : 0) | EpollEvents.readHangUp
        event.withUnsafeMutableBytes { raw in
            raw.storeBytes(of: mask, toByteOffset: 0, as: UInt32.self)
            raw.storeBytes(of: UInt64(UInt32(bitPattern: target)), toByteOffset: Self.dataOffset, as: UInt64.self)
            _ = sys_epoll_ctl(fd, op, target, raw.baseAddress)
        }
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
        let count = sys_epoll_wait(fd, events, Int32(maxEvents), timeoutMilliseconds)
        guard count > 0 else { return }
        for index in 0..<Int(count) {
            let base = events + index * Self.eventSize
            let mask = base.loadUnaligned(as: UInt32.self)
            let target = Int32(bitPattern: UInt32(truncatingIfNeeded: (base + Self.dataOffset).loadUnaligned(as: UInt64.self)))
            if target == wakeFD {
                var value: UInt64 = 0
                _ = read(wakeFD, &value, 8)
                continue
            }
            body(target, mask)
        }
    }

    /// Wakes a `wait` in progress; safe from any thread.
    static func wake(_ wakeFD: Int32) {
        var one: UInt64 = 1
        _ = write(wakeFD, &one, 8)
    }
}
