import DocketCore
import Foundation
import Testing

/// Cancelling the task that waits for a request ends the transfer, also while the server sends
/// nothing (libcurl's own stall limit would take 60 s).
@Suite struct HTTPClientCancellationTests {
    /// A loopback listener that takes connections (the kernel completes them) and never answers.
    private final class SilentServer {
        let fd: Int32
        let port: UInt16

        init() throws {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            let bound = withUnsafeMutablePointer(to: &address) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { raw -> Bool in
                    bind(fd, raw, length) == 0 && listen(fd, 8) == 0 && getsockname(fd, raw, &length) == 0
                }
            }
            guard bound else {
                close(fd)
                throw POSIXError(.EADDRNOTAVAIL)
            }
            self.fd = fd
            port = UInt16(bigEndian: address.sin_port)
        }

        deinit { close(fd) }
    }

    @Test(arguments: ["send", "download"])
    func cancellingAWaitingRequestEndsIt(_ call: String) async throws {
        let server = try SilentServer()
        let request = HTTPRequest(url: "http://127.0.0.1:\(server.port)/blob", timeout: nil)
        let target = NSTemporaryDirectory() + "docket-cancel-\(UUID().uuidString)"
        defer { unlink(target) }
        let client = HTTPClient()
        let task = Task {
            _ = call == "send" ? try await client.send(request) : try await client.download(request, to: target)
        }
        try await Task.sleep(for: .milliseconds(300))
        let cancelled = ContinuousClock.now
        task.cancel()
        let outcome = await task.result
        #expect(throws: CancellationError.self) { try outcome.get() }
        // Without cancellation the request would wait for libcurl's 60 s stall limit; with it, about a
        // second (more when the whole suite keeps both cores busy).
        #expect(cancelled.duration(to: .now) < .seconds(30))
    }
}
