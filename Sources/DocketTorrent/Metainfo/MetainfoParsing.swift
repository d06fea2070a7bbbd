extension Metainfo {
    /// Parses a `.torrent` file.
    ///
    /// Checks the info dictionary fully: `piece length` positive, `pieces` a multiple of 20
    /// bytes matching the piece count of the total length, either `length` or `files`,
    /// lengths non-negative Int64, path elements and the name safe to join to a directory.
    /// - Throws: `MetainfoError` naming the offending key.
    public static func parse(_ bytes: [UInt8]) throws -> Metainfo {
        let decoded: (value: BencodeValue, spans: [[UInt8]: Range<Int>])
        do {
            decoded = try Bencode.decodeRecordingSpans(bytes)
        } catch let error as BencodeError {
            throw MetainfoError.malformed(error)
        }
        guard case .dictionary(let top) = decoded.value else {
            throw MetainfoError.wrongType(field: "(top level)", expected: "a dictionary")
        }
        guard let infoValue = top[Array("info".utf8)], let infoSpan = decoded.spans[Array("info".utf8)] else {
            throw MetainfoError.missingField("info")
        }
        guard case .dictionary = infoValue else { throw MetainfoError.wrongType(field: "info", expected: "a dictionary") }
        let info = Fields(value: infoValue, prefix: "info.")
        let outer = Fields(value: decoded.value, prefix: "")

        let name = try info.string("name")
        if let problem = problem(withPathElement: name) { throw MetainfoError.invalidValue(field: "info.name", reason: problem) }
        let pieceLength = try info.integer("piece length")
        guard pieceLength > 0, pieceLength <= 1 << 30 else {
            throw MetainfoError.invalidValue(field: "info.piece length", reason: "must be between 1 and 2^30, got \(pieceLength)")
        }
        let (files, isMultiFile) = try parseFiles(info, name: name)
        let total = try files.reduce(Int64(0)) { sum, file in
            let (next, overflow) = sum.addingReportingOverflow(file.length)
            guard !overflow else { throw MetainfoError.invalidValue(field: "info.files", reason: "total length overflows 64 bits") }
            return next
        }
        let pieces = try info.bytes("pieces")
        let expectedCount = total == 0 ? 0 : (total - 1) / pieceLength + 1
        guard pieces.count % 20 == 0, Int64(pieces.count / 20) == expectedCount else {
            throw MetainfoError.invalidValue(
                field: "info.pieces",
                reason: "has \(pieces.count) bytes; \(total) bytes in pieces of \(pieceLength) need \(expectedCount) hashes of 20 bytes")
        }
        let hashes = stride(from: 0, to: pieces.count, by: 20).map { Array(pieces[$0..<$0 + 20]) }

        return Metainfo(
            name: name, pieceLength: Int(pieceLength), pieceHashes: hashes, files: files,
            isPrivate: info.value["private"]?.integer == 1, rawInfo: Array(bytes[infoSpan]), isMultiFile: isMultiFile,
            announce: try outer.optionalString("announce"), announceList: try parseAnnounceList(outer),
            urlList: try parseURLList(outer))
    }

    private static func parseFiles(_ info: Fields, name: String) throws -> ([FileEntry], Bool) {
        let hasLength = info.value["length"] != nil
        let hasFiles = info.value["files"] != nil
        guard hasLength != hasFiles else {
            throw MetainfoError.invalidValue(field: "info", reason: "must have exactly one of 'length' (one file) or 'files' (several)")
        }
        if hasLength {
            let length = try info.integer("length")
            guard length >= 0 else { throw MetainfoError.invalidValue(field: "info.length", reason: "is negative: \(length)") }
            return ([FileEntry(path: [name], length: length)], false)
        }
        guard let list = info.value["files"]?.list else { throw MetainfoError.wrongType(field: "info.files", expected: "a list") }
        guard !list.isEmpty else { throw MetainfoError.invalidValue(field: "info.files", reason: "is empty") }
        let files = try list.enumerated().map { index, value in
            guard case .dictionary = value else {
                throw MetainfoError.wrongType(field: "info.files[\(index)]", expected: "a dictionary")
            }
            let file = Fields(value: value, prefix: "info.files[\(index)].")
            let length = try file.integer("length")
            guard length >= 0 else { throw MetainfoError.invalidValue(field: file.prefix + "length", reason: "is negative: \(length)") }
            guard let elements = value["path"]?.list else { throw MetainfoError.wrongType(field: file.prefix + "path", expected: "a list of strings") }
            guard !elements.isEmpty else { throw MetainfoError.invalidValue(field: file.prefix + "path", reason: "is empty") }
            let path = try elements.map { element in
                guard let text = element.string else { throw MetainfoError.wrongType(field: file.prefix + "path", expected: "a list of UTF-8 strings") }
                if let problem = problem(withPathElement: text) { throw MetainfoError.invalidValue(field: file.prefix + "path", reason: problem) }
                return text
            }
            return FileEntry(path: path, length: length)
        }
        return (files, true)
    }

    /// BEP 12 tiers; empty tiers are dropped.
    private static func parseAnnounceList(_ outer: Fields) throws -> [[String]] {
        guard let value = outer.value["announce-list"] else { return [] }
        guard let tiers = value.list else { throw MetainfoError.wrongType(field: "announce-list", expected: "a list of lists of strings") }
        return try tiers.compactMap { tier in
            guard let urls = tier.list?.map(\.string), !urls.contains(nil) else {
                throw MetainfoError.wrongType(field: "announce-list", expected: "a list of lists of strings")
            }
            let kept = urls.compactMap { $0 }.filter { !$0.isEmpty }
            return kept.isEmpty ? nil : kept
        }
    }

    /// BEP 19 web seeds: one string or a list of strings; empty strings are dropped.
    private static func parseURLList(_ outer: Fields) throws -> [String] {
        guard let value = outer.value["url-list"] else { return [] }
        if let single = value.string { return single.isEmpty ? [] : [single] }
        guard let urls = value.list?.map(\.string), !urls.contains(nil) else {
            throw MetainfoError.wrongType(field: "url-list", expected: "a string or a list of strings")
        }
        return urls.compactMap { $0 }.filter { !$0.isEmpty }
    }
}

/// Typed access to one dictionary's keys, throwing `MetainfoError`s that name the full key path.
private struct Fields {
    let value: BencodeValue
    let prefix: String

    func integer(_ key: String) throws -> Int64 {
        guard let entry = value[key] else { throw MetainfoError.missingField(prefix + key) }
        guard let number = entry.integer else { throw MetainfoError.wrongType(field: prefix + key, expected: "an integer") }
        return number
    }

    func bytes(_ key: String) throws -> [UInt8] {
        guard let entry = value[key] else { throw MetainfoError.missingField(prefix + key) }
        guard let bytes = entry.bytes else { throw MetainfoError.wrongType(field: prefix + key, expected: "a byte string") }
        return bytes
    }

    func string(_ key: String) throws -> String {
        guard let text = try optionalString(key) else { throw MetainfoError.missingField(prefix + key) }
        return text
    }

    func optionalString(_ key: String) throws -> String? {
        guard let entry = value[key] else { return nil }
        guard let text = entry.string else { throw MetainfoError.wrongType(field: prefix + key, expected: "a UTF-8 string") }
        return text
    }
}
