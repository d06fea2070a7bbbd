@testable import DocketTorrent
import Foundation
import Testing

@Suite struct SessionPiecePickerTests {
    /// A 4-piece torrent (2 blocks per piece) on the loop's data structures, without sockets.
    private func makeTorrent() throws -> (Torrent, String) {
        let dir = try SessionTestSupport.temporaryDirectory("picker")
        let source = dir + "/source.bin"
        try SessionTestSupport.writeRandomFile(source, size: 4 * 32768)
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
        let (torrent, dir) = try makeTorrent()
        defer { torrent.storage.close(); try? FileManager.default.removeItem(atPath: dir) }
        torrent.availability = [5, 0, 3, 3]    // others' copies
        let a = peer(10, has: [0, 1, 2, 3], in: torrent)
        let b = peer(11, has: [0, 1, 2, 3], in: torrent)
        let first = try #require(torrent.nextRequest(for: a))
        #expect(first.piece == 1 && first.begin == 0 && first.length == 16384)
        let second = try #require(torrent.nextRequest(for: a))
        #expect(second.piece == 1 && second.begin == 16384)
        // B does not join A's piece while unstarted pieces remain; it takes the next rarest.
        let third = try #require(torrent.nextRequest(for: b))
        #expect([2, 3].contains(third.piece))
        #expect(torrent.partials[1]?.owner == 10)
        #expect(torrent.partials[third.piece]?.owner == 11)
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
