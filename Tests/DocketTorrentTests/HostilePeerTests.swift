@testable import DocketTorrent
import Foundation
import Testing

/// Misbehaving peers against a seeding client while an honest client downloads from it: each bad
/// connection is closed, and the honest download finishes byte-identical.
@Suite(.serialized) struct HostilePeerTests {
    /// What the scripted peer does once it is past the handshake.
    enum Misbehaviour: String, CaseIterable, Sendable {
        case requestOver16KiB, messageOverLengthLimit, bitfieldOfWrongSize, haveForMissingPiece, messageFlood

        func act(_ peer: FakePeer, pieceCount: Int) {
            switch self {
            case .requestOver16KiB:
                peer.send(.interested)
                _ = peer.waitFor { $0 == .unchoke }
                var payload: [UInt8] = []
                for value in [0, 0, 32 * 1024] { PeerWire.appendUInt32(UInt32(value), to: &payload) }
                peer.sendRaw(length: 13, id: 6, payload: payload)
            case .messageOverLengthLimit:
                peer.sendRaw(length: 1 << 20, id: 7, payload: [UInt8](repeating: 0, count: 64 * 1024))
            case .bitfieldOfWrongSize:
                peer.send(.bitfield([UInt8](repeating: 0xff, count: (pieceCount + 7) / 8 + 1)))
            case .haveForMissingPiece:
                peer.send(.have(piece: pieceCount))
            case .messageFlood:
                var burst: [UInt8] = []
                for _ in 0..<5000 {
                    PeerMessage.interested.encode(into: &burst)
                    PeerMessage.notInterested.encode(into: &burst)
                }
                for _ in 0..<20 where peer.send(burst) {}
            }
        }
    }

    private struct Swarm {
        let dir: String
        let source: String
        let metainfo: Metainfo
        let seeder: TorrentClient
        let leecher: TorrentClient
        let download: TorrentHandle

        /// A 2 MiB torrent of 32 pieces, a seeder capped at 1 MiB/s and a leecher pulling from it.
        init(_ label: String) throws {
            dir = try SessionTestSupport.temporaryDirectory(label)
            source = dir + "/source.bin"
            try SessionTestSupport.writeRandomFile(source, size: 2 << 20, seed: 11)
            metainfo = try Metainfo.create(fileAt: source, name: "source.bin", pieceLength: 64 << 10, isPrivate: true, announce: nil, urlList: [])
            var configuration = TorrentClient.Configuration.testing
            configuration.uploadRateLimit = 1 << 20
            seeder = try TorrentClient(configuration: configuration)
            _ = try seeder.add(metainfo, path: source, seeding: true)
            leecher = try TorrentClient(configuration: .testing)
            download = try leecher.add(metainfo, path: dir + "/download.bin", seeding: false)
            download.addPeers([SessionTestSupport.loopback(seeder)])
        }

        /// A scripted peer past the handshake with the seeder (which answers with its bitfield).
        func hostilePeer() throws -> FakePeer {
            let peer = try FakePeer(dialing: seeder.listenPort)
            peer.sendHandshake(infoHash: metainfo.infoHash, peerID: .random(prefix: "-XX0001-"))
            guard peer.readHandshake() != nil else { throw SessionTestSupport.TimedOut(what: "the seeder's handshake") }
            return peer
        }

        func finish() async throws {
            try await SessionTestSupport.withTimeout(60, "the honest download") { try await download.waitUntilComplete() }
            #expect(SessionTestSupport.filesEqual(source, dir + "/download.bin"))
            leecher.shutdown()
            seeder.shutdown()
            try? FileManager.default.removeItem(atPath: dir)
        }
    }

    @Test(arguments: Misbehaviour.allCases)
    func misbehavingConnectionIsClosedAndOthersCarryOn(_ misbehaviour: Misbehaviour) async throws {
        let swarm = try Swarm("hostile-\(misbehaviour.rawValue)")
        let peer = try swarm.hostilePeer()
        misbehaviour.act(peer, pieceCount: swarm.metainfo.pieceCount)
        #expect(peer.waitForClose(timeout: 10), "the seeder kept a peer that did \(misbehaviour)")
        try await swarm.finish()
    }

    /// The same script without the misbehaviour is served: the closing above is the bad message's doing.
    @Test func wellBehavedScriptedPeerIsServed() async throws {
        let swarm = try Swarm("hostile-control")
        let peer = try swarm.hostilePeer()
        peer.send(.bitfield([UInt8](repeating: 0, count: (swarm.metainfo.pieceCount + 7) / 8)))
        peer.send(.have(piece: swarm.metainfo.pieceCount - 1))
        peer.send(.interested)
        #expect(peer.waitFor(timeout: 15) { $0 == .unchoke } != nil)
        peer.send(.request(piece: 1, begin: 16 * 1024, length: 16 * 1024))
        let block = peer.waitFor(timeout: 15) { if case .piece = $0 { true } else { false } }
        let expected = Array(try Data(contentsOf: URL(fileURLWithPath: swarm.source))[(64 << 10) + (16 << 10)..<(64 << 10) + (32 << 10)])
        #expect(block == .piece(piece: 1, begin: 16 * 1024, block: expected))
        try await swarm.finish()
    }
}
