@testable import DocketTorrent
import Foundation

/// Temp files, torrents and timeouts shared by the session, engine and interop tests.
enum SessionTestSupport {
    static func temporaryDirectory(_ label: String) throws -> String {
        let path = NSTemporaryDirectory() + "docket-\(label)-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// Writes `size` pseudo-random bytes (seeded, so failures reproduce) to `path`.
    static func writeRandomFile(_ path: String, size: Int, seed: UInt64 = 42) throws {
        var state = seed
        var bytes = [UInt8](repeating: 0, count: size)
        bytes.withUnsafeMutableBytes { raw in
            let words = raw.bindMemory(to: UInt64.self)
            for index in 0..<words.count {
                state = state &* 6364136223846793005 &+ 1442695040888963407
                words[index] = state ^ (state >> 29)
            }
        }
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }

    static func filesEqual(_ a: String, _ b: String) -> Bool {
        guard let x = FileManager.default.contents(atPath: a), let y = FileManager.default.contents(atPath: b) else { return false }
        return x == y
    }

    static func loopback(_ client: TorrentClient) -> PeerAddress {
        PeerAddress(addressBytes: [127, 0, 0, 1], port: client.listenPort)!
    }

    struct TimedOut: Error, CustomStringConvertible {
        var what: String
        var description: String { "timed out: \(what)" }
    }

    /// Runs `body`, throwing `TimedOut` if it takes longer than `seconds`.
    /// `count` leechers of `metainfo` writing into `directory/leecherN.bin`, each told about the seed
    /// and every other leecher; waits until all complete (or `timeout`). Callers shut the clients down.
    static func leechSwarm(_ metainfo: Metainfo, seed: TorrentClient, count: Int, directory: String,
                           timeout: Double) async throws -> (clients: [TorrentClient], handles: [TorrentHandle]) {
        let clients = try (0..<count).map { _ in try TorrentClient(configuration: .testing) }
        let handles = try clients.enumerated().map { index, client in
            try client.add(metainfo, path: directory + "/leecher\(index).bin", seeding: false)
        }
        for (index, handle) in handles.enumerated() {
            let others = clients.enumerated().filter { $0.offset != index }.map { loopback($0.element) }
            handle.addPeers([loopback(seed)] + others)
        }
        do {
            try await withTimeout(timeout, "\(count) leechers downloading \(metainfo.totalLength) bytes") {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for handle in handles { group.addTask { try await handle.waitUntilComplete() } }
                    try await group.waitForAll()
                }
            }
        } catch {
            clients.forEach { $0.shutdown() }
            throw error
        }
        return (clients, handles)
    }

    static func withTimeout<T: Sendable>(_ seconds: Double, _ what: String, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
        try await withThrowingTaskGroup(of: T.self) { group in
            group.addTask { try await body() }
            group.addTask {
                try await Task.sleep(nanoseconds: UInt64(seconds * 1e9))
                throw TimedOut(what: what)
            }
            let result = try await group.next()!
            group.cancelAll()
            return result
        }
    }
}
