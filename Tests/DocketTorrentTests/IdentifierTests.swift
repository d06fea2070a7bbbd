@testable import DocketTorrent
import Testing

@Suite struct IdentifierTests {
    @Test func infoHashRequiresTwentyBytes() throws {
        #expect(InfoHash(bytes: Array(repeating: 1, count: 19)) == nil)
        let hash = try #require(InfoHash(hex: "0123456789abcdef0123456789abcdef01234567"))
        #expect(hash.bytes.first == 0x01)
        #expect(hash.description == "0123456789abcdef0123456789abcdef01234567")
        #expect(InfoHash(hashingInfo: Array("abc".utf8)).hex == "a9993e364706816aba3e25717850c26c9cd0d89d")
    }

    @Test func peerIDRandomKeepsPrefix() {
        let id = PeerID.random(prefix: PeerID.registrySeederPrefix)
        #expect(id.bytes.count == 20)
        #expect(id.bytes.starts(with: "-DR0010-".utf8))
        #expect(id.isRegistrySeeder)
        #expect(!PeerID.random(prefix: PeerID.clientPrefix).isRegistrySeeder)
        #expect(PeerID.random(prefix: PeerID.clientPrefix).isDocket && id.isDocket)
        #expect(!PeerID.random(prefix: "-A2-1-35-").isDocket)
        #expect(PeerID.random(prefix: "-DK0010-") != PeerID.random(prefix: "-DK0010-"))
        #expect(PeerID(bytes: [1, 2]) == nil)
    }

    @Test func peerAddressNormalises() throws {
        #expect(PeerAddress(host: "::ffff:1.2.3.4", port: 1).host == "1.2.3.4")
        #expect(PeerAddress(host: "2001:0db8:0000:0000:0000:0000:0000:0001", port: 1).host == "2001:db8::1")
        #expect(PeerAddress(host: "not-an-ip", port: 1).host == "not-an-ip")
        #expect(PeerAddress(ipLiteral: "not-an-ip", port: 1) == nil)
        #expect(PeerAddress(ipLiteral: "1.2.3", port: 1) == nil)
        #expect(PeerAddress(host: "::1", port: 6881).description == "[::1]:6881")
        #expect(PeerAddress(host: "10.0.0.1", port: 6881).description == "10.0.0.1:6881")
    }

    @Test func compactRoundTrip() throws {
        let v4 = PeerAddress(host: "192.168.1.20", port: 0x1AE1)
        #expect(v4.compact == [192, 168, 1, 20, 0x1A, 0xE1])
        let v6 = PeerAddress(host: "fe80::1", port: 443)
        #expect(v6.compact.count == 18)
        #expect(PeerAddress.parseCompact(v4.compact + v4.compact, entrySize: 6) == [v4, v4])
        #expect(PeerAddress.parseCompact(v6.compact, entrySize: 18) == [v6])
        #expect(PeerAddress.parseCompact([1, 2, 3], entrySize: 6) == nil)
        #expect(PeerAddress(host: "name", port: 1).compact.isEmpty)
    }
}
