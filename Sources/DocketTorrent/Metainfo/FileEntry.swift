extension Metainfo {
    /// One file of a torrent: its path below the torrent's name, and its length.
    public struct FileEntry: Hashable, Sendable {
        /// Path components, each validated (non-empty, not `.` or `..`, no `/`, `\` or NUL).
        /// A single-file torrent has one entry whose path is `[name]`.
        public let path: [String]
        /// The file's length in bytes.
        public let length: Int64

        /// Makes an entry; `path` is taken as given (parsing validates it).
        public init(path: [String], length: Int64) {
            self.path = path
            self.length = length
        }
    }

    /// Checks one path component or torrent name; returns why it is unsafe, or nil.
    static func problem(withPathElement element: String) -> String? {
        if element.isEmpty { return "has an empty path element" }
        if element == "." || element == ".." { return "has the path element '\(element)'" }
        if element.utf8.contains(UInt8(ascii: "/")) { return "has a path element containing '/': '\(element)'" }
        if element.utf8.contains(0) { return "has a path element containing a NUL byte" }
        if element.utf8.contains(UInt8(ascii: "\\")) { return "has a path element containing '\\': '\(element)'" }
        return nil
    }
}
