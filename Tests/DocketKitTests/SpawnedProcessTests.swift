import Foundation
import Testing
@testable import DocketKit

/// `SpawnedProcess` runs its program under a watcher; to its caller it must look like the program:
/// same output, same exit, signals passed on. (That the program dies with the caller is checked
/// with a real `docket-cli pull` in `CTorrentOrphanTests`.)
@Suite struct SpawnedProcessTests {
    /// Starts a program and waits (up to 10 s) for its output and exit.
    private func run(_ executable: String, _ arguments: [String],
                     then act: @Sendable (SpawnedProcess) async throws -> Void = { _ in }) async throws -> (output: String, exit: SpawnedProcess.Exit) {
        let output = LockedBox(Data())
        let (exits, continuation) = AsyncStream.makeStream(of: SpawnedProcess.Exit.self)
        let process = try SpawnedProcess.spawn(executable, arguments, onOutput: { data in output.withLockedValue { $0.append(data) } },
                                               onExit: { continuation.yield($0); continuation.finish() })
        try await act(process)
        let timeout = Task {
            try await Task.sleep(for: .seconds(10))
            process.send(SIGKILL)
        }
        defer { timeout.cancel() }
        var exit: SpawnedProcess.Exit?
        for await value in exits { exit = value }
        return (String(decoding: output.withLockedValue { $0 }, as: UTF8.self), try #require(exit))
    }

    @Test func outputAndExitStatusAreTheProgramsOwn() async throws {
        let result = try await run("/bin/sh", ["-c", "echo out; echo err >&2; exit 3"])
        #expect(result.output == "out\nerr\n")
        #expect(result.exit == .status(3))
    }

    @Test func terminationSignalIsPassedOnAndReported() async throws {
        let started = ContinuousClock.now
        let result = try await run("/bin/sleep", ["30"]) { process in
            try await Task.sleep(for: .milliseconds(200))
            process.send(SIGTERM)
        }
        #expect(result.exit == .signal(SIGTERM))
        // Far less than the 30 s `sleep` would take (generous: the whole suite loads the machine).
        #expect(ContinuousClock.now - started < .seconds(20))
    }

    @Test func programKilledBySignalIsReportedAsSuch() async throws {
        let result = try await run("/bin/sh", ["-c", "kill -KILL $$"])
        #expect(result.exit == .signal(SIGKILL))
    }

    /// The watcher hands the program only standard input, output and error: no listening socket,
    /// store file or other transfer's lifeline of this process leaks into it.
    @Test func programInheritsNoOtherDescriptor() async throws {
        let leaked = open("/dev/null", O_RDONLY)  // not close-on-exec
        defer { close(leaked) }
        let result = try await run("/bin/sh", ["-c", "ls /proc/self/fd"])
        let descriptors = Set(result.output.split(separator: "\n").compactMap { Int32($0) })
        #expect(!descriptors.contains(leaked), "descriptor \(leaked) reached the program: \(descriptors.sorted())")
        #expect(descriptors.isSuperset(of: [0, 1, 2]))
    }

    @Test func missingProgramFailsNamingIt() {
        let error = #expect(throws: DocketError.self) {
            _ = try SpawnedProcess.spawn("/nonexistent/ctorrent", [], onOutput: { _ in }, onExit: { _ in })
        }
        #expect("\(error.map { "\($0)" } ?? "")".contains("cannot start /nonexistent/ctorrent"))
    }
}
