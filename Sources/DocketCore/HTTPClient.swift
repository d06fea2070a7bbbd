import CCurl
import CDocketShims
import Foundation

/// One HTTP request for `HTTPClient`.
public struct HTTPRequest: Sendable {
    public enum Body: Sendable {
        case none
        case data(Data)
        /// Streams the file's bytes as the body; nothing is read into memory at once.
        case file(String)
    }

    public var method: String
    public var url: String
    public var headers: [(String, String)]
    public var body: Body
    /// Talk HTTP over this unix socket (the Docker Engine API) instead of TCP.
    public var unixSocketPath: String?
    /// Whole-transfer limit in seconds; nil for none (large downloads).
    public var timeout: Double?
    public var connectTimeout: Double

    public init(method: String = "GET", url: String, headers: [(String, String)] = [], body: Body = .none,
                unixSocketPath: String? = nil, timeout: Double? = 60, connectTimeout: Double = 10) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.unixSocketPath = unixSocketPath
        self.timeout = timeout
        self.connectTimeout = connectTimeout
    }
}

public struct HTTPResponse: Sendable {
    public var status: Int
    /// Header names lowercased; the last value wins.
    public var headers: [String: String]
    /// The body, unless a sink consumed it.
    public var body: Data

    public func header(_ name: String) -> String? { headers[name.lowercased()] }
}

/// A transport failure (no HTTP status): the URL, what went wrong, and curl's code.
public struct HTTPClientError: Error, CustomStringConvertible, Sendable {
    public enum Kind: Sendable { case couldNotConnect, timedOut, aborted, other }
    public var kind: Kind
    public var url: String
    public var message: String
    public var curlCode: Int

    public var description: String { "\(url): \(message)" }
}

/// A blocking libcurl client; the async methods run it on a thread of its own.
/// The only file that calls libcurl.
public final class HTTPClient: Sendable {
    public init() {
        _ = HTTPClient.globalInit
    }

    private static let globalInit: Void = { curl_global_init(Int(CURL_GLOBAL_ALL)) }()

