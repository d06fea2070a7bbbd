@testable import DocketTorrent
import Testing

@Suite struct TrackerSwarmsTests {
    private let hash = InfoHash(bytes: [0x20, 0x2B, 0x2F] + Array(repeating: 0x41, count: 17))!

    private final class Clock: @unchecked Sendable {
        var now: Double = 1000
    }

    private func query(peer: String, port: Int = 6881, left: Int = 100, extra: String = "", hash: InfoHash? = nil) -> String {
        let id = PeerID(bytes: Array(peer.utf8.prefix(20)) + Array(repeating: UInt8(ascii: "x"), count: max(0, 20 - peer.utf8.count)))!
        return "info_hash=\(PercentEncoding.encode((hash ?? self.hash).bytes))&peer_id=\(PercentEncoding.encode(id.bytes))&port=\(port)&uploaded=0&downloaded=0&left=\(left)&compact=1" + extra
    }

    private func answer(_ swarms: TrackerSwarms, _ query: String, ip: String = "10.0.0.1", extra: [PeerAddress] = []) -> BencodeValue {
        (try? Bencode.decode(swarms.announce(rawQuery: query, clientIP: ip, extraPeers: { _ in extra }))) ?? [:]
    }

    private func peers(_ value: BencodeValue) -> [PeerAddress] {
        (PeerAddress.parseCompact(value["peers"]?.bytes ?? [], entrySize: 6) ?? [])
            + (PeerAddress.parseCompact(value["peers6"]?.bytes ?? [], entrySize: 18) ?? [])
    }

    @Test func firstPeerSeesOnlyExtras() {
        let swarms = TrackerSwarms(interval: 30)
        let seeder = PeerAddress(host: "192.168.1.1", port: 7000)
        let value = answer(swarms, query(peer: "-DK0010-a"), extra: [seeder])
        #expect(value["interval"]?.integer == 30)
        #expect(value["complete"]?.integer == 0)
        #expect(value["incomplete"]?.integer == 1)
        #expect(peers(value) == [seeder])
        #expect(value["peers6"]?.bytes == [])
        #expect(swarms.swarmSize(hash) == 1)
    }

    @Test func peersSeeEachOtherButNeverThemselves() {
        let swarms = TrackerSwarms()
        let seeder = PeerAddress(host: "192.168.1.1", port: 7000)
        _ = answer(swarms, query(peer: "-DK0010-a", port: 1111), ip: "10.0.0.1")
        _ = answer(swarms, query(peer: "-DK0010-b", port: 2222, left: 0), ip: "::ffff:10.0.0.2")
        let value = answer(swarms, query(peer: "-DK0010-c", port: 3333), ip: "2001:db8::3", extra: [seeder])
        let got = peers(value)
        #expect(got.first == seeder)
        #expect(Set(got) == [seeder, PeerAddress(host: "10.0.0.1", port: 1111), PeerAddress(host: "10.0.0.2", port: 2222)])
        #expect(value["complete"]?.integer == 1)
        #expect(value["incomplete"]?.integer == 2)
        // A re-announce of `a` lists b, c and the seeder, not a.
        let again = peers(answer(swarms, query(peer: "-DK0010-a", port: 1111), ip: "10.0.0.1", extra: [seeder]))
        #expect(Set(again) == [seeder, PeerAddress(host: "10.0.0.2", port: 2222), PeerAddress(host: "2001:db8::3", port: 3333)])
        #expect(swarms.swarmSize(hash) == 3)
    }

    @Test func askingSeederIsNotReturnedToItself() {
        let swarms = TrackerSwarms()
        let seeder = PeerAddress(host: "10.0.0.9", port: 7000)
        let value = answer(swarms, query(peer: "-DR0010-s", port: 7000, left: 0), ip: "10.0.0.9", extra: [seeder])
        #expect(peers(value).isEmpty)
    }

    @Test func stoppedRemovesAndExpiryDrops() {
        let clock = Clock()
        let swarms = TrackerSwarms(interval: 30, now: { clock.now })
        _ = answer(swarms, query(peer: "-DK0010-a"))
        _ = answer(swarms, query(peer: "-DK0010-b"), ip: "10.0.0.2")
        #expect(swarms.swarmSize(hash) == 2)
        _ = answer(swarms, query(peer: "-DK0010-b", extra: "&event=stopped"), ip: "10.0.0.2")
        #expect(swarms.swarmSize(hash) == 1)
        clock.now += 60
        #expect(swarms.swarmSize(hash) == 1)
        clock.now += 1
        #expect(swarms.swarmSize(hash) == 0)
        let fresh = answer(swarms, query(peer: "-DK0010-c"), ip: "10.0.0.3")
        #expect(peers(fresh).isEmpty)
        #expect(swarms.swarmSize(hash) == 1)
    }

