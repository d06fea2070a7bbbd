@testable import DocketTorrent
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A scripted peer on a blocking socket, for hostile-peer tests: it dials a client, speaks as
/// much or as little of the peer wire as the test wants, and reports when the client hangs up.
final class FakePeer {
    let fd: Int32
    private var decoder = PeerWireDecoder(expectHandshake: true, maxMessageLength: 1 << 24)
    private(set) var handshake: Handshake?

    /// Connects to `127.0.0.1:port`.
    init(dialing port: UInt16) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            close(fd)
            throw SessionTestSupport.TimedOut(what: "connecting to 127.0.0.1:\(port): \(String(cString: strerror(errno)))")
        }
    }

    deinit { close(fd) }

    /// Sends bytes; false once the other side is gone (never raises SIGPIPE).
    @discardableResult
    func send(_ bytes: [UInt8]) -> Bool {
        var sent = 0
        while sent < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + sent, bytes.count - sent, Int32(MSG_NOSIGNAL)) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { return false }
            sent += n
        }
        return true
    }

    @discardableResult
    func send(_ message: PeerMessage) -> Bool {
        var bytes: [UInt8] = []
        message.encode(into: &bytes)
        return send(bytes)
    }

    /// A raw message: length prefix, id, payload, as given.
    @discardableResult
    func sendRaw(length: UInt32, id: UInt8, payload: [UInt8]) -> Bool {
        var bytes: [UInt8] = []
        PeerWire.appendUInt32(length, to: &bytes)
        return send(bytes + [id] + payload)
    }

    func sendHandshake(infoHash: InfoHash, peerID: PeerID) {
        send(Handshake(infoHash: infoHash.bytes, peerID: peerID.bytes).encoded())
    }

    /// Reads more bytes; false when the other side closed (or reset) or `timeout` passed.
    private func receive(timeout: Double) -> Bool? {
        var pollFD = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&pollFD, 1, Int32(timeout * 1000)) > 0 else { return nil }
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        guard n > 0 else { return false }
        decoder.feed(Array(buffer[..<n]))
        return true
    }

    /// The client's handshake; nil when it hung up first (or `timeout` passed).
    func readHandshake(timeout: Double = 10) -> Handshake? {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let handshake = try? decoder.nextHandshake() {
                self.handshake = handshake
                return handshake
            }
            guard receive(timeout: deadline.timeIntervalSinceNow) == true else { return nil }
        }
        return nil
    }

    /// The next message; nil when the client hung up or `timeout` passed.
    func nextMessage(timeout: Double = 10) -> PeerMessage? {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            if let message = try? decoder.next() { return message }
            guard Date() < deadline, receive(timeout: max(0.01, deadline.timeIntervalSinceNow)) == true else { return nil }
        }
    }

    /// Reads (and drops) messages until `match` returns true; nil when the client hung up first.
    func waitFor(timeout: Double = 10, _ match: (PeerMessage) -> Bool) -> PeerMessage? {
        let deadline = Date().addingTimeInterval(timeout)
        while let message = nextMessage(timeout: max(0.01, deadline.timeIntervalSinceNow)) {
            if match(message) { return message }
        }
        return nil
    }

    /// True once the client closes the connection within `timeout`, whatever it sends before.
    func waitForClose(timeout: Double = 10) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            switch receive(timeout: deadline.timeIntervalSinceNow) {
            case false?: return true
            case true?: continue
            case nil: return false
            }
        }
        return false
    }
}