    /// Sends the request and buffers the response body. Cancelling the task aborts it.
    public func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        try await Blocking.runCancellable(name: "docket.http") { flag in try self.perform(request, cancellation: flag, sink: nil) }
    }

    /// Sends the request and writes a 2xx body to `path` (created or truncated); other statuses are
    /// buffered. Cancelling the task aborts it.
    public func download(_ request: HTTPRequest, to path: String) async throws -> HTTPResponse {
        try await Blocking.runCancellable(name: "docket.http") { flag in
            let handle = try FileHandle(forWritingTo: Self.createFile(path))
            defer { try? handle.close() }
            return try self.perform(request, cancellation: flag) { status, bytes in
                guard (200..<300).contains(status) else { return false }
                try handle.write(contentsOf: Data(bytes))
                return true
            }
        }
    }

    private static func createFile(_ path: String) throws -> URL {
        guard FileManager.default.createFile(atPath: path, contents: nil) else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path])
        }
        return URL(fileURLWithPath: path)
    }

    /// A body consumer: gets the status and the next bytes; returns false to let the client buffer
    /// them instead (for error bodies). Throwing aborts the transfer.
    public typealias Sink = (Int, UnsafeRawBufferPointer) throws -> Bool

    /// Performs the request on the calling thread. Never call it from the cooperative pool. A raised
    /// `cancellation` aborts the transfer within about a second with `CancellationError`.
    public func perform(_ request: HTTPRequest, cancellation: CancellationFlag? = nil, sink: Sink?) throws -> HTTPResponse {
        guard let easy = curl_easy_init() else {
            throw HTTPClientError(kind: .other, url: request.url, message: "libcurl could not start", curlCode: -1)
        }
        defer { curl_easy_cleanup(easy) }
        let state = TransferState(sink: sink, cancellation: cancellation)
        var headerList: UnsafeMutablePointer<curl_slist>?
        defer { curl_slist_free_all(headerList) }

        var cStrings: [UnsafeMutablePointer<CChar>] = []
        defer { cStrings.forEach { free($0) } }
        func setString(_ option: CURLoption, _ value: String) {
            let copy = strdup(value)!
            cStrings.append(copy)
            _ = docket_curl_setopt_ptr(easy, option, copy)
        }

        setString(CURLOPT_URL, request.url)
        if let socket = request.unixSocketPath { setString(CURLOPT_UNIX_SOCKET_PATH, socket) }
        _ = docket_curl_setopt_long(easy, CURLOPT_NOSIGNAL, 1)
        _ = docket_curl_setopt_long(easy, CURLOPT_CONNECTTIMEOUT_MS, Int(request.connectTimeout * 1000))
        if let timeout = request.timeout { _ = docket_curl_setopt_long(easy, CURLOPT_TIMEOUT_MS, Int(timeout * 1000)) }
        // Drop transfers that stall for 60 s even without an overall timeout.
        _ = docket_curl_setopt_long(easy, CURLOPT_LOW_SPEED_LIMIT, 1)
        _ = docket_curl_setopt_long(easy, CURLOPT_LOW_SPEED_TIME, 60)

        var fileForUpload: UnsafeMutablePointer<FILE>?
        defer { if let f = fileForUpload { fclose(f) } }
        switch request.body {
        case .none:
            if request.method == "HEAD" { _ = docket_curl_setopt_long(easy, CURLOPT_NOBODY, 1) }
            else if request.method != "GET" { setString(CURLOPT_CUSTOMREQUEST, request.method) }
            if request.method == "POST" || request.method == "PUT" {
                _ = docket_curl_setopt_long(easy, CURLOPT_POSTFIELDSIZE, 0)
                _ = docket_curl_setopt_long(easy, CURLOPT_POST, 1)
                setString(CURLOPT_CUSTOMREQUEST, request.method)
            }
        case .data(let data):
            state.upload = data
            _ = docket_curl_setopt_long(easy, CURLOPT_UPLOAD, 1)
            _ = docket_curl_setopt_off(easy, CURLOPT_INFILESIZE_LARGE, curl_off_t(data.count))
            setString(CURLOPT_CUSTOMREQUEST, request.method)
        case .file(let path):
            guard let file = fopen(path, "rb") else {
                throw HTTPClientError(kind: .other, url: request.url, message: "cannot open \(path) to upload: \(String(cString: strerror(errno)))", curlCode: -1)
            }
            fileForUpload = file
            fseeko(file, 0, SEEK_END)
            let size = ftello(file)
            fseeko(file, 0, SEEK_SET)
            state.uploadFile = file
            _ = docket_curl_setopt_long(easy, CURLOPT_UPLOAD, 1)
            _ = docket_curl_setopt_off(easy, CURLOPT_INFILESIZE_LARGE, curl_off_t(size))
            setString(CURLOPT_CUSTOMREQUEST, request.method)
        }
        var headers = request.headers
        if case .none = request.body {} else { headers.append(("Expect", "")) }
        for (name, value) in headers {
            headerList = curl_slist_append(headerList, "\(name): \(value)")
        }
        if headerList != nil { _ = docket_curl_setopt_ptr(easy, CURLOPT_HTTPHEADER, headerList) }

        let unmanaged = Unmanaged.passRetained(state)
        defer { unmanaged.release() }
        _ = docket_curl_setopt_write(easy, writeCallback)
        _ = docket_curl_setopt_ptr(easy, CURLOPT_WRITEDATA, unmanaged.toOpaque())
        _ = docket_curl_setopt_read(easy, readCallback)
        _ = docket_curl_setopt_ptr(easy, CURLOPT_READDATA, unmanaged.toOpaque())
        _ = docket_curl_setopt_header(easy, headerCallback)
        _ = docket_curl_setopt_ptr(easy, CURLOPT_HEADERDATA, unmanaged.toOpaque())
        if cancellation != nil {
            _ = docket_curl_setopt_xferinfo(easy, progressCallback)
            _ = docket_curl_setopt_ptr(easy, CURLOPT_XFERINFODATA, unmanaged.toOpaque())
            _ = docket_curl_setopt_long(easy, CURLOPT_NOPROGRESS, 0)
        }

        let code = curl_easy_perform(easy)
        if let error = state.sinkError { throw error }
        if code == CURLE_ABORTED_BY_CALLBACK, cancellation?.isCancelled == true { throw CancellationError() }
        guard code == CURLE_OK else {
            let kind: HTTPClientError.Kind = switch code {
            case CURLE_COULDNT_CONNECT, CURLE_COULDNT_RESOLVE_HOST: .couldNotConnect
            case CURLE_OPERATION_TIMEDOUT: .timedOut
            case CURLE_ABORTED_BY_CALLBACK, CURLE_WRITE_ERROR: .aborted
            default: .other
            }
            let message = String(cString: curl_easy_strerror(code))
            throw HTTPClientError(kind: kind, url: request.url, message: message, curlCode: Int(code.rawValue))
        }
        var status = 0
        _ = docket_curl_getinfo_long(easy, CURLINFO_RESPONSE_CODE, &status)
        return HTTPResponse(status: status, headers: state.headers, body: state.body)
    }
}

