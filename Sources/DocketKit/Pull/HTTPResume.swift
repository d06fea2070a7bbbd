import Foundation

/// Plain HTTP downloads resume too. The HTTP downloader marks a resumable write it fills front to
/// back with the companion `<path>.docket-http`: the bytes of a marked file are a prefix of the
/// blob, and the next attempt asks only for the rest. An unmarked file that is not empty holds
/// another downloader's bytes (the torrent engine writes pieces anywhere in the file), so HTTP does
/// not append to it; the torrent downloader removes the mark when it takes a file over.
/// Every function blocks: call them on a `Blocking` thread.
enum HTTPResume {
    static func markPath(_ write: BlobWrite) -> String { write.path + ".docket-http" }

    /// The bytes of `write` to keep and fetch the rest after (0 for a plain write or an empty
    /// file, which is then marked); nil when the file holds another downloader's bytes.
    static func claim(_ write: BlobWrite, size: Int64) throws -> Int64? {
        guard write.isResumable else { return 0 }
        var info = stat()
        let length = stat(write.path, &info) == 0 ? Int64(info.st_size) : 0
        let mark = markPath(write)
        // Longer than the blob: not its prefix; the download starts over (and cuts the file).
        if BlobFile.exists(mark) { return length <= size ? length : 0 }
        guard length == 0 else { return nil }
        let fd = open(mark, O_WRONLY | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw BlobFile.failure("create", mark) }
        close(fd)
        return 0
    }

    /// Another downloader takes the file over: its bytes are no longer a prefix HTTP can trust.
    static func disown(_ write: BlobWrite) {
        if write.isResumable { unlink(markPath(write)) }
    }
}
