// Stands in for DocketCore in the fuzz builds, which compile the DocketTorrent codecs alone (without
// OpenSSL and libcurl). The fuzzers check that parsing never crashes, so the info-hash need not be
// a real SHA-1: `Hasher.sha1` here is a fixed-size placeholder, never used outside fuzz/.
public enum Hasher {
    public static func sha1(_ bytes: some Collection<UInt8>) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 20)
        for (index, byte) in bytes.enumerated() { out[index % 20] ^= byte }
        return out
    }
}

public enum Hex {
    public static func encode(_ bytes: some Sequence<UInt8>) -> String {
        bytes.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
    }

    public static func decode(_ string: String) -> [UInt8]? {
        let characters = Array(string.utf8)
        guard characters.count % 2 == 0 else { return nil }
        var out: [UInt8] = []
        for index in stride(from: 0, to: characters.count, by: 2) {
            guard let byte = UInt8(String(decoding: characters[index..<index + 2], as: UTF8.self), radix: 16) else { return nil }
            out.append(byte)
        }
        return out
    }
}
