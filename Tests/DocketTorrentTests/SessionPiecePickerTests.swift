@testable import DocketTorrent
import Foundation
import Testing

@Suite struct SessionPiecePickerTests {
    /// A torrent of `pieces` pieces (2 blocks each) on the loop's data structures, without sockets.
    private func makeTorrent(pieces: Int = 4) throws -> (Torrent, String) {
        let dir = try SessionTestSupport.temporaryDirectory("picker")
        let source = dir + "/source.bin"
        try SessionTestSupport.writeRandomFile(source, size: pieces * 32768)
        let metainfo = try Metainfo.create(fileAt: source, name: "source.bin", pieceLength: 32768, isPrivate: false, announce: nil, urlList: [])
        let storage = try PieceStorage(metainfo: metainfo, path: dir + "/out.bin", seeding: false)
        let shared = TorrentShared(infoHash: metainfo.infoHash, status: TorrentStatus(totalBytes: metainfo.totalLength))
        return (Torrent(setup: TorrentSetup(metainfo: metainfo, storage: storage, shared: shared, seeding: false), now: 0), dir)
    }

    private func peer(_ fd: Int32, has pieces: [Int], in torrent: Torrent) -> PeerConnection {
        let peer = PeerConnection(fd: fd, address: PeerAddress(addressBytes: [127, 0, 0, 1], port: UInt16(fd))!, outgoing: true, torrent: torrent, now: 0)
        peer.bitfield = Bitfield(count: torrent.pieceCount)
        for piece in pieces {
            peer.bitfield.insert(piece)
            torrent.availability[piece] += 1
        }
        return peer
    }

    @Test func picksRarestFirstAndGivesEachPeerItsOwnPiece() throws {
        let (torrent, dir) = try makeTorrent(pieces: 8)
        defer { torrent.storage.close(); try? FileManager.default.removeItem(atPath: dir) }
        torrent.availability = [5, 5, 5, 5, 5, 0, 3, 3]    // others' copies
        // Neither peer has the first four pieces (which would go first, see below).
        let a = peer(10, has: [4, 5, 6, 7], in: torrent)
        let b = peer(11, has: [4, 5, 6, 7], in: torrent)
        let first = try #require(torrent.nextRequest(for: a))
        #expect(first.piece == 5 && first.begin == 0 && first.length == 16384)
        let second = try #require(torrent.nextRequest(for: a))
        #expect(second.piece == 5 && second.begin == 16384)
        // B does not join A's piece while unstarted pieces remain; it takes the next rarest.
        let third = try #require(torrent.nextRequest(for: b))
        #expect([6, 7].contains(third.piece))
        #expect(torrent.partials[5]?.owner == 10)
        #expect(torrent.partials[third.piece]?.owner == 11)
    }

    @Test func theFirstMissingPiecesGoBeforeTheRarest() throws {
        let (torrent, dir) = try makeTorrent(pieces: 8)
        defer { torrent.storage.close(); try? FileManager.default.removeItem(atPath: dir) }
        torrent.have.insert(0)
        torrent.have.insert(2)
        torrent.availability = [5, 5, 5, 5, 5, 5, 5, 0]
        let peers = (0..<5).map { peer(Int32(10 + $0), has: Array(0..<8), in: torrent) }
        // The window holds the first four missing pieces, 1, 3, 4 and 5, one peer each; then rarest-first.
        let picked = try peers.map { try #require(torrent.nextRequest(for: $0)).piece }
        #expect(picked == [1, 3, 4, 5, 7])
        #expect(torrent.frontier == 1)
        // Pieces being written count as taken; the frontier moves past what we have.
        torrent.partials[1] = nil
        torrent.have.insert(1)
        torrent.partials[3] = nil
        torrent.writing[3] = (32768, [])
        let next = try #require(torrent.nextRequest(for: peer(20, has: Array(0..<8), in: torrent)))
        #expect(next.piece == 6)
        #expect(torrent.frontier == 3)
    }

    @Test func endgameDuplicatesRequestsAndReleaseReturnsBlocks() throws {
        let (torrent, dir) = try makeTorrent()
        defer { torrent.storage.close(); try? FileManager.default.removeItem(atPath: dir) }
        let a = peer(10, has: [0], in: torrent)
        let b = peer(11, has: [0], in: torrent)
        for piece in 1..<4 { torrent.have.insert(piece) }
        var fromA: [Int] = []
        while let request = torrent.nextRequest(for: a) {
            fromA.append(request.begin)
            a.outstanding.insert(PeerConnection.blockKey(piece: request.piece, begin: request.begin))
        }
        #expect(fromA == [0, 16384])
        #expect(torrent.isEndgame)
        // B may duplicate both blocks once, never twice.
        var fromB: [Int] = []
        while let request = torrent.nextRequest(for: b) {
            fromB.append(request.begin)
            b.outstanding.insert(PeerConnection.blockKey(piece: request.piece, begin: request.begin))
        }
        #expect(fromB.sorted() == [0, 16384])
        #expect(torrent.partials[0]?.requesters == [2, 2])
        torrent.release(a)
        #expect(torrent.partials[0]?.requesters == [1, 1])
        #expect(torrent.partials[0]?.owner == nil)
        #expect(a.outstanding.isEmpty)
    }
}
