import CMicroHTTPD
import DocketCore
import Foundation

/// A file body sent through a `RateLimiter`: libmicrohttpd asks for the next block on the
/// connection's own thread, which sleeps until the block fits under the rate. Without a limit the
/// server sends files with `sendfile` instead (`HTTPServer.queue`).
final class PacedFile {
    private let fd: Int32
    private let offset: UInt64
    private let limiter: RateLimiter

    private init(fd: Int32, offset: UInt64, limiter: RateLimiter) {
        self.fd = fd
        self.offset = offset
        self.limiter = limiter
    }

    /// A response of `length` bytes of `fd` from `offset`; it owns `fd` from here (closed when
    /// libmicrohttpd is done with it, also when this returns nil).
    static func response(fd: Int32, offset: UInt64, length: UInt64, limiter: RateLimiter) -> OpaquePointer? {
        let file = Unmanaged.passRetained(PacedFile(fd: fd, offset: offset, limiter: limiter))
        // On failure libmicrohttpd does not call the free callback.
        guard let response = MHD_create_response_from_callback(length, 64 << 10, readBlock, file.toOpaque(), release) else {
            file.release()
            return nil
        }
        return response
    }

    fileprivate func read(at position: UInt64, into buffer: UnsafeMutablePointer<CChar>, max: Int) -> Int {
        let count = pread(fd, buffer, max, off_t(offset + position))
        // A blob cut short under a response means the stored file changed: end the response with an error.
        guard count > 0 else { return Self.endWithError }
        limiter.pace(count)
        return count
    }

    deinit { close(fd) }

    /// `MHD_CONTENT_READER_END_WITH_ERROR` ((ssize_t) -2), which Swift does not import.
    fileprivate static let endWithError = -2
}

private let readBlock: MHD_ContentReaderCallback = { cls, position, buffer, max in
    guard let cls, let buffer else { return PacedFile.endWithError }
    return Unmanaged<PacedFile>.fromOpaque(cls).takeUnretainedValue().read(at: position, into: buffer, max: max)
}

private let release: MHD_ContentReaderFreeCallback = { cls in
    guard let cls else { return }
    Unmanaged<PacedFile>.fromOpaque(cls).release()
}
