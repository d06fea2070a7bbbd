/// A parsed BitTorrent v1 metainfo (`.torrent`) file (BEP 3, with BEP 12 `announce-list`,
/// BEP 19 `url-list` and BEP 27 `private`).
///
/// The info dictionary is kept exactly as received in `rawInfo`, and `infoHash` is the SHA-1
/// of those bytes, so a torrent whose info dictionary is not canonical keeps its identity.
public struct Metainfo: Sendable, Equatable {
    /// The suggested name: the file name (single file) or the top directory (multi-file).
    public let name: String
    /// Bytes per piece; every piece but the last has exactly this size.
    public let pieceLength: Int
    /// The SHA-1 of each piece, 20 bytes each.
    public let pieceHashes: [[UInt8]]
    /// The files in torrent order; a single-file torrent has one entry with path `[name]`.
    public let files: [FileEntry]
    /// Whether the torrent is private (BEP 27): peers only from its trackers.
    public let isPrivate: Bool
    /// The sum of all file lengths.
    public let totalLength: Int64
    /// The SHA-1 of `rawInfo`.
    public let infoHash: InfoHash
    /// The info dictionary's bytes exactly as they appeared in the parsed input.
    public let rawInfo: [UInt8]
    /// Whether the info dictionary used the multi-file (`files`) layout.
    public let isMultiFile: Bool
    /// The main tracker URL.
    public var announce: String?
    /// Tracker tiers (BEP 12); empty when absent.
    public var announceList: [[String]]
    /// Web seed URLs (BEP 19); empty when absent.
    public var urlList: [String]

    /// The number of pieces.
    public var pieceCount: Int { pieceHashes.count }

    /// The size of piece `index`: `pieceLength`, except for a shorter last piece.
    public func pieceSize(_ index: Int) -> Int {
        precondition(index >= 0 && index < pieceCount, "piece index \(index) out of range 0..<\(pieceCount)")
        let start = Int64(index) * Int64(pieceLength)
        return Int(min(Int64(pieceLength), totalLength - start))
    }

    /// This metainfo with other trackers and web seeds; the info dictionary, and so the info-hash, is unchanged.
    public func with(announce: String?, announceList: [[String]], urlList: [String]) -> Metainfo {
        var copy = self
        copy.announce = announce
        copy.announceList = announceList
        copy.urlList = urlList
        return copy
    }

    /// The bencoded file: `announce`, `announce-list`, `url-list` (each only when set) and
    /// `info` copied byte for byte from `rawInfo`. Other keys of a parsed file are not kept.
    public func encoded() -> [UInt8] {
        var entries: [[UInt8]: BencodeValue] = [:]
        if let announce { entries[Array("announce".utf8)] = .bytes(Array(announce.utf8)) }
        if !announceList.isEmpty {
            entries[Array("announce-list".utf8)] = .list(announceList.map { .list($0.map { .bytes(Array($0.utf8)) }) })
        }
        if !urlList.isEmpty {
            entries[Array("url-list".utf8)] = .list(urlList.map { .bytes(Array($0.utf8)) })
        }
        var out: [UInt8] = []
        out.reserveCapacity(rawInfo.count + 256)
        Bencode.encodeDictionary(entries, rawValues: [Array("info".utf8): rawInfo], into: &out)
        return out
    }

    /// The piece length Docket picks for content of `totalSize` bytes.
    ///
    /// Rule ("about a thousand pieces"): the smallest power of two that splits the content
    /// into at most 2000 pieces, clamped to [64 KiB, 16 MiB]. Content whose size is a
    /// power of two thus gets 1024 pieces; other sizes get between 1000 and 2000, except
    /// below 64 MiB (fewer pieces of 64 KiB) and above ~32 GiB (more pieces of 16 MiB).
    /// The floor was 256 KiB: a piece travels registry -> puller -> the other pullers whole,
    /// so smaller pieces reach the swarm sooner (swarm lab, 100 MB layer, N = 8: the hosts'
    /// downloads finished 0.15 s earlier with 64 KiB pieces than with 256 KiB).
    public static func pieceLength(forTotalSize totalSize: Int64) -> Int {
        let minimum = 64 << 10
        let maximum = 16 << 20
        var length = minimum
        while length < maximum, (totalSize + Int64(length) - 1) / Int64(length) > 2000 {
            length *= 2
        }
        return length
    }

    /// Memberwise, for `parse` and `create`.
    init(name: String, pieceLength: Int, pieceHashes: [[UInt8]], files: [FileEntry], isPrivate: Bool,
         rawInfo: [UInt8], isMultiFile: Bool, announce: String?, announceList: [[String]], urlList: [String])
    {
        self.name = name
        self.pieceLength = pieceLength
        self.pieceHashes = pieceHashes
        self.files = files
        self.isPrivate = isPrivate
        self.totalLength = files.reduce(0) { $0 + $1.length }
        self.infoHash = InfoHash(hashingInfo: rawInfo)
        self.rawInfo = rawInfo
        self.isMultiFile = isMultiFile
        self.announce = announce
        self.announceList = announceList
        self.urlList = urlList
    }
}
