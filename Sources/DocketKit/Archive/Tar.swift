import Foundation

/// One member of a tar archive, as found by `TarReader`. The data itself stays in the file:
/// `dataOffset` and `size` say where.
public struct TarEntry: Sendable, Hashable {
    /// What a tar member is.
    public enum Kind: Sendable, Hashable {
        case file, directory, symlink, hardLink
        /// Anything else (devices, fifos, …), with its typeflag byte.
        case other(UInt8)
    }

    /// Full path: ustar prefix joined with the name, or the PAX `path` / GNU long name when present.
    public var name: String
    /// File, directory, link or other.
    public var kind: Kind
    /// Bytes of data (0 for directories and links).
    public var size: Int64
    /// Where the data starts in the archive file.
    public var dataOffset: Int64
    /// Target of a symlink or hard link; empty otherwise.
    public var linkName: String
    /// Permission bits.
    public var mode: Int
    /// Seconds since 1970.
    public var modificationTime: Int64

    /// Describes one member.
    public init(name: String, kind: Kind, size: Int64, dataOffset: Int64, linkName: String = "", mode: Int = 0o644, modificationTime: Int64 = 0) {
        self.name = name
        self.kind = kind
        self.size = size
        self.dataOffset = dataOffset
        self.linkName = linkName
        self.mode = mode
        self.modificationTime = modificationTime
    }

    /// The name without a leading `./` or `/` and without a trailing `/`, as archives list it differently.
    public var normalizedName: String { TarPath.normalize(name) }
}

/// A tar read or write failure: which archive, where, and what was wrong.
public struct TarError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The archive file.
    public var path: String
    /// Byte offset of the header or data that failed.
    public var offset: Int64
    /// What was wrong.
    public var reason: String

    /// Describes a failure.
    public init(path: String, offset: Int64, reason: String) {
        self.path = path
        self.offset = offset
        self.reason = reason
    }

    public var description: String { "tar archive \(path): \(reason) (at byte \(offset)); the file is damaged or not a tar archive" }
}

enum TarPath {
    static func normalize(_ name: String) -> String {
        var s = Substring(name)
        while s.hasPrefix("./") { s = s.dropFirst(2) }
        while s.hasPrefix("/") { s = s.dropFirst() }
        while s.hasSuffix("/") { s = s.dropLast() }
        return s == "." ? "" : String(s)
    }
}

/// Reads the member list of a tar file (ustar, PAX and GNU long names) without loading member data;
/// data is read on demand with `pread`, so one reader may serve several threads.
public final class TarReader: Sendable {
    /// The archive file.
    public let path: String
    /// Size of the archive file in bytes.
    public let fileSize: Int64
    private let fd: Int32

    static let blockSize: Int64 = 512

