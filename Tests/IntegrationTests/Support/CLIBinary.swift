import Foundation

/// The `docket-cli` built beside the test bundle (`swift build --build-tests` builds it).
enum CLIBinary {
    static var path: String {
        var directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        // swift-testing on Linux runs from …/debug/DocketPackageTests.xctest; the CLI sits in …/debug.
        for _ in 0..<3 {
            let candidate = directory.appendingPathComponent("docket-cli").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            directory.deleteLastPathComponent()
        }
        return Repository.root + "/.build/debug/docket-cli"
    }

    /// A TCP port nobody listens on right now.
    static func freePort() -> UInt16 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        return UInt16(bigEndian: address.sin_port)
    }
}

/// `docket-cli serve` as a child process, killed by `stop()`.
final class ServeProcess {
    let process = Process()
    let url: String

    /// Starts `docket-cli serve` on a free loopback port with `arguments` added.
    init(dataDirectory: String, arguments: [String] = []) async throws {
        let port = CLIBinary.freePort()
        url = "http://127.0.0.1:\(port)"
        process.executableURL = URL(fileURLWithPath: CLIBinary.path)
        process.arguments = ["serve", "--data", dataDirectory, "--bind", "127.0.0.1", "--port", String(port)] + arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        for _ in 0..<100 {
            if (try? await Command.run("curl", ["-fsS", url + "/v2/"], check: true, timeout: 5)) != nil { return }
            usleep(100_000)
        }
        stop()
        throw CommandError(command: "docket-cli serve", result: CommandResult(status: -1, output: "did not answer on \(url)"))
    }

    func stop() {
        guard process.isRunning else { return }
        process.terminate()
        process.waitUntilExit()
    }
}
