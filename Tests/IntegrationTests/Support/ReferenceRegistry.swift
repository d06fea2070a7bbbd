import DocketCore
import Foundation

/// The reference registry (`/usr/bin/docker-registry`, Distribution 2.8) as a child process with a
/// temporary config: filesystem storage, loopback, deletes enabled. Stopped by `stop()`.
final class ReferenceRegistry {
    let process = Process()
    let directory: TemporaryDirectory
    let base: String

    private init() throws {
        directory = try TemporaryDirectory("reference-registry")
        let port = CLIBinary.freePort()
        base = "http://127.0.0.1:\(port)"
        let config = """
            version: 0.1
            log:
              level: error
            storage:
              filesystem:
                rootdirectory: \(directory.path)/data
              delete:
                enabled: true
            http:
              addr: 127.0.0.1:\(port)
            """
        try config.write(toFile: directory.path + "/config.yml", atomically: true, encoding: .utf8)
        process.executableURL = URL(fileURLWithPath: "/usr/bin/docker-registry")
        process.arguments = ["serve", directory.path + "/config.yml"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
    }

    /// Starts the registry and waits until `/v2/` answers.
    static func start() async throws -> ReferenceRegistry {
        let registry = try ReferenceRegistry()
        let client = HTTPClient()
        for _ in 0..<100 {
            if let response = try? await client.send(HTTPRequest(url: registry.base + "/v2/", timeout: 2)), response.status == 200 {
                return registry
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        registry.stop()
        throw CommandError(command: "docker-registry serve", result: CommandResult(status: -1, output: "did not answer on \(registry.base)"))
    }

    /// The process's peak resident set size in KiB (`VmHWM`), while it runs.
    var peakRSSKiB: Int? {
        let status = (try? String(contentsOfFile: "/proc/\(process.processIdentifier)/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix("VmHWM:") }
        return line.flatMap { Int($0.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") }
    }

    func stop() {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
        directory.remove()
    }
}
