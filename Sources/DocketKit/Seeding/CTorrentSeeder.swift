import DocketTorrent
import Foundation

/// A `TorrentSeeder` that runs one `ctorrent` process per torrent (Enhanced CTorrent, `/usr/bin/ctorrent`).
/// ctorrent speaks only the peer wire (no web seeds) and cannot tell the registry's seeder from other
/// peers, so every byte it reports counts as "from peers".
///
/// ctorrent ignores peers whose IP equals its own, and keeps one peer per IP; on a loopback registry
/// every peer is 127.0.0.1, so each transfer then claims a loopback address of its own (`-I 127.x.y.z`).
public final class CTorrentSeeder: TorrentSeeder {
    public struct Configuration: Sendable {
        public var executable: String
        /// The first transfer listens here, the next on `port + 1`, and so on.
        public var port: UInt16
        /// ctorrent's own exit timer (`-e`); transfers are normally stopped before it fires.
        public var seedHours: Int
        /// Where torrent files and ctorrent's bitfield files are kept while a transfer runs.
        public var temporaryDirectory: String
        /// A download that gains no bytes for this long fails (so the caller can fall back to HTTP).
        public var stallTimeout: Duration

        public init(executable: String = "/usr/bin/ctorrent", port: UInt16 = 6881, seedHours: Int = 72,
                    temporaryDirectory: String = NSTemporaryDirectory(), stallTimeout: Duration = .seconds(30)) {
            self.executable = executable
            self.port = port
            self.seedHours = seedHours
            self.temporaryDirectory = temporaryDirectory
            self.stallTimeout = stallTimeout
        }
    }

    public let configuration: Configuration
    private let state = LockedBox<(nextPort: Int, transfers: [CTorrentTransfer])>((0, []))

    public init(configuration: Configuration = Configuration()) throws {
        guard FileManager.default.isExecutableFile(atPath: configuration.executable) else {
            throw DocketError.torrent("\(configuration.executable) is not an executable: install ctorrent (apt-get install ctorrent) or use --backend docket")
        }
        self.configuration = configuration
    }

    public var continuesSeedingAfterRename: Bool { false }

    public func download(torrent: Data, to path: String) async throws -> any TorrentTransfer {
        // ctorrent refuses an existing file of the wrong size, such as the empty one a store hands out.
        try await Blocking.run {
            var info = stat()
            if stat(path, &info) == 0, info.st_size == 0 { unlink(path) }
        }
        return try await start(torrent: torrent, path: path)
    }

    public func seed(torrent: Data, from path: String) async throws -> any TorrentTransfer {
        try await start(torrent: torrent, path: path)
    }

    public func shutdown() async {
        let transfers = state.withLockedValue { state in
            defer { state.transfers = [] }
            return state.transfers
        }
        for transfer in transfers { await transfer.stop() }
    }

    private func start(torrent: Data, path: String) async throws -> CTorrentTransfer {
        let port = state.withLockedValue { state in
            defer { state.nextPort += 1 }
            return Int(configuration.port) + state.nextPort
        }
        let transfer = try await CTorrentTransfer.launch(configuration: configuration, torrent: torrent, path: path,
                                                        port: UInt16(truncatingIfNeeded: port))
        state.withLockedValue { $0.transfers.append(transfer) }
        return transfer
    }
}

/// One ctorrent process.
final class CTorrentTransfer: TorrentTransfer {
    private struct State {
        var output = CTorrentOutput()
        var pending = ""
        var lastLines: [String] = []
        var exitStatus: Int32?
        var waiters: [CheckedContinuation<Void, Error>] = []
        var exitWaiters: [CheckedContinuation<Void, Never>] = []
    }

    let progress: AsyncStream<TransferProgress>
    private let continuation: AsyncStream<TransferProgress>.Continuation
    private let process: Process
    private let directory: String
    private let state = LockedBox(State())

    private let stallTimeout: Duration

    private init(process: Process, directory: String, stallTimeout: Duration) {
        (progress, continuation) = AsyncStream.makeStream(of: TransferProgress.self, bufferingPolicy: .bufferingNewest(64))
        self.process = process
        self.directory = directory
        self.stallTimeout = stallTimeout
    }

    /// True when the announce URL's host is a loopback address.
    static func isLoopback(_ announce: String?) -> Bool {
        guard let announce, let host = URLComponents(string: announce)?.host else { return false }
        return host == "localhost" || host.hasPrefix("127.") || host == "::1"
    }

    /// A loopback address unique to the listen port, so ctorrents on one machine tell each other apart.
    static func loopbackIdentity(port: UInt16) -> String {
        let value = Int(port)
        return "127.\(value / 62_500 + 1).\((value / 250) % 250 + 1).\(value % 250 + 2)"
    }

