import Foundation

/// A helper process a test starts and always kills by its PID (web servers, trackers, aria2c).
final class SessionChildProcess: @unchecked Sendable {
    let process = Process()
    private let output = Pipe()
    private var buffered = Data()

    init(_ executable: String, _ arguments: [String], currentDirectory: String? = nil) throws {
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let currentDirectory { process.currentDirectoryURL = URL(fileURLWithPath: currentDirectory) }
        process.standardOutput = output
        process.standardError = output
        try process.run()
    }

    var pid: Int32 { process.processIdentifier }

    /// The next line the process prints, or nil when it exits first or `timeout` passes.
    func readLine(timeout: Double = 10) -> String? {
        let deadline = Date().addingTimeInterval(timeout)
        let handle = output.fileHandleForReading
        while Date() < deadline {
            if let newline = buffered.firstIndex(of: 0x0a) {
                let line = String(decoding: buffered[..<newline], as: UTF8.self)
                buffered = Data(buffered[(newline + 1)...])
                return line
            }
            var pollFD = pollfd(fd: handle.fileDescriptor, events: Int16(POLLIN), revents: 0)
            guard poll(&pollFD, 1, 100) >= 0 else { return nil }
            if pollFD.revents != 0 {
                let chunk = handle.availableData
                if chunk.isEmpty { return nil }
                buffered.append(chunk)
            }
        }
        return nil
    }

    /// Waits for the process to exit by itself; false after `timeout`.
    func waitForExit(timeout: Double) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { usleep(50_000) }
        return !process.isRunning
    }

    /// SIGTERM, then SIGKILL if it lingers; always by PID.
    func stop() {
        guard process.isRunning else { return }
        kill(pid, SIGTERM)
        if !waitForExit(timeout: 3) {
            kill(pid, SIGKILL)
            _ = waitForExit(timeout: 2)
        }
    }

    deinit { stop() }
}

/// A 30-line HTTP file server with Range support, run with /usr/bin/python3 (its http.server
/// parses the requests). `--no-range` makes it ignore Range and answer 200 with the whole file;
/// `--short` answers 206 with the asked Content-Range but only half the bytes.
enum RangeFileServer {
    static let script = """
    import http.server, os, re, sys
    root, honour_range, short = sys.argv[1], '--no-range' not in sys.argv, '--short' in sys.argv
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            path = os.path.join(root, os.path.basename(self.path.split('?')[0]))
            if not os.path.isfile(path):
                self.send_error(404)
                return
            size = os.path.getsize(path)
            match = re.match(r'bytes=(\\d+)-(\\d+)$', self.headers.get('Range', ''))
            with open(path, 'rb') as f:
                if match and honour_range:
                    start, end = int(match[1]), min(int(match[2]), size - 1)
                    f.seek(start)
                    data = f.read(end - start + 1)
                    if short:
                        data = data[:len(data) // 2]
                    self.send_response(206)
                    self.send_header('Content-Range', 'bytes %d-%d/%d' % (start, end, size))
                else:
                    data = f.read()
                    self.send_response(200)
            self.send_header('Content-Length', str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            sys.stdout.write('served\\n')
            sys.stdout.flush()
        def log_message(self, *args):
            pass
    server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), Handler)
    print(server.server_address[1], flush=True)
    server.serve_forever()
    """

    /// Starts the server over `root`; returns it and its port.
    static func start(root: String, honourRange: Bool = true, short: Bool = false) throws -> (SessionChildProcess, UInt16) {
        let scriptPath = root + "/.range-server.py"
        try script.write(toFile: scriptPath, atomically: true, encoding: .utf8)
        let server = try SessionChildProcess("/usr/bin/python3", [scriptPath, root] + (honourRange ? [] : ["--no-range"]) + (short ? ["--short"] : []))
        guard let line = server.readLine(), let port = UInt16(line) else {
            server.stop()
            throw SessionTestSupport.TimedOut(what: "python3 range server did not print its port")
        }
        return (server, port)
    }
}
