import Foundation

/// A dockerd started for one test (vfs storage, its own socket), stopped by `stop()`.
struct PrivateDockerd {
    let directory: String
    /// `unix:///…/docker.sock`, for DOCKER_HOST.
    let host: String

    var socketPath: String { String(host.dropFirst("unix://".count)) }

    static func start() async throws -> PrivateDockerd {
        let dir = "/tmp/docket-dockerd-\(UUID().uuidString.prefix(8))"
        let result = try await Command.run(Repository.script("dockerd.sh"), ["start", dir], timeout: 60)
        let host = result.output.split(separator: "\n").last.map(String.init) ?? ""
        return PrivateDockerd(directory: dir, host: host)
    }

    func docker(_ arguments: [String]) async throws -> String {
        try await Command.run("docker", arguments, environment: ["DOCKER_HOST": host]).output
    }

    func stop() {
        _ = try? Command.runBlocking(Repository.script("dockerd.sh"), ["stop", directory], environment: [:], check: false, timeout: 60)
    }
}

/// A real image archive built by scripts/make-image.sh (busybox + payload + app layers).
enum ImageFixture {
    static func build(at path: String, reference: String, payloadMB: Int) async throws {
        try await Command.run(Repository.script("make-image.sh"), [path, reference, String(payloadMB)], timeout: 120)
    }
}
