import DocketKit
import Foundation
import Testing
@testable import DocketRegistryServer

/// The limits that protect the server: silent clients dropped, oversized request heads refused.
@Suite struct ServerLimitsTests {
    /// Connects to the registry, sends `bytes`, and returns what the server answers until it
    /// closes the connection (nil if it kept the connection open for 10 s).
    private static func exchange(port: UInt16, _ bytes: [UInt8]) -> [UInt8]? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { return nil }
        _ = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count == 0 { return received }   // closed by the server
            if count < 0 { return errno == ECONNRESET ? received : nil }
            received += buffer[..<count]
        }
    }

    @Test func aSilentClientIsDroppedAfterTheIdleTimeout() async throws {
        let registry = try await LiveRegistry.start { $0.connectionIdleTimeout = 1 }
        defer { try? FileManager.default.removeItem(atPath: registry.directory) }
        let port = registry.server.port
        let answer = try await Blocking.run { Self.exchange(port: port, Array("GET /v2/ HTTP/1.1\r\nHo".utf8)) }
        #expect(answer != nil)   // closed by the server, not still waiting
        #expect(answer?.isEmpty == true)
        await registry.stop()
    }

    @Test func oversizedRequestHeadsAreRefused() async throws {
        try await LiveRegistry.with { registry, _ in
            let port = registry.server.port
            let longURL = "GET /v2/" + String(repeating: "a", count: 100_000) + "/tags/list HTTP/1.1\r\nHost: x\r\n\r\n"
            let answer = try await Blocking.run { Self.exchange(port: port, Array(longURL.utf8)) }
            let text = String(decoding: answer ?? [], as: UTF8.self)
            #expect(text.hasPrefix("HTTP/1.1 414") || text.hasPrefix("HTTP/1.1 431"), "\(text.prefix(80))")
            let bigHeader = "GET /v2/ HTTP/1.1\r\nHost: x\r\nX-Big: " + String(repeating: "b", count: 100_000) + "\r\n\r\n"
            let headerAnswer = try await Blocking.run { Self.exchange(port: port, Array(bigHeader.utf8)) }
            #expect(String(decoding: headerAnswer ?? [], as: UTF8.self).hasPrefix("HTTP/1.1 431"))
        }
    }
}