    @Test func ipParameterOnlyWhenLiteral() {
        let swarms = TrackerSwarms()
        _ = answer(swarms, query(peer: "-DK0010-a", port: 1, extra: "&ip=172.16.0.5"), ip: "10.0.0.1")
        _ = answer(swarms, query(peer: "-DK0010-b", port: 2, extra: "&ip=evil.example"), ip: "10.0.0.2")
        let got = Set(peers(answer(swarms, query(peer: "-DK0010-c", port: 3), ip: "10.0.0.3")))
        #expect(got == [PeerAddress(host: "172.16.0.5", port: 1), PeerAddress(host: "10.0.0.2", port: 2)])
    }

    @Test func plusIsNotASpaceInBinaryFields() {
        let swarms = TrackerSwarms()
        let plusHash = InfoHash(bytes: Array(repeating: UInt8(ascii: "+"), count: 20))!
        let raw = "info_hash=" + String(repeating: "+", count: 20) + "&peer_id=-DK0010-" + String(repeating: "+", count: 12) + "&port=5"
        _ = swarms.announce(rawQuery: raw, clientIP: "10.0.0.1", extraPeers: { _ in [] })
        #expect(swarms.swarmSize(plusHash) == 1)
    }

    @Test func extraPeersAreAskedForTheAnnouncedHash() {
        let swarms = TrackerSwarms()
        let seen = LockedCount()
        _ = swarms.announce(rawQuery: query(peer: "-DK0010-a"), clientIP: "10.0.0.1") { asked in
            seen.hash = asked
            return []
        }
        #expect(seen.hash == hash)
    }

    private final class LockedCount: @unchecked Sendable {
        var hash: InfoHash?
    }

    @Test(arguments: [
        ("peer_id=-DK0010-aaaaaaaaaaaa&port=1", "missing parameter 'info_hash'"),
        ("info_hash=abc&peer_id=-DK0010-aaaaaaaaaaaa&port=1", "invalid parameter 'info_hash': expected 20 bytes, got 3"),
        ("info_hash=%41%41%41%41%41%41%41%41%41%41%41%41%41%41%41%41%41%41%41%4&peer_id=-DK0010-aaaaaaaaaaaa&port=1", "malformed percent-encoding in parameter 'info_hash'"),
        ("info_hash=AAAAAAAAAAAAAAAAAAAA&port=1", "missing parameter 'peer_id'"),
        ("info_hash=AAAAAAAAAAAAAAAAAAAA&peer_id=short&port=1", "invalid parameter 'peer_id': expected 20 bytes, got 5"),
        ("info_hash=AAAAAAAAAAAAAAAAAAAA&peer_id=-DK0010-aaaaaaaaaaaa", "missing parameter 'port'"),
        ("info_hash=AAAAAAAAAAAAAAAAAAAA&peer_id=-DK0010-aaaaaaaaaaaa&port=0", "invalid parameter 'port': expected 1-65535"),
        ("info_hash=AAAAAAAAAAAAAAAAAAAA&peer_id=-DK0010-aaaaaaaaaaaa&port=65536", "invalid parameter 'port': expected 1-65535"),
        ("info_hash=AAAAAAAAAAAAAAAAAAAA&peer_id=-DK0010-aaaaaaaaaaaa&port=x", "invalid parameter 'port': expected 1-65535"),
        ("info_hash=AAAAAAAAAAAAAAAAAAAA&peer_id=-DK0010-aaaaaaaaaaaa&port=1&left=-5", "invalid parameter 'left': expected a non-negative integer"),
        ("info_hash=AAAAAAAAAAAAAAAAAAAA&peer_id=-DK0010-aaaaaaaaaaaa&port=1&event=paused", "invalid parameter 'event': expected started, completed or stopped"),
    ])
    func failuresNameTheParameter(_ raw: String, _ reason: String) {
        let swarms = TrackerSwarms()
        let value = answer(swarms, raw)
        #expect(value["failure reason"]?.string == reason)
        #expect(throws: TrackerError.failure(reason)) {
            try AnnounceResponse.parse(swarms.announce(rawQuery: raw, clientIP: "10.0.0.1", extraPeers: { _ in [] }))
        }
    }

    @Test func answerParsesWithAnnounceResponse() throws {
        let swarms = TrackerSwarms(interval: 30)
        _ = answer(swarms, query(peer: "-DK0010-a", port: 1111), ip: "fe80::5")
        let bytes = swarms.announce(rawQuery: query(peer: "-DK0010-b"), clientIP: "10.0.0.2", extraPeers: { _ in [] })
        let response = try AnnounceResponse.parse(bytes)
        #expect(response.interval == 30)
        #expect(response.peers == [PeerAddress(host: "fe80::5", port: 1111)])
    }

    @Test func concurrentAnnouncesAreSafe() async {
        let swarms = TrackerSwarms()
        await withTaskGroup(of: Void.self) { group in
            for index in 0..<200 {
                group.addTask {
                    _ = swarms.announce(rawQuery: self.query(peer: "-DK0010-\(index)"), clientIP: "10.0.\(index / 250).\(index % 250 + 1)", extraPeers: { _ in [] })
                }
            }
        }
        #expect(swarms.swarmSize(hash) == 200)
    }
}
