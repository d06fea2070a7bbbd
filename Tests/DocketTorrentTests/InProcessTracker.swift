@testable import DocketTorrent
import DocketCore
import Foundation

/// A small HTTP tracker inside the test process, on loopback, serving `GET /announce` from a
/// thread of its own (blocking sockets, never the cooperative pool). It answers with
/// `TrackerSwarms` (the built-in tracker's logic), or refuses every announce with a
/// `failure reason`. Every announce is recorded with a sequence number shared by all trackers of
/// the process, so a test can tell which tracker a client asked first. `stop()` closes the
/// listening socket: later announces find the port refusing connections.
final class InProcessTracker: Sendable {
    /// One announce the tracker received.
    struct Announce: Sendable {
        /// Order across every `InProcessTracker` of the process.
        var sequence: Int
        var query: TrackerQuery
    }

    enum Behaviour: Sendable {
        case answer
        case refuse(String)
    }

    private static let sequence = LockedBox(0)

    let port: UInt16
    private let listener: Int32
    private let behaviour: Behaviour
    private let swarms = TrackerSwarms(interval: 30)
    private let received = LockedBox<[Announce]>([])
    private let stopped = LockedBox(false)
    private let done = DispatchSemaphore(value: 0)

    var announceURL: String { "http://127.0.0.1:\(port)/announce" }

    /// Every announce so far, in arrival order.
    var announces: [Announce] { received.withLockedValue { $0 } }

    init(_ behaviour: Behaviour) throws {
        self.behaviour = behaviour
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard fd >= 0, bound == 0, listen(fd, 16) == 0 else {
            close(fd)
            throw SessionTestSupport.TimedOut(what: "in-process tracker could not listen on loopback")
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        listener = fd
        port = UInt16(bigEndian: address.sin_port)
        let thread = Thread { [self] in serve() }
        thread.name = "test.tracker"
        thread.start()
    }

    /// Stops answering and closes the port; waits for the serving thread to end. Idempotent.
    func stop() {
        guard stopped.withLockedValue({ state in
            defer { state = true }
            return !state
        }) else { return }
        done.wait()
    }

    deinit { stop() }

    private func serve() {
        defer {
            close(listener)
            done.signal()
        }
        while !stopped.withLockedValue({ $0 }) {
            var poller = pollfd(fd: listener, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, 50) > 0 else { continue }
            let connection = accept(listener, nil, nil)
            guard connection >= 0 else { continue }
            handle(connection)
            close(connection)
        }
    }

    private func handle(_ connection: Int32) {
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(connection, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var request: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while !request.ends(with: Array("\r\n\r\n".utf8)) && request.count < 65536 {
            let count = read(connection, &buffer, buffer.count)
            guard count > 0 else { return }
            request += buffer[0..<count]
        }
        let line = String(decoding: request.prefix { $0 != 0x0d }, as: UTF8.self).split(separator: " ")
        guard line.count >= 2, line[1].hasPrefix("/announce?") else {
            respond(connection, status: "404 Not Found", body: [])
            return
        }
        let rawQuery = String(line[1].dropFirst("/announce?".count))
        if let query = try? TrackerQuery(rawQuery: rawQuery) {
            let number = Self.sequence.withLockedValue { value in
                value += 1
                return value
            }
            received.withLockedValue { $0.append(Announce(sequence: number, query: query)) }
        }
        switch behaviour {
        case .answer:
            respond(connection, status: "200 OK", body: swarms.announce(rawQuery: rawQuery, clientIP: "127.0.0.1") { _ in [] })
        case .refuse(let reason):
            respond(connection, status: "200 OK", body: TrackerSwarms.failureResponse(reason))
        }
    }

    private func respond(_ connection: Int32, status: String, body: [UInt8]) {
        let head = "HTTP/1.1 \(status)\r\nContent-Type: text/plain\r\nContent-Length: \(body.count)\r\nConnection: close\r\n\r\n"
        let bytes = Array(head.utf8) + body
        var sent = 0
        while sent < bytes.count {
            let count = bytes[sent...].withUnsafeBytes { send(connection, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard count > 0 else { return }
            sent += count
        }
    }
}

private extension Array where Element == UInt8 {
    func ends(with suffix: [UInt8]) -> Bool { count >= suffix.count && Array(self[(count - suffix.count)...]) == suffix }
}
