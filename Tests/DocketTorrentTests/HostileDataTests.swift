@testable import DocketTorrent
import Foundation
import Testing

/// Peers and web seeds that hand out bad data, and the client's own address among its peers.
@Suite(.serialized) struct HostileDataTests {
    /// Dials the leecher as a seed of every piece and serves requests from `source`, with every
    /// block of `badPiece` inverted; returns when the leecher hangs up.
    private static func serveWithOneBadPiece(port: UInt16, metainfo: Metainfo, peerID: PeerID, source: [UInt8], badPiece: Int) throws -> Bool {
        let peer = try FakePeer(dialing: port)
        peer.sendHandshake(infoHash: metainfo.infoHash, peerID: peerID)
        guard peer.readHandshake() != nil else { return false }
        peer.send(.bitfield(Bitfield(count: metainfo.pieceCount, allSet: true).bytes))
        peer.send(.unchoke)
        while let message = peer.nextMessage(timeout: 30) {
            guard case .request(let index, let begin, let length) = message else { continue }
            let start = index * metainfo.pieceLength + begin
            var block = Array(source[start..<start + length])
            if index == badPiece { block = block.map { ~$0 } }
            peer.send(.piece(piece: index, begin: begin, block: block))
        }
        return true
    }

    /// A peer whose data for one piece always fails the hash: its other pieces are kept, it is
    /// dropped at the first failure and banned at the second (refused at the handshake after
    /// that), and the piece comes from an honest seeder; the file ends byte-identical.
    @Test func peerWithOneBadPieceIsBannedAndThePieceComesFromElsewhere() async throws {
        let dir = try SessionTestSupport.temporaryDirectory("hostile-badpiece")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let source = dir + "/source.bin"
        try SessionTestSupport.writeRandomFile(source, size: 1 << 20, seed: 21)
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: source)))
        let metainfo = try Metainfo.create(fileAt: source, name: "source.bin", pieceLength: 64 << 10, isPrivate: true, announce: nil, urlList: [])
        let leecher = try TorrentClient(configuration: .testing)
        defer { leecher.shutdown() }
        let handle = try leecher.add(metainfo, path: dir + "/download.bin", seeding: false)
        let liar = PeerID.random(prefix: "-LI0001-")
        let port = leecher.listenPort

        // First connection: the leecher hangs up when the bad piece fails.
        #expect(try Self.serveWithOneBadPiece(port: port, metainfo: metainfo, peerID: liar, source: bytes, badPiece: 5))
        let afterFirst = await handle.inspect { torrent in (torrent?.strikes[liar], torrent?.banned.contains(liar)) }
        #expect(afterFirst?.0 == 1)
        #expect(afterFirst?.1 == false)

        // Second connection: the bad piece fails again and the peer is banned.
        #expect(try Self.serveWithOneBadPiece(port: port, metainfo: metainfo, peerID: liar, source: bytes, badPiece: 5))
        let banned = await handle.inspect { $0?.banned.contains(liar) }
        #expect(banned == true)

        // Third: refused right after its handshake, before the leecher answers with its own.
        let refused = try FakePeer(dialing: port)
        refused.sendHandshake(infoHash: metainfo.infoHash, peerID: liar)
        #expect(refused.readHandshake(timeout: 10) == nil)

        let honest = try TorrentClient(configuration: .testing)
        defer { honest.shutdown() }
        _ = try honest.add(metainfo, path: source, seeding: true)
        handle.addPeers([SessionTestSupport.loopback(honest)])
        try await SessionTestSupport.withTimeout(60, "the bad piece from the honest seeder") { try await handle.waitUntilComplete() }
        #expect(SessionTestSupport.filesEqual(source, dir + "/download.bin"))
        #expect(handle.status().verifiedBytes == Int64(1 << 20))
    }

    /// The client's own address among its peers (as a tracker returns it): recognised by peer id,
    /// marked as itself and never dialled again; the download proceeds from the real seeder.
    @Test func connectionToOurselvesIsDroppedByPeerID() async throws {
        let dir = try SessionTestSupport.temporaryDirectory("hostile-self")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let source = dir + "/source.bin"
        try SessionTestSupport.writeRandomFile(source, size: 1 << 20, seed: 22)
        let metainfo = try Metainfo.create(fileAt: source, name: "source.bin", pieceLength: 64 << 10, isPrivate: true, announce: nil, urlList: [])
        var seedConfiguration = TorrentClient.Configuration.testing
        seedConfiguration.uploadRateLimit = 1 << 20
        let seeder = try TorrentClient(configuration: seedConfiguration)
        defer { seeder.shutdown() }
        _ = try seeder.add(metainfo, path: source, seeding: true)
        let leecher = try TorrentClient(configuration: .testing)
        defer { leecher.shutdown() }
        let handle = try leecher.add(metainfo, path: dir + "/download.bin", seeding: false)
        let ownAddress = SessionTestSupport.loopback(leecher)
        handle.addPeers([ownAddress, SessionTestSupport.loopback(seeder)])
        try await SessionTestSupport.withTimeout(60, "download with ourselves among the peers") { try await handle.waitUntilComplete() }
        #expect(SessionTestSupport.filesEqual(source, dir + "/download.bin"))
        let known = await handle.inspect { torrent in torrent?.known[ownAddress].map { ($0.isSelf, $0.connected) } }
        #expect(known??.0 == true)
        #expect(known??.1 == false)
        let peers = await handle.inspect { torrent in torrent.map { $0.peers.values.compactMap(\.peerID) } }
        #expect(peers??.contains(leecher.configuration.peerID) == false)
    }

    /// A web seed that ignores Range (200 with the whole file) or sends half of each range: none of
    /// its bytes are taken, and an honest peer added afterwards completes the file byte-identical.
    @Test(arguments: ["ignores Range", "short data"])
    func brokenWebSeedNeverCorruptsAPiece(_ fault: String) async throws {
        let dir = try SessionTestSupport.temporaryDirectory("hostile-webseed")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(atPath: dir + "/www", withIntermediateDirectories: true)
        let source = dir + "/www/blob.bin"
        try SessionTestSupport.writeRandomFile(source, size: 1 << 20, seed: 23)
        let (server, port) = try RangeFileServer.start(root: dir + "/www", honourRange: fault != "ignores Range", short: fault == "short data")
        defer { server.stop() }
        let metainfo = try Metainfo.create(fileAt: source, name: "blob.bin", pieceLength: 256 << 10, isPrivate: true,
                                           announce: nil, urlList: ["http://127.0.0.1:\(port)/blob.bin"])
        let leecher = try TorrentClient(configuration: .testing)
        defer { leecher.shutdown() }
        let handle = try leecher.add(metainfo, path: dir + "/download.bin", seeding: false)
        var served = 0
        while served < 3, let line = server.readLine(timeout: 30) { served += line.components(separatedBy: "served").count - 1 }
        #expect(served >= 3)
        #expect(handle.status().verifiedBytes == 0)

        let honest = try TorrentClient(configuration: .testing)
        defer { honest.shutdown() }
        _ = try honest.add(metainfo, path: source, seeding: true)
        handle.addPeers([SessionTestSupport.loopback(honest)])
        try await SessionTestSupport.withTimeout(60, "download after a broken web seed") { try await handle.waitUntilComplete() }
        #expect(SessionTestSupport.filesEqual(source, dir + "/download.bin"))
        #expect(handle.status().bytesFromWebSeed == 0)
    }
}
