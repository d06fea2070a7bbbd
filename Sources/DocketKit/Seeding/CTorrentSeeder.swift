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
    private let state = LockedBox<(nextPort: Int, transfers: [CTorrentTransfer], shutDown: Bool)>((0, [], false))

    public init(configuration: Configuration = Configuration()) throws {
        guard FileManager.default.isExecutableFile(atPath: configuration.executable) else {
            throw DocketError.torrent("\(configuration.executable) is not an executable: install ctorrent (apt-get install ctorrent) or use --backend docket")
        }
        self.configuration = configuration
    }

    public var continuesSeedingAfterRename: Bool { false }

    public func download(torrent: Data, to path: String) async throws -> any TorrentTransfer {
        let metainfo = try Self.parse(torrent)
        // ctorrent refuses an existing file of the wrong size, such as the empty one a store hands out.
        let empty = try await Blocking.run {
            var info = stat()
            if stat(path, &info) == 0, info.st_size == 0 { unlink(path) }
            return stat(path, &info) != 0
        }
        return try await start(torrent: torrent, metainfo: metainfo, path: path, startsEmpty: empty)
    }

    /// Seeds the file at `path`; throws naming the path when it is missing or not the torrent's size
    /// (ctorrent itself would start downloading into it instead).
    public func seed(torrent: Data, from path: String) async throws -> any TorrentTransfer {
        let metainfo = try Self.parse(torrent)
        try await Blocking.run(name: "docket.ctorrent.check") {
            var info = stat()
            guard stat(path, &info) == 0 else {
                throw DocketError.torrent("cannot seed torrent \(metainfo.name) from '\(path)': \(String(cString: strerror(errno))); "
                    + "check the path (the blob may have been removed from the store)")
            }
            if !metainfo.isMultiFile && Int64(info.st_size) != metainfo.totalLength {
                throw DocketError.torrent("cannot seed torrent \(metainfo.name) from '\(path)': it has \(info.st_size) bytes "
                    + "but the torrent needs exactly \(metainfo.totalLength); download the blob again")
            }
        }
        return try await start(torrent: torrent, metainfo: metainfo, path: path, startsEmpty: false)
    }

    /// Stops every ctorrent process (SIGTERM, then SIGKILL after three seconds) and waits until each
    /// has exited and been reaped. Later `download` and `seed` calls throw.
    public func shutdown() async {
        let transfers = state.withLockedValue { state in
            state.shutDown = true
            defer { state.transfers = [] }
            return state.transfers
        }
        await withTaskGroup(of: Void.self) { group in
            for transfer in transfers { group.addTask { await transfer.stop() } }
        }
    }

    private static func parse(_ torrent: Data) throws -> Metainfo {
        do {
            return try Metainfo.parse([UInt8](torrent))
        } catch {
            throw DocketError.torrent("the registry sent an unreadable torrent: \(error)")
        }
    }

    private func start(torrent: Data, metainfo: Metainfo, path: String, startsEmpty: Bool) async throws -> CTorrentTransfer {
        let port = try state.withLockedValue { state in
            guard !state.shutDown else { throw Self.shutDownError }
            defer { state.nextPort += 1 }
            return Int(configuration.port) + state.nextPort
        }
        let transfer = try await CTorrentTransfer.launch(configuration: configuration, torrent: torrent, metainfo: metainfo,
                                                        path: path, port: UInt16(truncatingIfNeeded: port), startsEmpty: startsEmpty)
        let accepted = state.withLockedValue { state in
            if !state.shutDown { state.transfers.append(transfer) }
            return !state.shutDown
        }
        guard accepted else {
            await transfer.stop()
            throw Self.shutDownError
        }
        return transfer
    }

    private static let shutDownError = DocketError.torrent("the ctorrent seeder was shut down; create a new CTorrentSeeder")
}

/// One ctorrent process.
final class CTorrentTransfer: TorrentTransfer {
    private struct State {
        var output = CTorrentOutput()
        var pending = ""
        var lastLines: [String] = []
        var exitStatus: SpawnedProcess.Exit?
        var waiters: [CheckedContinuation<Void, Error>] = []
        var exitWaiters: [CheckedContinuation<Void, Never>] = []
    }

    let progress: AsyncStream<TransferProgress>
    private let continuation: AsyncStream<TransferProgress>.Continuation
    private let process = LockedBox<SpawnedProcess?>(nil)
    private let directory: String
    private let state = LockedBox(State())

