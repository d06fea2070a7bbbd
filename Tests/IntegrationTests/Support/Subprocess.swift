import DocketCore
import Foundation

/// Runs a command to completion and returns its exit status and output (tests only).
struct CommandResult {
    var status: Int32
    var output: String
}

enum Command {
    /// Runs `executable args…` (looked up on PATH), stdout and stderr together into a file; throws on a
    /// non-zero exit unless `check` is false. Kills it after `timeout` seconds. Uses posix_spawn and
    /// waitpid directly: output in a file, not a pipe, because a daemon the command leaves running
    /// (dockerd) inherits the descriptor; and no reliance on Foundation's child reaping.
    /// Waits on a thread of its own (`Blocking.run`), so a long command (dockerd start, the swarm
    /// lab) never holds one of the cooperative pool's two threads while other tests need it.
    @discardableResult
    static func run(_ executable: String, _ arguments: [String], environment: [String: String] = [:],
                    check: Bool = true, timeout: TimeInterval = 300) async throws -> CommandResult {
        try await Blocking.run(name: "docket.test-command") {
            try runBlocking(executable, arguments, environment: environment, check: check, timeout: timeout)
        }
    }

    /// The same, waiting on the calling thread: only for `stop()` paths that run in `defer`.
    static func runBlocking(_ executable: String, _ arguments: [String], environment: [String: String],
                                    check: Bool, timeout: TimeInterval) throws -> CommandResult {
        let outputPath = NSTemporaryDirectory() + "docket-cmd-\(UUID().uuidString)"
        defer { unlink(outputPath) }
        let pid = try start(executable, arguments, environment: environment, outputPath: outputPath)
        var status: Int32 = 0
        let deadline = Date().addingTimeInterval(timeout)
        while waitpid(pid, &status, WNOHANG) == 0 {
            if Date() > deadline {
                kill(pid, SIGKILL)
                waitpid(pid, &status, 0)
                break
            }
            usleep(20_000)
        }
        let exitCode: Int32 = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        let text = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
        let result = CommandResult(status: exitCode, output: text)
        if check && result.status != 0 {
            throw CommandError(command: ([executable] + arguments).joined(separator: " "), result: result)
        }
        return result
    }
}

extension Command {
    /// Starts `executable args…` (looked up on PATH) with stdout and stderr into `outputPath` and
    /// returns its pid; the caller reaps it with `waitpid`. posix_spawn, not Foundation's `Process`:
    /// that one learns of an exit from a socket the child inherits, so a grandchild that outlives the
    /// child (what some tests look for) would keep `waitUntilExit` waiting.
    static func start(_ executable: String, _ arguments: [String], environment: [String: String] = [:],
                      outputPath: String = "/dev/null") throws -> pid_t {
        var env = ProcessInfo.processInfo.environment
        env.merge(environment) { $1 }
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = env.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { (argv + envp).forEach { free($0) } }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        var pid: pid_t = 0
        let spawned = posix_spawnp(&pid, executable, &actions, nil, argv, envp)
        guard spawned == 0 else {
            throw CommandError(command: executable, result: CommandResult(status: -1, output: String(cString: strerror(spawned))))
        }
        return pid
    }
}

struct CommandError: Error, CustomStringConvertible {
    var command: String
    var result: CommandResult
    var description: String { "`\(command)` exited \(result.status):\n\(result.output)" }
}
