@testable import DocketTorrent
import Testing

@Suite struct TrackerAnnounceResponseTests {
    private func parse(_ value: BencodeValue) throws -> AnnounceResponse {
        try AnnounceResponse.parse(Bencode.encode(value))
    }

    @Test func compactIPv4AndIPv6() throws {
        let v6 = PeerAddress(host: "2001:db8::7", port: 51413)
        let response = try parse([
            "interval": 1800, "min interval": 60, "complete": 3, "incomplete": 4, "warning message": "slow down",
            "peers": .bytes([10, 0, 0, 1, 0x1A, 0xE1, 192, 168, 0, 9, 0, 80]),
            "peers6": .bytes(v6.compact),
        ])
        #expect(response.interval == 1800)
        #expect(response.minInterval == 60)
        #expect(response.warning == "slow down")
        #expect(response.complete == 3)
        #expect(response.incomplete == 4)
        #expect(response.peers == [PeerAddress(host: "10.0.0.1", port: 6881), PeerAddress(host: "192.168.0.9", port: 80), v6])
    }

    @Test func dictionaryPeersNormaliseMappedIPv6() throws {
        let response = try parse([
            "interval": 30,
            "peers": [
                ["ip": "1.2.3.4", "port": 1000, "peer id": .bytes(Array(repeating: 1, count: 20))],
                ["ip": "::ffff:5.6.7.8", "port": 2000],
                ["ip": "fe80::1", "port": 3000],
                ["ip": "tracker.example", "port": 4000],
                ["ip": "9.9.9.9", "port": 0],
            ],
        ])
        #expect(response.peers.map(\.description) == ["1.2.3.4:1000", "5.6.7.8:2000", "[fe80::1]:3000"])
        #expect(response.minInterval == nil)
        #expect(response.warning == nil)
    }

    @Test func failureReasonAlwaysThrows() {
        #expect(throws: TrackerError.failure("unregistered torrent")) {
            try parse(["failure reason": "unregistered torrent", "interval": 1800, "peers": .bytes([])])
        }
        #expect(throws: TrackerError.failure("no")) { try parse(["failure reason": "no"]) }
    }

    @Test func rejectsMalformed() {
        #expect(throws: TrackerError.invalidResponse("compact 'peers' has 7 bytes, not a multiple of 6")) {
            try parse(["interval": 30, "peers": .bytes(Array(repeating: 1, count: 7))])
        }
        #expect(throws: TrackerError.invalidResponse("'peers6' is not a byte string whose length is a multiple of 18")) {
            try parse(["interval": 30, "peers6": .bytes(Array(repeating: 1, count: 6))])
        }
        #expect(throws: TrackerError.invalidResponse("'interval' is missing or not a non-negative integer")) {
            try parse(["peers": .bytes([])])
        }
        #expect(throws: TrackerError.self) { try AnnounceResponse.parse(Array("<html>".utf8)) }
        #expect(throws: TrackerError.invalidResponse("the top level is not a dictionary")) { try parse([1]) }
    }
}
