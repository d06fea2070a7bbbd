/// A single `Range: bytes=…` request, resolved against a representation of `size` bytes.
enum ByteRange: Equatable, Sendable {
    /// No usable Range header (absent, another unit, several ranges or bad syntax): send everything.
    case whole
    /// Inclusive first and last byte offsets.
    case partial(first: Int64, last: Int64)
    /// The range lies beyond the end: answer 416 with `Content-Range: bytes */size`.
    case unsatisfiable

    /// Parses `bytes=a-b`, `bytes=a-` and `bytes=-n` (RFC 9110 §14.1.2).
    init(header: String?, size: Int64) {
        guard let header else { self = .whole; return }
        let trimmed = header.trimmingWhitespace
        guard trimmed.lowercased().hasPrefix("bytes=") else { self = .whole; return }
        let spec = trimmed.dropFirst("bytes=".count).trimmingWhitespace
        guard !spec.contains(","), let dash = spec.firstIndex(of: "-") else { self = .whole; return }
        let startText = spec[..<dash].trimmingWhitespace
        let endText = spec[spec.index(after: dash)...].trimmingWhitespace
        if startText.isEmpty {
            guard let suffix = Int64(endText), suffix >= 0 else { self = .whole; return }
            guard suffix > 0, size > 0 else { self = .unsatisfiable; return }
            self = .partial(first: max(0, size - suffix), last: size - 1)
            return
        }
        guard let first = Int64(startText), first >= 0 else { self = .whole; return }
        var last = size - 1
        if !endText.isEmpty {
            guard let end = Int64(endText), end >= first else { self = .whole; return }
            last = min(end, size - 1)
        }
        guard first < size else { self = .unsatisfiable; return }
        self = .partial(first: first, last: last)
    }
}

extension StringProtocol {
    fileprivate var trimmingWhitespace: String {
        String(drop(while: { $0 == " " || $0 == "\t" }).reversed().drop(while: { $0 == " " || $0 == "\t" }).reversed())
    }
}
