import DocketCore
import Foundation
import Testing

@Suite struct HashingTests {
    @Test func sha1KnownVector() {
        #expect(Hex.encode(Hasher.sha1(Data("abc".utf8))) == "a9993e364706816aba3e25717850c26c9cd0d89d")
    }

    @Test func sha256KnownVector() {
        #expect(Hex.encode(Hasher.sha256(Data("abc".utf8))) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }

    @Test func incrementalEqualsOneShot() {
        var hasher = Hasher(.sha256)
        hasher.update(Data("a".utf8))
        hasher.update(Data("bc".utf8))
        #expect(hasher.finalize() == Hasher.sha256(Data("abc".utf8)))
    }

    @Test func hexRoundTripAndRejects() {
        #expect(Hex.decode("00ff7A") == [0x00, 0xff, 0x7a])
        #expect(Hex.decode("abc") == nil)
        #expect(Hex.decode("zz") == nil)
    }
}

@Suite struct DigestTests {
    @Test func parsesValidDigest() throws {
        let d = try Digest(parsing: "sha256:" + String(repeating: "a", count: 64))
        #expect(d.hex.count == 64)
        #expect(d.description.hasPrefix("sha256:"))
    }

    @Test(arguments: ["sha256:abc", "md5:" + String(repeating: "a", count: 64), "sha256:" + String(repeating: "A", count: 64), "nocolon"])
    func rejectsInvalid(_ s: String) {
        #expect(throws: Digest.ParseError.self) { try Digest(parsing: s) }
    }

    @Test func fileDigestMatchesDataDigest() throws {
        let path = NSTemporaryDirectory() + "/digest-\(UUID().uuidString)"
        let data = Data((0..<3_000_000).map { UInt8($0 % 251) })
        try data.write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(try Digest.sha256(ofFileAt: path) == Digest.sha256(of: data))
    }
}
