import DocketCore
@testable import DocketTorrent
import Foundation
import Testing

@Suite(.serialized) struct SessionSuperSeedTests {
    /// A registry-style seed (rate-limited, as a real link would be) and five leechers that know each
    /// other; returns how many copies of the file the seed sent.
    private func copiesSentBySeed(superSeeding: Bool) async throws -> Double {
        let dir = try SessionTestSupport.temporaryDirectory("superseed")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let source = dir + "/source.bin"
        let size = 6 << 20
        try SessionTestSupport.writeRandomFile(source, size: size)
        let metainfo = try Metainfo.create(fileAt: source, name: "source.bin", pieceLength: 64 << 10, isPrivate: false, announce: nil, urlList: [])

        var seedConfiguration = TorrentClient.Configuration.testing
        seedConfiguration.uploadRateLimit = 3 << 20
        seedConfiguration.peerID = .random(prefix: PeerID.registrySeederPrefix)
        seedConfiguration.superSeeding = superSeeding
        let seed = try TorrentClient(configuration: seedConfiguration)
        defer { seed.shutdown() }
        let seedHandle = try seed.add(metainfo, path: source, seeding: true)

        let (clients, _) = try await SessionTestSupport.leechSwarm(metainfo, seed: seed, count: 5, directory: dir, timeout: 90)
        defer { clients.forEach { $0.shutdown() } }
        for index in 0..<5 {
            #expect(SessionTestSupport.filesEqual(source, dir + "/leecher\(index).bin"))
        }
        try await Task.sleep(for: .milliseconds(300))
        return Double(seedHandle.status().bytesUploaded) / Double(size)
    }

    /// Super-seeding shows each leecher a few pieces at a time; everyone still completes, and the
    /// seed sends little more than one copy (plain seeding sends each leecher much of the file).
    @Test func superSeedingSendsAboutOneCopyAndEveryoneCompletes() async throws {
        let superCopies = try await copiesSentBySeed(superSeeding: true)
        #expect(superCopies >= 1.0)
        #expect(superCopies < 1.5, "super-seeding seed sent \(superCopies) copies")
    }

    /// A peer that is shown pieces and then never asks for them must not hold the swarm up: after
    /// `superSeedReshowAfter` the seed shows those pieces to others, who complete. The silent peer
    /// holds every piece the seed could show at first (the file is 4 pieces, one shown each).
    @Test func piecesShownToAStalledPeerAreShownToOthers() async throws {
        let dir = try SessionTestSupport.temporaryDirectory("superseed-stall")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let source = dir + "/source.bin"
        try SessionTestSupport.writeRandomFile(source, size: 256 << 10, seed: 77)
        let metainfo = try Metainfo.create(fileAt: source, name: "source.bin", pieceLength: 64 << 10, isPrivate: true, announce: nil, urlList: [])
        var seedConfiguration = TorrentClient.Configuration.testing
        seedConfiguration.peerID = .random(prefix: PeerID.registrySeederPrefix)
        seedConfiguration.superSeeding = true
        let seed = try TorrentClient(configuration: seedConfiguration)
        defer { seed.shutdown() }
        _ = try seed.add(metainfo, path: source, seeding: true)

        // Four silent peers take one shown piece each: every piece is then on its way to someone.
        let port = seed.listenPort
        let silent = try await Blocking.run(name: "test.silent-peers") { () throws -> HeldPeers in
            HeldPeers(try (0..<metainfo.pieceCount).map { index in
                let peer = try FakePeer(dialing: port)
                peer.sendHandshake(infoHash: metainfo.infoHash, peerID: .random(prefix: "-SL000\(index)-"))
                guard peer.readHandshake() != nil,
                      peer.waitFor(timeout: 10, { if case .have = $0 { return true } else { return false } }) != nil else {
                    throw SessionTestSupport.TimedOut(what: "a shown piece at silent peer \(index)")
                }
                return peer
            })
        }
        let (clients, _) = try await SessionTestSupport.leechSwarm(metainfo, seed: seed, count: 2, directory: dir, timeout: 30)
        defer { clients.forEach { $0.shutdown() } }
        for index in 0..<2 {
            #expect(SessionTestSupport.filesEqual(source, dir + "/leecher\(index).bin"))
        }
        #expect(silent.peers.count == metainfo.pieceCount)
    }
}

/// Keeps fake peers' connections open across an `await` (they are only held, never used).
private final class HeldPeers: @unchecked Sendable {
    let peers: [FakePeer]
    init(_ peers: [FakePeer]) { self.peers = peers }
}

