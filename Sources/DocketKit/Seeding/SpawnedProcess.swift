import CDocketShims
import Foundation

/// A helper program that dies with this process, however this process ends (SIGKILL included).
///
/// It runs under a watcher (`docket_spawn_watched`, C): a forked process holding the read end of a
/// pipe whose write end only this process keeps. When this process dies the kernel closes that end,
/// and the watcher stops the program (SIGTERM, again after a second, SIGKILL after three); killing
/// the watcher kills the program (PR_SET_PDEATHSIG towards the single-threaded watcher). `pid` is the
/// watcher's: signals sent to it reach the program, and it exits the way the program did.
/// (PR_SET_PDEATHSIG on the program itself would fire when the *thread* that started it exits, and
/// posix_spawn cannot set it.) The program starts with an empty signal mask and default handlers:
/// every libdispatch worker blocks SIGTERM and SIGINT, and a ctorrent that inherited that ignored
/// SIGTERM until it was killed.
///
/// Standard output and error go to `onOutput`, from a thread of the process's own that reads
/// until end of file, then reaps the watcher (`waitpid` on its PID only) and calls `onExit`.
final class SpawnedProcess: Sendable {
    let pid: pid_t
    private let reaped = LockedBox(false)

    /// How the process ended, for messages.
    enum Exit: Sendable, Hashable, CustomStringConvertible {
        case status(Int32)
        case signal(Int32)

        var description: String {
            switch self {
            case .status(let code): "exited with status \(code)"
            case .signal(let number): "was killed by signal \(number)"
            }
        }
    }

    private init(pid: pid_t) {
        self.pid = pid
    }

    /// Starts `executable arguments` with standard input from /dev/null; throws `DocketError.torrent`
    /// naming the executable when it cannot be started. Once the program has exited, the watcher
    /// removes `cleanup` (files first, then their directory), even when this process was killed.
    static func spawn(_ executable: String, _ arguments: [String], cleanup: [String] = [],
                      onOutput: @escaping @Sendable (Data) -> Void,
                      onExit: @escaping @Sendable (Exit) -> Void) throws -> SpawnedProcess {
        func failure(_ what: String, _ code: Int32) -> DocketError {
            DocketError.torrent("cannot start \(executable): \(what)\(String(cString: strerror(code)))")
        }
        // The watcher reports a program that cannot run only as status 127: check first.
        guard access(executable, X_OK) == 0 else { throw failure("", errno) }
        // Close-on-exec from the start, so no program another thread starts meanwhile inherits them
        // (the watcher closes everything but its own descriptors).
        var output: [Int32] = [0, 0]
        guard docket_pipe_cloexec(&output) == 0 else { throw failure("pipe: ", errno) }
        var lifeline: [Int32] = [0, 0]
        guard docket_pipe_cloexec(&lifeline) == 0 else {
            let code = errno
            output.forEach { close($0) }
            throw failure("pipe: ", code)
        }
        let null = open("/dev/null", O_RDONLY | O_CLOEXEC)
        guard null >= 0 else {
            let code = errno
            (output + lifeline).forEach { close($0) }
            throw failure("/dev/null: ", code)
        }
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let removals = cleanup.map { strdup($0) } + [nil]
        defer { (argv + removals).forEach { free($0) } }
        let spawned = docket_spawn_watched(executable, argv, environ, null, output[1], lifeline[0], "docket-watch", removals)
        let code = errno
        close(null)
        close(output[1])
        close(lifeline[0])
        guard spawned > 0 else {
            close(output[0])
            close(lifeline[1])
            throw failure("fork: ", code)
        }
        let pid = spawned
        let lifelineEnd = lifeline[1]
        let reader = output[0]
        let process = SpawnedProcess(pid: pid)
        let thread = Thread {
            var buffer = [UInt8](repeating: 0, count: 16 << 10)
            while true {
                let count = buffer.withUnsafeMutableBytes { read(reader, $0.baseAddress, $0.count) }
                if count > 0 {
                    onOutput(Data(buffer[0..<count]))
                } else if count < 0 && errno == EINTR {
                    continue
                } else {
                    break
                }
            }
            close(reader)
            var status: Int32 = 0
            while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
            process.reaped.withLockedValue { $0 = true }
            close(lifelineEnd)
            let signal = status & 0x7f
            onExit(signal == 0 ? .status((status >> 8) & 0xff) : .signal(signal))
        }
        thread.name = "docket.spawned-process"
        thread.stackSize = 256 << 10
        thread.start()
        return process
    }

    /// Sends `signal` unless the process has already been reaped (its PID may belong to another by then).
    func send(_ signal: Int32) {
        reaped.withLockedValue { reaped in
            if !reaped { kill(pid, signal) }
        }
    }
}
