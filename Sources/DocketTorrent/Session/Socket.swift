import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A failed socket call: which call, on which address, and errno's text.
struct SocketError: Error, CustomStringConvertible {
    var call: String
    var address: String
    var code: Int32

    var description: String { "\(call) on \(address) failed: \(String(cString: strerror(code)))" }
}

/// Non-blocking TCP socket calls for the event loop (IPv4 and IPv6 literals).
enum Sockets {
    /// Opens a non-blocking listening socket; returns it and the port the kernel chose.
    static func listen(host: String, port: UInt16) throws -> (fd: Int32, port: UInt16) {
        var storage = try sockaddrStorage(host: host, port: port)
        let fd = socket(Int32(storage.ss_family), Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw SocketError(call: "socket", address: "\(host):\(port)", code: errno) }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        let length = socklen_t(storage.ss_family == sa_family_t(AF_INET6) ? MemoryLayout<sockaddr_in6>.size : MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        guard bound == 0, Glibc.listen(fd, 128) == 0 else {
            let code = errno
            close(fd)
            throw SocketError(call: "bind/listen", address: "\(host):\(port)", code: code)
        }
        return (fd, localAddress(fd)?.port ?? port)
    }

    /// Starts a non-blocking connect; completion shows up as writability.
    static func connect(to address: PeerAddress) throws -> Int32 {
        var storage = try sockaddrStorage(for: address)
        let fd = socket(Int32(storage.ss_family), Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw SocketError(call: "socket", address: "\(address)", code: errno) }
        tune(fd)
        let length = socklen_t(storage.ss_family == sa_family_t(AF_INET6) ? MemoryLayout<sockaddr_in6>.size : MemoryLayout<sockaddr_in>.size)
        let result = withUnsafePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, length) }
        }
        if result != 0 && errno != EINPROGRESS {
            let code = errno
            close(fd)
            throw SocketError(call: "connect", address: "\(address)", code: code)
        }
        return fd
    }

    /// Accepts one pending connection, or nil when none is waiting.
    static func accept(_ listener: Int32) -> (fd: Int32, address: PeerAddress)? {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let fd = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.accept(listener, $0, &length)
            }
        }
        guard fd >= 0 else { return nil }
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        tune(fd)
        return (fd, peerAddress(from: storage) ?? PeerAddress(addressBytes: [0, 0, 0, 0], port: 0)!)
    }

    /// The pending error of a connecting socket (0 when connected).
    static func pendingError(_ fd: Int32) -> Int32 {
        var value: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &value, &length)
        return value
    }

    static func localAddress(_ fd: Int32) -> PeerAddress? {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let result = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return result == 0 ? peerAddress(from: storage) : nil
    }

    private static func tune(_ fd: Int32) {
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        var size: Int32 = 4 << 20
        setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
    }

    static func sockaddrStorage(for address: PeerAddress) throws -> sockaddr_storage {
        try sockaddrStorage(host: address.host, port: address.port)
    }

    static func sockaddrStorage(host: String, port: UInt16) throws -> sockaddr_storage {
        var storage = sockaddr_storage()
        let parsed: Bool
        if host.contains(":") {
            var sin6 = sockaddr_in6()
            sin6.sin6_family = sa_family_t(AF_INET6)
            sin6.sin6_port = port.bigEndian
            parsed = inet_pton(AF_INET6, host, &sin6.sin6_addr) == 1
            withUnsafeMutableBytes(of: &storage) { raw in withUnsafeBytes(of: sin6) { raw.copyMemory(from: $0) } }
        } else {
            var sin = sockaddr_in()
            sin.sin_family = sa_family_t(AF_INET)
            sin.sin_port = port.bigEndian
            parsed = inet_pton(AF_INET, host, &sin.sin_addr) == 1
            withUnsafeMutableBytes(of: &storage) { raw in withUnsafeBytes(of: sin) { raw.copyMemory(from: $0) } }
        }
        guard parsed else { throw SocketError(call: "inet_pton", address: "'\(host)' (not an IP literal)", code: EINVAL) }
        return storage
    }

    static func peerAddress(from storage: sockaddr_storage) -> PeerAddress? {
        switch Int32(storage.ss_family) {
        case AF_INET:
            let sin = withUnsafeBytes(of: storage) { $0.load(as: sockaddr_in.self) }
            let bytes = withUnsafeBytes(of: sin.sin_addr) { Array($0) }
            return PeerAddress(addressBytes: bytes, port: UInt16(bigEndian: sin.sin_port))
        case AF_INET6:
            let sin6 = withUnsafeBytes(of: storage) { $0.load(as: sockaddr_in6.self) }
            let bytes = withUnsafeBytes(of: sin6.sin6_addr) { Array($0) }
            return PeerAddress(addressBytes: bytes, port: UInt16(bigEndian: sin6.sin6_port))
        default:
            return nil
        }
    }
}
