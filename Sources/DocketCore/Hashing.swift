import COpenSSL
import Foundation

/// An incremental hash over OpenSSL's EVP interface. The only file that imports `COpenSSL`.
public struct Hasher: ~Copyable {
    /// The algorithms Docket uses: SHA-1 for BitTorrent pieces and info-hashes, SHA-256 for content digests.
    public enum Algorithm: Sendable {
        case sha1, sha256

        var digestLength: Int { self == .sha1 ? 20 : 32 }
    }

    private let context: OpaquePointer

    public init(_ algorithm: Algorithm) {
        guard let context = EVP_MD_CTX_new() else { fatalError("OpenSSL could not allocate a digest context") }
        let md = algorithm == .sha1 ? EVP_sha1() : EVP_sha256()
        guard EVP_DigestInit_ex(context, md, nil) == 1 else { fatalError("OpenSSL digest init failed") }
        self.context = context
    }

    deinit { EVP_MD_CTX_free(context) }

    public mutating func update(_ buffer: UnsafeRawBufferPointer) {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return }
        _ = EVP_DigestUpdate(context, base, buffer.count)
    }

    public mutating func update(_ bytes: some ContiguousBytes) {
        bytes.withUnsafeBytes { update($0) }
    }

    /// Ends the hash and returns the digest bytes.
    public consuming func finalize() -> [UInt8] {
        var out = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        _ = EVP_DigestFinal_ex(context, &out, &length)
        return Array(out.prefix(Int(length)))
    }

    public static func sha1(_ bytes: some ContiguousBytes) -> [UInt8] {
        var hasher = Hasher(.sha1)
        hasher.update(bytes)
        return hasher.finalize()
    }

    public static func sha256(_ bytes: some ContiguousBytes) -> [UInt8] {
        var hasher = Hasher(.sha256)
        hasher.update(bytes)
        return hasher.finalize()
    }
}

public enum Hex {
    private static let digits = Array("0123456789abcdef".utf8)

    public static func encode(_ bytes: some Sequence<UInt8>) -> String {
        var out = [UInt8]()
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Decodes lowercase or uppercase hex; nil on odd length or a non-hex character.
    public static func decode(_ string: String) -> [UInt8]? {
        let chars = Array(string.utf8)
        guard chars.count % 2 == 0 else { return nil }
        var out = [UInt8]()
        out.reserveCapacity(chars.count / 2)
        var index = 0
        while index < chars.count {
            guard let high = value(chars[index]), let low = value(chars[index + 1]) else { return nil }
            out.append(high << 4 | low)
            index += 2
        }
        return out
    }

    private static func value(_ c: UInt8) -> UInt8? {
        switch c {
        case 0x30...0x39: c - 0x30
        case 0x61...0x66: c - 0x61 + 10
        case 0x41...0x46: c - 0x41 + 10
        default: nil
        }
    }
}
