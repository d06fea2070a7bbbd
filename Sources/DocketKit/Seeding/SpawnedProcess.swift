import Foundation

/// A helper program run with `posix_spawn`, its signals reset: an empty signal mask and default
/// handlers. Foundation's `Process` passes on the spawning thread's mask, and every libdispatch
/// worker (so any thread a task runs on, and threads started from them) blocks SIGTERM and SIGINT:
/// a ctorrent started that way ignores SIGTERM until it is killed.
///
/// Standard output and error go to `onOutput`, from a thread of the process's own that reads
/// until end of file, then reaps the child (`waitpid` on its PID only) and calls `onExit`.
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
    /// naming the executable when it cannot be started.
    static func spawn(_ executable: String, _ arguments: [String],
                      onOutput: @escaping @Sendable (Data) -> Void,
                      onExit: @escaping @Sendable (Exit) -> Void) throws -> SpawnedProcess {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else {
            throw DocketError.torrent("cannot start \(executable): pipe: \(String(cString: strerror(errno)))")
        }
        // Not inherited by other children this process starts meanwhile (the child gets dup2 copies).
        for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, fds[1], 1)
        posix_spawn_file_actions_adddup2(&actions, fds[1], 2)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t()
        sigemptyset(&empty)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGPIPE, SIGCHLD] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var spawned: pid_t = 0
        let result = posix_spawn(&spawned, executable, &actions, &attributes, argv, environ)
        let pid = spawned
        close(fds[1])
        guard result == 0 else {
            close(fds[0])
            throw DocketError.torrent("cannot start \(executable): \(String(cString: strerror(result)))")
        }
        let process = SpawnedProcess(pid: pid)
        let reader = fds[0]
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
