import DocketKit
import Foundation
import Testing
@testable import DocketRegistryServer

/// Storage safety of the upload path under concurrency and dropped clients.
@Suite struct ConcurrentUploadTests {
    @Test func twoClientsPushingTheSameBlobAtOnceStoreItOnce() async throws {
        try await LiveRegistry.with { registry, _ in
            let bytes = Data((0..<(2 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 5) })
            let digest = Digest.sha256(of: bytes)
            let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                for name in ["a/app", "b/app", "a/app", "b/app"] {
                    group.addTask {
                        let client = HTTPClient()
                        let started = try await client.send(HTTPRequest(method: "POST", url: registry.base + "/v2/\(name)/blobs/uploads/"))
                        let location = started.header("Location") ?? ""
                        let patched = try await client.send(HTTPRequest(method: "PATCH", url: registry.base + location, body: .data(bytes)))
                        return try await client.send(HTTPRequest(method: "PUT", url: registry.base + (patched.header("Location") ?? "") + "?digest=\(digest)")).status
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(statuses == [201, 201, 201, 201])
            #expect(registry.blobFiles() == ["sha256/\(digest.hex.prefix(2))/\(digest.hex)"])
            for name in ["a/app", "b/app"] {
                #expect(try await registry.get("/v2/\(name)/blobs/\(digest)").body == bytes)
            }
            #expect(try FileManager.default.contentsOfDirectory(atPath: registry.directory + "/tmp").isEmpty)
            #expect(try FileManager.default.contentsOfDirectory(atPath: registry.directory + "/uploads").isEmpty)
        }
    }

    @Test func aClientDroppingMidChunkLeavesTheUploadUnchangedAndNoTemporaryFiles() async throws {
        try await LiveRegistry.with { registry, _ in
            let started = try await registry.client.send(HTTPRequest(method: "POST", url: registry.base + "/v2/team/app/blobs/uploads/"))
            let location = try #require(started.header("Location"))
            let port = registry.server.port
            // Announce 100000 bytes, send 1000, hang up.
            try await Blocking.run {
                let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
                defer { close(fd) }
                var address = sockaddr_in()
                address.sin_family = sa_family_t(AF_INET)
                address.sin_port = port.bigEndian
                address.sin_addr.s_addr = inet_addr("127.0.0.1")
                let connected = withUnsafePointer(to: &address) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
                }
                guard connected == 0 else { return }
                let request = "PATCH \(location) HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100000\r\nContent-Range: 0-99999\r\n\r\n"
                let bytes = Array(request.utf8) + [UInt8](repeating: 7, count: 1000)
                _ = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
                usleep(200_000)
            }
            var status = try await registry.client.send(HTTPRequest(url: registry.base + location))
            for _ in 0..<50 where !(try FileManager.default.contentsOfDirectory(atPath: registry.directory + "/tmp").isEmpty) {
                try await Task.sleep(for: .milliseconds(100))
                status = try await registry.client.send(HTTPRequest(url: registry.base + location))
            }
            #expect(status.status == 204)
            #expect(status.header("Range") == "0-0")
            #expect(try FileManager.default.contentsOfDirectory(atPath: registry.directory + "/tmp").isEmpty)
            // The session goes on normally afterwards.
            let chunk = Data(repeating: 9, count: 10)
            let patched = try await registry.client.send(HTTPRequest(method: "PATCH", url: registry.base + location, headers: [("Content-Range", "0-9")], body: .data(chunk)))
            #expect(patched.status == 202 && patched.header("Range") == "0-9")
        }
    }

    @Test func abandonedSessionsExpireOnTheTimer() async throws {
        // The rule itself (idle longer than the timeout -> removed) is checked against an injected
        // clock in UploadSessionsTests; here only that the server's timer really sweeps, without
        // depending on how fast this test gets scheduled.
        let registry = try await LiveRegistry.start { $0.uploadSessionTimeout = 2 }
        defer { try? FileManager.default.removeItem(atPath: registry.directory) }
        let started = try await registry.client.send(HTTPRequest(method: "POST", url: registry.base + "/v2/team/app/blobs/uploads/"))
        #expect(started.status == 202)
        let location = try #require(started.header("Location"))
        var status = 0
        for _ in 0..<1200 {
            status = try await registry.client.send(HTTPRequest(url: registry.base + location)).status
            if status == 404 { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(status == 404)
        #expect(try FileManager.default.contentsOfDirectory(atPath: registry.directory + "/uploads").isEmpty)
        await registry.stop()
    }
}
