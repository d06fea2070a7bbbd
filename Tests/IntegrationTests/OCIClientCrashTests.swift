import DocketCore
import DocketKit
import Foundation
import Testing

/// `docket-cli serve` killed with SIGKILL in the middle of an OCI upload.
@Suite(.serialized) struct OCIClientCrashTests {
    @Test func killedMidUploadLeavesNoPartialBlobAndRestartsClean() async throws {
        let directory = try TemporaryDirectory("crash")
        defer { directory.remove() }
        let data = directory.path + "/data"
        let client = HTTPClient()
        let bytes = Data((0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 3) })
        let digest = Digest.sha256(of: bytes)

        let first = try await ServeProcess(dataDirectory: data)
        let started = try await client.send(HTTPRequest(method: "POST", url: first.url + "/v2/team/app/blobs/uploads/"))
        let location = try #require(started.header("Location"))
        let patched = try await client.send(HTTPRequest(method: "PATCH", url: first.url + location, headers: [("Content-Range", "0-99999")],
                                                        body: .data(bytes[0..<100_000])))
        #expect(patched.status == 202)
        #expect(try FileManager.default.contentsOfDirectory(atPath: data + "/uploads").count == 1)
        kill(first.process.processIdentifier, SIGKILL)
        first.process.waitUntilExit()

        let second = try await ServeProcess(dataDirectory: data)
        defer { second.stop() }
        // The session died with the process: its data is gone and nothing partial is visible.
        #expect(try FileManager.default.contentsOfDirectory(atPath: data + "/uploads").isEmpty)
        #expect(try FileManager.default.contentsOfDirectory(atPath: data + "/tmp").isEmpty)
        let status = try await client.send(HTTPRequest(url: second.url + location))
        #expect(status.status == 404)
        #expect(try await client.send(HTTPRequest(method: "HEAD", url: second.url + "/v2/team/app/blobs/\(digest)")).status == 404)
        // A fresh upload of the same blob works.
        let again = try await client.send(HTTPRequest(method: "POST", url: second.url + "/v2/team/app/blobs/uploads/?digest=\(digest)", body: .data(bytes)))
        #expect(again.status == 201)
        #expect(try await client.send(HTTPRequest(url: second.url + "/v2/team/app/blobs/\(digest)")).body == bytes)
    }
}