    private let name: String
    private let stallTimeout: Duration

    private init(directory: String, name: String, stallTimeout: Duration) {
        (progress, continuation) = AsyncStream.makeStream(of: TransferProgress.self, bufferingPolicy: .bufferingNewest(64))
        self.directory = directory
        self.name = name
        self.stallTimeout = stallTimeout
    }

    /// The ctorrent process's id (tests check it is gone after `stop`).
    var pid: Int32 { process.withLockedValue { $0?.pid ?? 0 } }

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

    static func launch(configuration: CTorrentSeeder.Configuration, torrent: Data, metainfo: Metainfo, path: String,
                       port: UInt16, startsEmpty: Bool) async throws -> CTorrentTransfer {
        let directory = (configuration.temporaryDirectory as NSString).appendingPathComponent("docket-ctorrent-\(UUID().uuidString)")
        let torrentPath = "\(directory)/blob.torrent"
        var arguments = ["-e", String(configuration.seedHours), "-s", BlobFile.absolute(path), "-p", String(port), "-b", "\(directory)/blob.bf"]
        if Self.isLoopback(metainfo.announce) {
            arguments += ["-I", Self.loopbackIdentity(port: port)]
        }
        let command = arguments + [torrentPath]
        let transfer = CTorrentTransfer(directory: directory, name: metainfo.name, stallTimeout: configuration.stallTimeout)
        transfer.state.withLockedValue { $0.output.startedEmpty = startsEmpty }
        try await Blocking.run(name: "docket.ctorrent.launch") {
            try BlobFile.makeDirectory(directory)
            try BlobFile.writeAtomically(torrent, to: torrentPath, temporaryDirectory: directory)
            // Held while spawning, so an exit reported at once finds the process recorded.
            try transfer.process.withLockedValue { process in
                // The watcher removes the torrent, bitfield and directory should this process be killed.
                process = try SpawnedProcess.spawn(configuration.executable, command,
                                                   cleanup: [torrentPath, "\(directory)/blob.bf", directory],
                                                   onOutput: { transfer.received($0) }, onExit: { transfer.exited($0) })
            }
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
                         bytesFromPeers: output.bytesFromPeers, bytesFromRegistry: 0,
                         bytesUploaded: output.megabytesUp << 20, connectedPeers: output.connectedPeers,
                         isComplete: output.isComplete,
                         notice: output.trackerErrors > 0 ? "tracker unreachable, using known peers" : nil)
    }

    private func exited(_ status: SpawnedProcess.Exit) {
        try? FileManager.default.removeItem(atPath: directory)
        let (waiters, exitWaiters, message) = state.withLockedValue { state in
            state.exitStatus = status
            defer { state.waiters = []; state.exitWaiters = [] }
            let message = "ctorrent \(status) before the download finished: \(state.lastLines.joined(separator: " / "))"
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
        try await StallWatch.wait(for: "ctorrent download of \(name)", timeout: stallTimeout,
                                  detail: { [state] in "; ctorrent said: " + state.withLockedValue { $0.lastLines.joined(separator: " / ") } },
                                  progress: { self.currentProgress() }, stop: { await self.stop() }) {
            try await self.waitForCompletion()
        }
    }

    private func waitForCompletion() async throws {
        try await withCheckedThrowingContinuation { (waiter: CheckedContinuation<Void, Error>) in
            let outcome: Result<Void, Error>? = state.withLockedValue { state in
                if state.output.isComplete { return .success(()) }
                if let status = state.exitStatus {
                    return .failure(DocketError.torrent("ctorrent \(status): \(state.lastLines.joined(separator: " / "))"))
                }
                state.waiters.append(waiter)
                return nil
            }
            if let outcome { waiter.resume(with: outcome) }
        }
    }

    /// SIGTERM (ctorrent then tells the tracker `stopped`, waiting for its answer), a second SIGTERM
    /// after one second (ctorrent quits at once), SIGKILL after three; returns once it is reaped.
    func stop() async {
        guard state.withLockedValue({ $0.exitStatus == nil }), let process = process.withLockedValue({ $0 }) else { return }
        process.send(SIGTERM)
        let killer = Task {
            try await Task.sleep(for: .seconds(1))
            process.send(SIGTERM)
            try await Task.sleep(for: .seconds(2))
            process.send(SIGKILL)
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
