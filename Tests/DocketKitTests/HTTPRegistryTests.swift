import Foundation
import Testing
@testable import DocketKit

@Suite struct HTTPRegistryTests {
    @Test func baseURLIsNormalised() {
        #expect(HTTPRegistry(url: "127.0.0.1:5000/").baseURL == "http://127.0.0.1:5000")
        #expect(HTTPRegistry(url: "https://r.example//").baseURL == "https://r.example")
    }

    @Test func acceptHeaderListsOCIAndDockerManifests() {
        #expect(HTTPRegistry.acceptedManifestTypes.contains(MediaType.ociManifest))
        #expect(HTTPRegistry.acceptedManifestTypes.contains(MediaType.dockerManifest))
    }

    @Test func closedPortIsRegistryUnreachable() async throws {
        // Port 1 on loopback: nothing listens there, the connection is refused at once.
        let registry = HTTPRegistry(url: "http://127.0.0.1:1")
        let error = await #expect(throws: DocketError.self) { _ = try await registry.listImages() }
        guard case .registryUnreachable(let url, _)? = error else {
            Issue.record("expected registryUnreachable, got \(String(describing: error))")
            return
        }
        #expect(url == "http://127.0.0.1:1")
        #expect(error?.description.contains("docket-cli serve") == true)
    }

    /// A web server that is not a Docket registry (here one answering every request with an HTML
    /// 404 page): the error asks whether the URL is a Docket registry instead of quoting the page.
    @Test func aServerWithoutTheImageListIsNotTakenForARegistry() async throws {
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(listener) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, length) == 0 && listen(listener, 4) == 0 && getsockname(listener, $0, &length) == 0 }
        }
        try #require(bound)
        let port = UInt16(bigEndian: address.sin_port)
        let answered = Thread {
            for _ in 0..<3 {
                let client = accept(listener, nil, nil)
                guard client >= 0 else { return }
                var request = [UInt8](repeating: 0, count: 65536)
                _ = read(client, &request, request.count)
                let page = "<!DOCTYPE HTML><html><body><h1>Error response</h1><p>Error code: 404</p></body></html>"
                let response = "HTTP/1.1 404 Not Found\r\nContent-Type: text/html\r\nContent-Length: \(page.utf8.count)\r\nConnection: close\r\n\r\n" + page
                _ = response.withCString { write(client, $0, strlen($0)) }
                close(client)
            }
        }
        answered.start()
        let url = "http://127.0.0.1:\(port)"
        let registry = HTTPRegistry(url: url)
        let archive = NSTemporaryDirectory() + "docket-not-a-registry-\(UUID().uuidString).tar"
        try Data("a small body".utf8).write(to: URL(fileURLWithPath: archive))
        defer { unlink(archive) }
        let reference = try ImageReference(parsing: "team/app:1.0")
        // Listing, resolving (the first step of a pull) and pushing all say the same.
        let calls: [@Sendable () async throws -> Void] = [
            { _ = try await registry.listImages() },
            { _ = try await registry.resolve(reference) },
            { _ = try await registry.push(archiveAt: archive, as: reference) },
        ]
        for call in calls {
            let error = await #expect(throws: DocketError.self) { try await call() }
            #expect("\(error.map { "\($0)" } ?? "")" == "\(url) answered HTTP 404 without a registry's error: is it a Docket registry? "
                + "Check the URL and port of `docket-cli serve`")
        }
    }

    @Test func pushOfAMissingFileIsInvalidArchive() async throws {
        let registry = HTTPRegistry(url: "http://127.0.0.1:1")
        await #expect(throws: DocketError.self) {
            _ = try await registry.push(archiveAt: "/nonexistent/app.tar", as: ImageReference(parsing: "team/app:1.0"))
        }
    }

    @Test func queryValuesAreEscaped() {
        #expect(HTTPRegistry.queryEscape("team/app") == "team%2Fapp")
        #expect(HTTPRegistry.queryEscape("1.0_rc-1") == "1.0_rc-1")
    }
}