    /// Opens the archive; throws `TarError` when it cannot be opened.
    public init(path: String) throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw TarError(path: path, offset: 0, reason: "cannot open: \(String(cString: strerror(errno)))")
        }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            close(fd)
            throw TarError(path: path, offset: 0, reason: "cannot stat: \(String(cString: strerror(errno)))")
        }
        self.path = path
        self.fd = fd
        self.fileSize = Int64(info.st_size)
    }

    deinit { close(fd) }

    /// Every member, in archive order (PAX and GNU long-name records are folded into the next member).
    public func entries() throws -> [TarEntry] {
        var all: [TarEntry] = []
        try forEachEntry { all.append($0); return true }
        return all
    }

    /// Calls `body` for each member in order until it returns false or the archive ends.
    public func forEachEntry(_ body: (TarEntry) throws -> Bool) throws {
        var offset: Int64 = 0
        var pending = PendingExtensions()
        var globalPAX: [String: String] = [:]
        while offset + Self.blockSize <= fileSize {
            let header = try readBytes(at: offset, count: Int(Self.blockSize))
            if header.allSatisfy({ $0 == 0 }) { return }   // end-of-archive marker
            try verifyChecksum(header, at: offset)
            let typeflag = header[156]
            var size = try parseNumber(header[124..<136], field: "size", at: offset)
            let dataOffset = offset + Self.blockSize
            var nextOffset: Int64 { dataOffset + Self.padded(size) }
            switch typeflag {
            case UInt8(ascii: "x"), UInt8(ascii: "g"):
                let records = try parsePAX(try readData(at: dataOffset, count: size), at: offset)
                if typeflag == UInt8(ascii: "g") { globalPAX.merge(records) { $1 } }
                else { pending.pax.merge(records) { $1 } }
                offset = nextOffset
                continue
            case UInt8(ascii: "L"), UInt8(ascii: "K"):
                let text = Self.cString(try readBytes(at: dataOffset, count: Int(min(size, 1 << 20)))[...])
                if typeflag == UInt8(ascii: "L") { pending.longName = text } else { pending.longLink = text }
                offset = nextOffset
                continue
            default:
                break
            }
            let pax = globalPAX.merging(pending.pax) { $1 }
            if let paxSize = pax["size"] {
                guard let value = Int64(paxSize), value >= 0 else {
                    throw TarError(path: path, offset: offset, reason: "invalid PAX size '\(paxSize)'")
                }
                size = value
            }
            var name = Self.cString(header[0..<100])
            let magic = Array(header[257..<263])
            if magic == Array("ustar\0".utf8) {
                let prefix = Self.cString(header[345..<500])
                if !prefix.isEmpty { name = prefix + "/" + name }
            }
            if let long = pending.longName { name = long }
            if let paxPath = pax["path"] { name = paxPath }
            var linkName = Self.cString(header[157..<257])
            if let long = pending.longLink { linkName = long }
            if let paxLink = pax["linkpath"] { linkName = paxLink }
            let kind: TarEntry.Kind = switch typeflag {
            case 0, UInt8(ascii: "0"), UInt8(ascii: "7"): .file
            case UInt8(ascii: "1"): .hardLink
            case UInt8(ascii: "2"): .symlink
            case UInt8(ascii: "5"): .directory
            default: .other(typeflag)
            }
            // Links and directories carry no data even if a size is written.
            let dataSize: Int64 = (kind == .hardLink || kind == .symlink || kind == .directory) ? 0 : size
            guard dataOffset + dataSize <= fileSize else {
                throw TarError(path: path, offset: offset, reason: "member '\(name)' claims \(dataSize) bytes but the archive ends first (truncated)")
            }
            let headerTime = try parseNumber(header[136..<148], field: "mtime", at: offset)
            let entry = TarEntry(
                name: name, kind: kind, size: dataSize, dataOffset: dataOffset, linkName: linkName,
                mode: Int(try parseNumber(header[100..<108], field: "mode", at: offset)),
                modificationTime: pax["mtime"].flatMap { Double($0) }.map { Int64($0) } ?? headerTime)
            pending = PendingExtensions()
            guard try body(entry) else { return }
            offset = dataOffset + Self.padded(dataSize)
        }
        if offset < fileSize || offset == 0 {
            throw TarError(path: path, offset: offset, reason: offset == 0 ? "archive is empty or shorter than one tar block" : "archive ends inside a header block (truncated)")
        }
    }

    /// The whole data of a member; refuses members larger than `maxSize` (default 64 MiB).
    public func data(of entry: TarEntry, maxSize: Int64 = 64 << 20) throws -> Data {
        guard entry.size <= maxSize else {
            throw TarError(path: path, offset: entry.dataOffset, reason: "member '\(entry.name)' is \(entry.size) bytes, more than the \(maxSize) allowed here")
        }
        return try readData(at: entry.dataOffset, count: entry.size)
    }

    /// Streams a member's data in chunks of at most `chunkSize` bytes.
    public func read(_ entry: TarEntry, chunkSize: Int = 1 << 20, _ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        try read(offset: entry.dataOffset, length: entry.size, chunkSize: chunkSize, body)
    }

    /// Streams `length` bytes starting at `offset` in chunks of at most `chunkSize` bytes.
    public func read(offset: Int64, length: Int64, chunkSize: Int = 1 << 20, _ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        guard offset >= 0, length >= 0, offset + length <= fileSize else {
            throw TarError(path: path, offset: offset, reason: "range of \(length) bytes runs past the end of the file (\(fileSize) bytes)")
        }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(1, chunkSize), alignment: 16)
        defer { buffer.deallocate() }
        var position = offset
        let end = offset + length
        while position < end {
            let want = Int(min(Int64(buffer.count), end - position))
            let got = pread(fd, buffer.baseAddress, want, off_t(position))
            if got < 0 {
                if errno == EINTR { continue }
                throw TarError(path: path, offset: position, reason: "read failed: \(String(cString: strerror(errno)))")
            }
            if got == 0 { throw TarError(path: path, offset: position, reason: "unexpected end of file") }
            try body(UnsafeRawBufferPointer(rebasing: buffer[0..<got]))
            position += Int64(got)
        }
    }

    // MARK: - Header fields

    private struct PendingExtensions {
        var pax: [String: String] = [:]
        var longName: String?
        var longLink: String?
    }

    static func padded(_ size: Int64) -> Int64 { (size + blockSize - 1) / blockSize * blockSize }

    static func cString(_ bytes: ArraySlice<UInt8>) -> String {
        let end = bytes.firstIndex(of: 0) ?? bytes.endIndex
        return String(decoding: bytes[bytes.startIndex..<end], as: UTF8.self)
    }

    private func readBytes(at offset: Int64, count: Int) throws -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(count)
        try read(offset: offset, length: Int64(count)) { out.append(contentsOf: $0) }
        return out
    }

    private func readData(at offset: Int64, count: Int64) throws -> Data {
        var out = Data()
        out.reserveCapacity(Int(count))
        try read(offset: offset, length: count) { out.append(contentsOf: $0) }
        return out
    }

    private func verifyChecksum(_ header: [UInt8], at offset: Int64) throws {
        let stored = try parseNumber(header[148..<156], field: "checksum", at: offset)
        var unsigned: Int64 = 0
        var signed: Int64 = 0
        for (i, byte) in header.enumerated() {
            let value = (148..<156).contains(i) ? UInt8(ascii: " ") : byte
            unsigned += Int64(value)
            signed += Int64(Int8(bitPattern: value))
        }
        guard stored == unsigned || stored == signed else {
            throw TarError(path: path, offset: offset, reason: "header checksum mismatch")
        }
    }

    /// Octal (NUL/space padded) or GNU base-256 (high bit of the first byte set).
    private func parseNumber(_ field: ArraySlice<UInt8>, field name: String, at offset: Int64) throws -> Int64 {
        if let first = field.first, first & 0x80 != 0 {
            var value: Int64 = Int64(first & 0x3f)
            for byte in field.dropFirst() {
                guard value < (Int64.max >> 8) else { throw TarError(path: path, offset: offset, reason: "\(name) field too large") }
                value = value << 8 | Int64(byte)
            }
            return value
        }
        var value: Int64 = 0
        var seenDigit = false
        for byte in field {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "7"):
                guard value < (Int64.max >> 3) else { throw TarError(path: path, offset: offset, reason: "\(name) field too large") }
                value = value << 3 | Int64(byte - UInt8(ascii: "0"))
                seenDigit = true
            case 0, UInt8(ascii: " "):
                if seenDigit { return value }
            default:
                throw TarError(path: path, offset: offset, reason: "\(name) field is not an octal number")
            }
        }
        return value
    }

    /// PAX records: `"<length> <key>=<value>\n"`.
    private func parsePAX(_ data: Data, at offset: Int64) throws -> [String: String] {
        var records: [String: String] = [:]
        let bytes = [UInt8](data)
        var index = 0
        while index < bytes.count {
            if bytes[index] == 0 { break }
            guard let space = bytes[index...].firstIndex(of: UInt8(ascii: " ")),
                  let length = Int(String(decoding: bytes[index..<space], as: UTF8.self)),
                  length > 0, index + length <= bytes.count, bytes[index + length - 1] == UInt8(ascii: "\n"),
                  let equals = bytes[(space + 1)..<(index + length)].firstIndex(of: UInt8(ascii: "="))
            else { throw TarError(path: path, offset: offset, reason: "malformed PAX extended header") }
            let key = String(decoding: bytes[(space + 1)..<equals], as: UTF8.self)
            let value = String(decoding: bytes[(equals + 1)..<(index + length - 1)], as: UTF8.self)
            records[key] = value
            index += length
        }
        return records
    }
}
