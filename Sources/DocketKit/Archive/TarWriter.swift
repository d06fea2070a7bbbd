import Foundation

/// Streams a ustar archive to a `FileHandle`: regular files (from a path or from memory) and
/// directories. Names longer than ustar allows (and sizes of 8 GiB or more) get a PAX header.
/// Output is deterministic: mtime, uid and gid default to 0. Call `finish()` to write the two
/// zero blocks that end the archive; the handle stays open.
public struct TarWriter: Sendable {
    /// Where the archive goes.
    public let handle: FileHandle
    /// Bytes written so far.
    public private(set) var offset: Int64 = 0

    /// Writes from the handle's current position.
    public init(handle: FileHandle) {
        self.handle = handle
    }

    /// Creates (or truncates) the file at `path`, lets `build` add members, and finishes the archive.
    public static func write(toFileAt path: String, _ build: (inout TarWriter) throws -> Void) throws {
        guard FileManager.default.createFile(atPath: path, contents: nil) else {
            throw TarError(path: path, offset: 0, reason: "cannot create the file: \(String(cString: strerror(errno)))")
        }
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        defer { try? handle.close() }
        var writer = TarWriter(handle: handle)
        try build(&writer)
        try writer.finish()
    }

    /// Adds a regular file with the given bytes.
    public mutating func addFile(name: String, data: Data, mode: Int = 0o644, modificationTime: Int64 = 0) throws {
        try writeHeader(name: name, typeflag: UInt8(ascii: "0"), size: Int64(data.count), mode: mode, modificationTime: modificationTime)
        try write(data)
        try pad(Int64(data.count))
    }

    /// Adds a regular file whose bytes are streamed from `path` in 1 MiB reads.
    public mutating func addFile(name: String, contentsOf path: String, mode: Int = 0o644, modificationTime: Int64 = 0) throws {
        let source = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
        defer { try? source.close() }
        let size = Int64(try source.seekToEnd())
        try source.seek(toOffset: 0)
        try writeHeader(name: name, typeflag: UInt8(ascii: "0"), size: size, mode: mode, modificationTime: modificationTime)
        var copied: Int64 = 0
        while copied < size, let chunk = try source.read(upToCount: Int(min(1 << 20, size - copied))), !chunk.isEmpty {
            try write(chunk)
            copied += Int64(chunk.count)
        }
        guard copied == size else {
            throw TarError(path: path, offset: copied, reason: "file shrank while being archived (expected \(size) bytes)")
        }
        try pad(size)
    }

    /// Adds a directory entry (the name gets a trailing `/`).
    public mutating func addDirectory(name: String, mode: Int = 0o755, modificationTime: Int64 = 0) throws {
        let dirName = name.hasSuffix("/") ? name : name + "/"
        try writeHeader(name: dirName, typeflag: UInt8(ascii: "5"), size: 0, mode: mode, modificationTime: modificationTime)
    }

    /// Adds a symbolic link.
    public mutating func addSymlink(name: String, target: String) throws {
        try writeHeader(name: name, typeflag: UInt8(ascii: "2"), size: 0, mode: 0o777, modificationTime: 0, linkName: target)
    }

    /// Writes the end-of-archive marker (two zero blocks).
    public mutating func finish() throws {
        try write(Data(count: 1024))
    }

    // MARK: - Blocks

    private static let maxOctalSize: Int64 = 0o77777777777   // 11 octal digits

    private mutating func writeHeader(name: String, typeflag: UInt8, size: Int64, mode: Int, modificationTime: Int64, linkName: String = "") throws {
        var pax: [(String, String)] = []
        let split = Self.splitUSTAR(name)
        if split == nil { pax.append(("path", name)) }
        if linkName.utf8.count > 100 { pax.append(("linkpath", linkName)) }
        if size > Self.maxOctalSize { pax.append(("size", String(size))) }
        if !pax.isEmpty {
            let records = Self.paxRecords(pax)
            let paxName = "PaxHeaders.0/" + String((name.split(separator: "/").last ?? "entry").prefix(80))
            try write(Self.header(name: paxName, prefix: "", typeflag: UInt8(ascii: "x"), size: Int64(records.count), mode: 0o644, modificationTime: modificationTime, linkName: ""))
            try write(records)
            try pad(Int64(records.count))
        }
        let (prefix, shortName) = split ?? ("", String(decoding: name.utf8.suffix(100), as: UTF8.self))
        try write(Self.header(name: shortName, prefix: prefix, typeflag: typeflag, size: size > Self.maxOctalSize ? 0 : size, mode: mode,
                              modificationTime: modificationTime, linkName: String(decoding: linkName.utf8.prefix(100), as: UTF8.self)))
    }

    /// Splits a name into ustar (prefix ≤ 155, name ≤ 100) at a `/`; nil when it cannot fit.
    static func splitUSTAR(_ name: String) -> (String, String)? {
        let bytes = Array(name.utf8)
        if bytes.count <= 100 { return ("", name) }
        guard bytes.count <= 256 else { return nil }
        for i in bytes.indices where bytes[i] == UInt8(ascii: "/") {
            let prefix = bytes[..<i], rest = bytes[(i + 1)...]
            if prefix.count <= 155, rest.count <= 100, !rest.isEmpty {
                return (String(decoding: prefix, as: UTF8.self), String(decoding: rest, as: UTF8.self))
            }
        }
        return nil
    }

    static func paxRecords(_ pairs: [(String, String)]) -> Data {
        var out = Data()
        for (key, value) in pairs {
            let body = " \(key)=\(value)\n"
            let bodyLength = body.utf8.count
            // The length prefix counts its own digits.
            var length = bodyLength + 1
            while String(length).count + bodyLength != length { length = String(length).count + bodyLength }
            out.append(Data("\(length)\(body)".utf8))
        }
        return out
    }

    static func header(name: String, prefix: String, typeflag: UInt8, size: Int64, mode: Int, modificationTime: Int64, linkName: String) -> Data {
        var block = [UInt8](repeating: 0, count: 512)
        func put(_ string: String, at offset: Int, width: Int) {
            for (i, byte) in string.utf8.prefix(width).enumerated() { block[offset + i] = byte }
        }
        func octal(_ value: Int64, at offset: Int, width: Int) {
            let digits = String(value, radix: 8)
            put(String(repeating: "0", count: max(0, width - 1 - digits.count)) + digits, at: offset, width: width - 1)
        }
        put(name, at: 0, width: 100)
        octal(Int64(mode), at: 100, width: 8)
        octal(0, at: 108, width: 8)
        octal(0, at: 116, width: 8)
        octal(size, at: 124, width: 12)
        octal(max(0, modificationTime), at: 136, width: 12)
        block[156] = typeflag
        put(linkName, at: 157, width: 100)
        put("ustar\0", at: 257, width: 6)
        put("00", at: 263, width: 2)
        put(prefix, at: 345, width: 155)
        for i in 148..<156 { block[i] = UInt8(ascii: " ") }
        let sum = block.reduce(0) { $0 + Int64($1) }
        let digits = String(sum, radix: 8)
        put(String(repeating: "0", count: max(0, 6 - digits.count)) + digits, at: 148, width: 6)
        block[154] = 0
        block[155] = UInt8(ascii: " ")
        return Data(block)
    }

    private mutating func write(_ data: Data) throws {
        try handle.write(contentsOf: data)
        offset += Int64(data.count)
    }

    private mutating func pad(_ size: Int64) throws {
        let remainder = Int(size % 512)
        if remainder != 0 { try write(Data(count: 512 - remainder)) }
    }
}
