import DocketCore
@testable import DocketTorrent
import Foundation
import Testing

/// How fast a verified piece is announced to the other peers: pullers trade only what they
/// have heard of, and a registry seed in super-seeding mode shows the next piece only after a
/// `have`, so an announcement that waits for the next timer tick (once a second) stalls the swarm.
@Suite struct SessionHaveTests {
    /// A leecher with two fake peers: one serves the pieces, the other only listens. Each piece
    /// the listener hears of must reach it right after the block that completes it, not with
    /// the next second's tick: four pieces in well under a second in total (a tick-bound client
    /// needs about two on average).
    @Test func verifiedPiecesAreAnnouncedAtOnce() async throws {
        let dir = try SessionTestSupport.temporaryDirectory("have-latency")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let source = dir + "/source.bin"
        try SessionTestSupport.writeRandomFile(source, size: 256 << 10, seed: 31)
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: source)))
        let metainfo = try Metainfo.create(fileAt: source, name: "source.bin", pieceLength: 64 << 10, isPrivate: true, announce: nil, urlList: [])
        let leecher = try TorrentClient(configuration: .testing)
        defer { leecher.shutdown() }
        let handle = try leecher.add(metainfo, path: dir + "/download.bin", seeding: false)
        let port = leecher.listenPort

        let delays = try await Blocking.run(name: "test.fake-peers") { () throws -> [Double] in
            let listener = try FakePeer(dialing: port)
            listener.sendHandshake(infoHash: metainfo.infoHash, peerID: .random(prefix: "-LI0001-"))
            guard listener.readHandshake() != nil else { throw SessionTestSupport.TimedOut(what: "the listener's handshake") }
            let server = try FakePeer(dialing: port)
            server.sendHandshake(infoHash: metainfo.infoHash, peerID: .random(prefix: "-SV0001-"))
            guard server.readHandshake() != nil else { throw SessionTestSupport.TimedOut(what: "the server's handshake") }
            server.send(.bitfield(Bitfield(count: metainfo.pieceCount, allSet: true).bytes))
            server.send(.unchoke)
            // Serves requests as they come; after the block that completes a piece, times the
            // piece's `have` at the listener.
            var sentBlocks = [Int](repeating: 0, count: metainfo.pieceCount)
            let blocksPerPiece = metainfo.pieceLength / PeerWire.blockSize
            var delays: [Double] = []
            while delays.count < metainfo.pieceCount {
                guard let message = server.nextMessage(timeout: 10) else { throw SessionTestSupport.TimedOut(what: "the leecher's requests") }
                guard case .request(let index, let begin, let length) = message else { continue }
                let start = index * metainfo.pieceLength + begin
                server.send(.piece(piece: index, begin: begin, block: Array(bytes[start..<start + length])))
                sentBlocks[index] += 1
                guard sentBlocks[index] == blocksPerPiece else { continue }
                let sent = Date()
                guard listener.waitFor(timeout: 10, { $0 == .have(piece: index) }) != nil else {
                    throw SessionTestSupport.TimedOut(what: "have(\(index)) at the listener")
                }
                delays.append(Date().timeIntervalSince(sent))
            }
            return delays
        }
        try await SessionTestSupport.withTimeout(20, "the download") { try await handle.waitUntilComplete() }
        #expect(SessionTestSupport.filesEqual(source, dir + "/download.bin"))
        #expect(delays.count == 4)
        #expect(delays.reduce(0, +) < 0.8, "have messages took \(delays) s to reach the other peer")
    }
}
