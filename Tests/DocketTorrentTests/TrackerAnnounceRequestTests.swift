@testable import DocketTorrent
import Testing

@Suite struct TrackerAnnounceRequestTests {
    private let hash = InfoHash(bytes: [0x20, 0x2B, 0x2F, 0x41, 0x7E, 0x2E, 0x2D, 0x5F, 0x00, 0xFF, 0x25, 0x26, 0x3D, 0x3F, 0x61, 0x7A, 0x30, 0x39, 0x80, 0x0A])!
    private let peer = PeerID(bytes: Array("-DK0010-abc+/ %12345".utf8))!

    @Test func percentEncodesEveryByteOutsideUnreserved() {
        let request = AnnounceRequest(infoHash: hash, peerID: peer, port: 6881, uploaded: 1, downloaded: 2, left: 5_000_000_000)
        #expect(request.url(base: "http://t.example/announce") ==
            "http://t.example/announce?info_hash=%20%2B%2FA~.-_%00%FF%25%26%3D%3Faz09%80%0A"
            + "&peer_id=-DK0010-abc%2B%2F%20%2512345&port=6881&uploaded=1&downloaded=2&left=5000000000&compact=1")
    }

    @Test func appendsToABaseWithAQuery() {
        let request = AnnounceRequest(infoHash: hash, peerID: peer, port: 1, uploaded: 0, downloaded: 0, left: 0, event: .started, numWant: 30)
        let url = request.url(base: "http://t/announce?passkey=abc")
        #expect(url.hasPrefix("http://t/announce?passkey=abc&info_hash=%20%2B%2F"))
        #expect(url.hasSuffix("&compact=1&event=started&numwant=30"))
        #expect(request.url(base: "http://t/announce?").hasPrefix("http://t/announce?info_hash="))
        #expect(request.url(base: "http://t/announce?a=1&").hasPrefix("http://t/announce?a=1&info_hash="))
    }

    @Test func encodedQueryDecodesBackToTheSameBytes() throws {
        let url = AnnounceRequest(infoHash: hash, peerID: peer, port: 9, uploaded: 0, downloaded: 0, left: 7, event: .completed).url(base: "http://t/a")
        let query = String(url.split(separator: "?", maxSplits: 1)[1])
        let parsed = try TrackerQuery(rawQuery: query)
        #expect(parsed.infoHash == hash)
        #expect(parsed.peerID == peer)
        #expect(parsed.port == 9)
        #expect(parsed.left == 7)
        #expect(parsed.event == .completed)
    }
}
