import Foundation

/// Reads ctorrent's console output: the file size line (`<1> name [3000000]`) and the status lines
/// (`- 0/1/2 [3/12/12] 1MB,0MB | 45,0K/s | 0,0K E:0,1`: seeds/leechers/tracker peers,
/// [pieces held/total/available], MB down,up, rates, tracker errors).
struct CTorrentOutput: Sendable, Hashable {
    var totalBytes: Int64 = 0
    var piecesHeld = 0
    var pieceCount = 0
    var megabytesDown: Int64 = 0
    var megabytesUp: Int64 = 0
    var connectedPeers = 0
    var trackerErrors = 0
    var isComplete = false
    /// The transfer started from no data (a download into a missing or empty file): every verified
    /// byte came from peers, even when ctorrent finished before printing a status line.
    var startedEmpty = false

    /// Folds one line of output into the state; returns true when it changed what progress shows.
    mutating func consume(_ line: Substring) -> Bool {
        let text = line.trimmingCharacters(in: .whitespaces)
        if text.hasPrefix("<1> "), let size = Self.bracketed(text).flatMap({ Int64($0) }) {
            totalBytes = size
            return true
        }
        if text.hasPrefix("Seed for others") || text.contains("Download complete") {
            isComplete = true
            piecesHeld = pieceCount
            return true
        }
        guard let status = Self.parseStatus(text) else { return false }
        (connectedPeers, piecesHeld, pieceCount, megabytesDown, megabytesUp, trackerErrors) = status
        if pieceCount > 0 && piecesHeld == pieceCount { isComplete = true }
        return true
    }

    /// Pieces held scaled to bytes (the last piece may be short, so this is an estimate until complete).
    var verifiedBytes: Int64 {
        if isComplete { return totalBytes }
        guard pieceCount > 0 else { return 0 }
        return totalBytes * Int64(piecesHeld) / Int64(pieceCount)
    }

    /// Bytes received from peers: ctorrent's whole-megabyte count, or the verified bytes when the
    /// transfer started empty and that is more.
    var bytesFromPeers: Int64 {
        startedEmpty ? max(megabytesDown << 20, verifiedBytes) : megabytesDown << 20
    }

    private static func bracketed(_ text: String) -> String? {
        guard let open = text.lastIndex(of: "["), let close = text.lastIndex(of: "]"), open < close else { return nil }
        return String(text[text.index(after: open)..<close])
    }

    // swiftlint:disable:next large_tuple
    private static func parseStatus(_ text: String) -> (Int, Int, Int, Int64, Int64, Int)? {
        let fields = text.split(separator: " ", omittingEmptySubsequences: true)
        guard fields.count >= 4, fields[1].split(separator: "/").count == 3,
              fields[2].hasPrefix("["), fields[2].hasSuffix("]") else { return nil }
        let peers = fields[1].split(separator: "/").compactMap { Int($0) }
        let pieces = fields[2].dropFirst().dropLast().split(separator: "/").compactMap { Int($0) }
        let transfer = fields[3].split(separator: ",").map { $0.replacingOccurrences(of: "MB", with: "") }.compactMap { Int64($0) }
        guard peers.count == 3, pieces.count == 3, transfer.count == 2 else { return nil }
        var errors = 0
        if let e = fields.first(where: { $0.hasPrefix("E:") }) {
            errors = Int(e.dropFirst(2).split(separator: ",").first ?? "") ?? 0
        }
        return (peers[0] + peers[1], pieces[0], pieces[1], transfer[0], transfer[1], errors)
    }
}
