import Foundation
import Testing
@testable import DocketKit

@Suite struct DockerEngineTests {
    @Test func socketFromDockerHost() throws {
        #expect(try DockerEngine.socketPath(environment: [:]) == "/var/run/docker.sock")
        #expect(try DockerEngine.socketPath(environment: ["DOCKER_HOST": "unix:///tmp/d/docker.sock"]) == "/tmp/d/docker.sock")
        #expect(throws: DocketError.self) { try DockerEngine.socketPath(environment: ["DOCKER_HOST": "tcp://1.2.3.4:2375"]) }
    }

    @Test func loadStreamMessagesAndErrors() throws {
        let ok = Data("{\"stream\":\"Loaded image: team/app:1.0\\n\"}\n".utf8)
        #expect(try DockerEngine.loadMessages(ok) == ["Loaded image: team/app:1.0"])
        let failed = Data(#"{"errorDetail":{"message":"invalid tar header"},"error":"invalid tar header"}"#.utf8)
        #expect(throws: DocketError.self) { try DockerEngine.loadMessages(failed) }
    }

    @Test func missingSocketSuggestsOutput() async throws {
        let engine = try DockerEngine(socketPath: "/nonexistent/docket-test.sock")
        let error = await #expect(throws: DocketError.self) { try await engine.ping() }
        guard case .dockerSocketMissing(let path)? = error else {
            Issue.record("expected dockerSocketMissing, got \(String(describing: error))")
            return
        }
        #expect(path == "/nonexistent/docket-test.sock")
        #expect(error?.description.contains("--output FILE") == true)
    }
}
