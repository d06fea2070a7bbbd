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
