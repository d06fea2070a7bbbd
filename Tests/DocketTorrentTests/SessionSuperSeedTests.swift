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

    /// A super-seed of `pieces` pieces of 16 KiB, and a function that connects a fake peer to it.
    private func superSeed(pieces: Int, dir: String) throws -> (TorrentClient, Metainfo) {
        let source = dir + "/source.bin"
        try SessionTestSupport.writeRandomFile(source, size: pieces * (16 << 10), seed: 91)
        let metainfo = try Metainfo.create(fileAt: source, name: "source.bin", pieceLength: 16 << 10, isPrivate: true, announce: nil, urlList: [])
        var configuration = TorrentClient.Configuration.testing
        configuration.peerID = .random(prefix: PeerID.registrySeederPrefix)
        configuration.superSeeding = true
        let seed = try TorrentClient(configuration: configuration)
        _ = try seed.add(metainfo, path: source, seeding: true)
        return (seed, metainfo)
    }

    /// A fake peer past the handshake with the seed at `port`.
    private static func connect(to port: UInt16, _ metainfo: Metainfo, id prefix: String) throws -> FakePeer {
        let peer = try FakePeer(dialing: port)
        peer.sendHandshake(infoHash: metainfo.infoHash, peerID: .random(prefix: prefix))
        guard peer.readHandshake() != nil else { throw SessionTestSupport.TimedOut(what: "handshake of \(prefix)") }
        return peer
    }

    /// The pieces a fake peer is shown (`have`s from the seed) until it is shown nothing for `quiet` s.
    private static func shown(to peer: FakePeer, quiet: Double) -> [Int] {
        var pieces: [Int] = []
        while let message = peer.waitFor(timeout: quiet, { if case .have = $0 { return true } else { return false } }) {
            if case .have(let index) = message { pieces.append(index) }
        }
        return pieces
    }

    /// A fake peer that "receives" each shown piece at once and announces it, until the seed shows
    /// nothing more for `quiet` s; returns every piece it was shown.
    private static func announceEveryShownPiece(_ peer: FakePeer, quiet: Double) -> [Int] {
        var shown = Self.shown(to: peer, quiet: quiet)
        var announced = 0
        while announced < shown.count {
            for index in shown[announced...] { _ = peer.send(.have(piece: index)) }
            announced = shown.count
            shown += Self.shown(to: peer, quiet: quiet)
        }
        return shown
    }

    /// A peer that announces every shown piece but passes none on (the other peer, still
    /// downloading, takes nothing from it) is shown at most twice the reveal-ahead; as the other peer
    /// gets some, it is shown more. Alone with the seed it is shown everything (see below).
    @Test func aPeerThatPassesNothingOnIsShownNoMore() async throws {
        let dir = try SessionTestSupport.temporaryDirectory("superseed-hub")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (seed, metainfo) = try superSeed(pieces: 256, dir: dir)
        defer { seed.shutdown() }
        let ahead = (1 << 20) / (16 << 10) / 2  // the reveal budget in pieces, shared by two peers
        let port = seed.listenPort
        let (first, second) = try await Blocking.run(name: "test.hub") { () throws -> ([Int], Int) in
            let other = try Self.connect(to: port, metainfo, id: "-HB0002-")
            let hub = try Self.connect(to: port, metainfo, id: "-HB0001-")
            // It "receives" each shown piece at once and says so; the seed shows more while it may.
            // (All within `superSeedPassOnWindow`, after which unpassed pieces stop counting.)
            let shown = Self.announceEveryShownPiece(hub, quiet: 0.25)
            // The other peer gets ten of them: the hub has passed ten on.
            for index in shown.prefix(10) { _ = other.send(.have(piece: index)) }
            return (shown, Self.shown(to: hub, quiet: 0.25).count)
        }
        #expect(first.count == 2 * ahead, "shown \(first.count) pieces")
        #expect(Set(first).count == first.count)
        #expect(second >= 10)
    }

    /// Alone with the seed, a puller has nobody to pass pieces on to: it is shown every piece.
    @Test func aLonePeerIsShownEveryPiece() async throws {
        let dir = try SessionTestSupport.temporaryDirectory("superseed-lone")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (seed, metainfo) = try superSeed(pieces: 256, dir: dir)
        defer { seed.shutdown() }
        let port = seed.listenPort
        let shown = try await Blocking.run(name: "test.lone") { () throws -> [Int] in
            let peer = try Self.connect(to: port, metainfo, id: "-LN0001-")
            return Self.announceEveryShownPiece(peer, quiet: 0.5)
        }
        #expect(Set(shown) == Set(0..<metainfo.pieceCount))
    }

    /// Once every piece has left the seed (here a peer already holds them all), a newcomer is shown
    /// pieces others hold rather than nothing: the seed's idle link helps finish the swarm.
    @Test func withNoFreshPieceLeftTheSeedShowsWhatOthersHold() async throws {
        let dir = try SessionTestSupport.temporaryDirectory("superseed-end")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (seed, metainfo) = try superSeed(pieces: 8, dir: dir)
        defer { seed.shutdown() }
        let port = seed.listenPort
        let shown = try await Blocking.run(name: "test.end") { () throws -> [Int] in
            let holder = try Self.connect(to: port, metainfo, id: "-EN0001-")
            var all = Bitfield(count: metainfo.pieceCount)
            for index in 0..<metainfo.pieceCount { all.insert(index) }
            _ = holder.send(.bitfield(all.bytes))
            let newcomer = try Self.connect(to: port, metainfo, id: "-EN0002-")
            return Self.shown(to: newcomer, quiet: 1.5)
        }
        #expect(!shown.isEmpty)
        #expect(shown.allSatisfy { $0 < metainfo.pieceCount })
    }
}

/// Keeps fake peers' connections open across an `await` (they are only held, never used).
private final class HeldPeers: @unchecked Sendable {
    let peers: [FakePeer]
    init(_ peers: [FakePeer]) { self.peers = peers }
}

