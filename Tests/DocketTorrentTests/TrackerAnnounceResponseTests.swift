@testable import DocketTorrent
import Foundation
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

    /// An IPv4-mapped IPv6 string from a dictionary list, in any spelling, is the IPv4 peer: it is
    /// dialled over IPv4 and sent on as 6 compact bytes.
    @Test func mappedIPv6PeerBecomesIPv4() throws {
        let response = try parse([
            "interval": 30,
            "peers": [
                ["ip": "::ffff:10.1.2.3", "port": 6881],
                ["ip": "::FFFF:10.1.2.4", "port": 6882],
                ["ip": "0:0:0:0:0:ffff:a01:205", "port": 6883],
            ],
        ])
        #expect(response.peers.map(\.host) == ["10.1.2.3", "10.1.2.4", "10.1.2.5"])
        #expect(response.peers.allSatisfy { !$0.isIPv6 && $0.addressBytes.count == 4 })
        #expect(response.peers[0].compact == [10, 1, 2, 3, 0x1A, 0xE1])
        #expect(response.peers[0] == PeerAddress(host: "10.1.2.3", port: 6881))
        #expect(try Sockets.sockaddrStorage(for: response.peers[0]).ss_family == sa_family_t(AF_INET))
    }

    /// A mapped address inside compact `peers6` is the IPv4 peer too.
    @Test func mappedAddressInCompactPeers6BecomesIPv4() throws {
        let mapped: [UInt8] = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 1, 2, 3, 0x1A, 0xE1]
        let response = try parse(["interval": 30, "peers6": .bytes(mapped)])
        #expect(response.peers == [PeerAddress(host: "10.1.2.3", port: 6881)])
        #expect(response.peers.first?.isIPv6 == false)
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