    static func launch(configuration: CTorrentSeeder.Configuration, torrent: Data, path: String, port: UInt16) async throws -> CTorrentTransfer {
        let directory = (configuration.temporaryDirectory as NSString).appendingPathComponent("docket-ctorrent-\(UUID().uuidString)")
        let torrentPath = "\(directory)/blob.torrent"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: configuration.executable)
        var arguments = ["-e", String(configuration.seedHours), "-s", BlobFile.absolute(path), "-p", String(port), "-b", "\(directory)/blob.bf"]
        if let metainfo = try? Metainfo.parse([UInt8](torrent)), Self.isLoopback(metainfo.announce) {
            arguments += ["-I", Self.loopbackIdentity(port: port)]
        }
        process.arguments = arguments + [torrentPath]
        process.currentDirectoryURL = URL(fileURLWithPath: configuration.temporaryDirectory)
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        process.standardInput = FileHandle.nullDevice
        let transfer = CTorrentTransfer(process: process, directory: directory, stallTimeout: configuration.stallTimeout)
        pipe.fileHandleForReading.readabilityHandler = { handle in
            let data = handle.availableData
            if data.isEmpty {
                handle.readabilityHandler = nil
            } else {
                transfer.received(data)
            }
        }
        process.terminationHandler = { process in transfer.exited(process.terminationStatus) }
        try await Blocking.run(name: "docket.ctorrent.launch") {
            try BlobFile.makeDirectory(directory)
            try BlobFile.writeAtomically(torrent, to: torrentPath, temporaryDirectory: directory)
            try process.run()
        }
        return transfer
    }

    private func received(_ data: Data) {
        let update: TransferProgress? = state.withLockedValue { state in
            state.pending += String(decoding: data, as: UTF8.self)
            var lines = state.pending.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r" })
            state.pending = String(lines.removeLast())
            var changed = false
            for line in lines where !line.isEmpty {
                state.lastLines = Array((state.lastLines + [String(line)]).suffix(5))
                if state.output.consume(line) { changed = true }
            }
            guard changed else { return nil }
            if state.output.isComplete {
                state.waiters.forEach { $0.resume() }
                state.waiters = []
            }
            return Self.progress(state.output)
        }
        if let update { continuation.yield(update) }
    }

    private static func progress(_ output: CTorrentOutput) -> TransferProgress {
        TransferProgress(verifiedBytes: output.verifiedBytes, totalBytes: output.totalBytes,
                         bytesFromPeers: output.megabytesDown << 20, bytesFromRegistry: 0,
                         bytesUploaded: output.megabytesUp << 20, connectedPeers: output.connectedPeers,
                         isComplete: output.isComplete,
                         notice: output.trackerErrors > 0 ? "tracker unreachable, using known peers" : nil)
    }

    private func exited(_ status: Int32) {
        try? FileManager.default.removeItem(atPath: directory)
        let (waiters, exitWaiters, message) = state.withLockedValue { state in
            state.exitStatus = status
            defer { state.waiters = []; state.exitWaiters = [] }
            let message = "ctorrent exited with status \(status) before the download finished: \(state.lastLines.joined(separator: " / "))"
            return (state.output.isComplete ? [] : state.waiters, state.exitWaiters, message)
        }
        waiters.forEach { $0.resume(throwing: DocketError.torrent(message)) }
        exitWaiters.forEach { $0.resume() }
        continuation.finish()
    }

    func currentProgress() -> TransferProgress {
        state.withLockedValue { Self.progress($0.output) }
    }

    /// Waits for completion; a download that gains nothing for `stallTimeout` is stopped and fails.
    func waitUntilComplete() async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await self.waitForCompletion() }
            group.addTask { try await self.watchForStall() }
            try await group.next()
            group.cancelAll()
        }
    }

    private func watchForStall() async throws {
        var last = state.withLockedValue { $0.output.verifiedBytes }
        while true {
            try await Task.sleep(for: stallTimeout)
            let now = state.withLockedValue { $0.output.verifiedBytes }
            if now == last {
                await stop()
                throw DocketError.torrent("ctorrent received nothing for \(stallTimeout) (no reachable peers?)")
            }
            last = now
        }
    }

    private func waitForCompletion() async throws {
        try await withCheckedThrowingContinuation { (waiter: CheckedContinuation<Void, Error>) in
            let outcome: Result<Void, Error>? = state.withLockedValue { state in
                if state.output.isComplete { return .success(()) }
                if let status = state.exitStatus {
                    return .failure(DocketError.torrent("ctorrent exited with status \(status): \(state.lastLines.joined(separator: " / "))"))
                }
                state.waiters.append(waiter)
                return nil
            }
            if let outcome { waiter.resume(with: outcome) }
        }
    }

    /// SIGTERM, then SIGKILL if ctorrent has not exited within three seconds.
    func stop() async {
        guard state.withLockedValue({ $0.exitStatus == nil }) else { return }
        let pid = process.processIdentifier
        kill(pid, SIGTERM)
        let killer = Task {
            try await Task.sleep(for: .seconds(3))
            kill(pid, SIGKILL)
        }
        await withCheckedContinuation { (waiter: CheckedContinuation<Void, Never>) in
            let done = state.withLockedValue { state in
                if state.exitStatus != nil { return true }
                state.exitWaiters.append(waiter)
                return false
            }
            if done { waiter.resume() }
        }
        killer.cancel()
    }
}