private final class TransferState {
    let sink: HTTPClient.Sink?
    var status = 0
    var headers: [String: String] = [:]
    var body = Data()
    var upload = Data()
    var uploadOffset = 0
    var uploadFile: UnsafeMutablePointer<FILE>?
    var sinkError: Error?
    let cancellation: CancellationFlag?

    init(sink: HTTPClient.Sink?, cancellation: CancellationFlag?) {
        self.sink = sink
        self.cancellation = cancellation
    }
}

/// libcurl calls it at least once a second, also while nothing arrives; nonzero aborts.
private let progressCallback: @convention(c) (UnsafeMutableRawPointer?, curl_off_t, curl_off_t, curl_off_t, curl_off_t) -> Int32 = { user, _, _, _, _ in
    let state = Unmanaged<TransferState>.fromOpaque(user!).takeUnretainedValue()
    return state.cancellation?.isCancelled == true ? 1 : 0
}

private let writeCallback: @convention(c) (UnsafeMutablePointer<CChar>?, Int, Int, UnsafeMutableRawPointer?) -> Int = { ptr, size, count, user in
    let state = Unmanaged<TransferState>.fromOpaque(user!).takeUnretainedValue()
    let length = size * count
    let buffer = UnsafeRawBufferPointer(start: ptr, count: length)
    if let sink = state.sink {
        do {
            if try sink(state.status, buffer) { return length }
        } catch {
            state.sinkError = error
            return 0
        }
    }
    state.body.append(contentsOf: buffer)
    return length
}

private let readCallback: @convention(c) (UnsafeMutablePointer<CChar>?, Int, Int, UnsafeMutableRawPointer?) -> Int = { ptr, size, count, user in
    let state = Unmanaged<TransferState>.fromOpaque(user!).takeUnretainedValue()
    let capacity = size * count
    if let file = state.uploadFile {
        return fread(ptr, 1, capacity, file)
    }
    let remaining = state.upload.count - state.uploadOffset
    let n = min(capacity, remaining)
    if n > 0 {
        state.upload.withUnsafeBytes { raw in
            UnsafeMutableRawPointer(ptr!).copyMemory(from: raw.baseAddress! + state.uploadOffset, byteCount: n)
        }
        state.uploadOffset += n
    }
    return n
}

private let headerCallback: @convention(c) (UnsafeMutablePointer<CChar>?, Int, Int, UnsafeMutableRawPointer?) -> Int = { ptr, size, count, user in
    let state = Unmanaged<TransferState>.fromOpaque(user!).takeUnretainedValue()
    let length = size * count
    let line = String(decoding: UnsafeRawBufferPointer(start: ptr, count: length), as: UTF8.self)
        .trimmingCharacters(in: .whitespacesAndNewlines)
    if line.hasPrefix("HTTP/") {
        // A new response (after a redirect or 100-continue) starts over.
        state.headers = [:]
        let parts = line.split(separator: " ")
        if parts.count >= 2, let code = Int(parts[1]) { state.status = code }
    } else if let colon = line.firstIndex(of: ":") {
        let name = line[..<colon].lowercased()
        let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        state.headers[name] = value
    }
    return length
}
