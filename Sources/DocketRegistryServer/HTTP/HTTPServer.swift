import CDocketShims
import CMicroHTTPD
import DocketCore
import DocketTorrent
import Foundation

/// One HTTP request as the router sees it. Built on a libmicrohttpd connection thread.
struct HTTPServerRequest: Sendable {
    var method: String
    /// Percent-decoded path, e.g. `/v2/team/app/manifests/1.0`.
    var path: String
    /// Everything after `?`, still percent-encoded (the tracker needs raw binary info-hashes).
    var rawQuery: String
    /// Header names lowercased.
    var headers: [String: String]
    /// The uploaded body, streamed to a temporary file (deleted after the response); nil when there was none.
    var bodyPath: String?
    var bodySize: Int64
    /// Set when the body could not be stored (disk full, …).
    var bodyError: String?
    /// The address the client connected to (this server's side of the socket).
    var localAddress: String?
    /// The client's address.
    var remoteAddress: String?

    func header(_ name: String) -> String? { headers[name.lowercased()] }

    /// Decoded query parameters (the last value wins).
    var queryItems: [String: String] {
        var items: [String: String] = [:]
        for item in URLComponents(string: "http://h/?" + rawQuery)?.queryItems ?? [] { items[item.name] = item.value ?? "" }
        return items
    }
}

/// An answer: bytes from memory, or a file range sent with sendfile.
struct HTTPServerResponse: Sendable {
    enum Body: Sendable {
        case data(Data)
        /// `length` bytes of the file at `path` starting at `offset`.
        case file(path: String, offset: Int64, length: Int64)
    }

    var status: Int
    var headers: [(String, String)]
    var body: Body

    init(status: Int, headers: [(String, String)] = [], body: Body = .data(Data())) {
        self.status = status
        self.headers = headers
        self.body = body
    }
}

/// The libmicrohttpd wrapper (the only file that calls it). One thread per connection, so
/// handlers may do blocking file and SQLite work; keep-alive is libmicrohttpd's default.
///
/// Limits (defaults in `Limits`):
/// - connection memory limit 64 KiB per connection: bounds the request line and headers
///   (an oversized URL or header block gets 414/431 from libmicrohttpd);
/// - idle connection timeout 30 s (RegistryServer.Configuration.connectionIdleTimeout): a client
///   that goes silent mid-request or trickles bytes slower than that is dropped;
/// - at most 512 concurrent connections (each is a thread), 64 per client IP.
/// Request bodies are only accepted for POST, PUT and PATCH and go straight to a temporary file.
final class HTTPServer: Sendable {
    struct Limits: Sendable {
        var connectionLimit: UInt32 = 512
        var perIPConnectionLimit: UInt32 = 64
        var connectionTimeoutSeconds: UInt32 = 30
        var connectionMemoryLimit: Int = 64 << 10
        /// Paces every file body (blobs, the web seed) to this many bytes per second in all; nil
        /// sends them with `sendfile` at full speed.
        var fileUploadLimit: Int64?
    }

    typealias Handler = @Sendable (HTTPServerRequest) -> HTTPServerResponse
    /// Looks at a request before its body is read (`bodyPath` is nil); a response here is sent
    /// at once and the body is never uploaded (libmicrohttpd then closes the connection).
    typealias Precheck = @Sendable (HTTPServerRequest) -> HTTPServerResponse?

    let bindAddress: String
    let requestedPort: UInt16
    let uploadDirectory: String
    let limits: Limits
    let logger: Logger
    let handler: Handler
    let precheck: Precheck
    private let fileLimiter: RateLimiter?

    private struct State {
        var daemon: OpaquePointer?
        var port: UInt16 = 0
        var inFlight = 0
    }
    private let state = LockedBox(State())

    init(bindAddress: String, port: UInt16, uploadDirectory: String, limits: Limits = Limits(), logger: Logger,
         precheck: @escaping Precheck = { _ in nil }, handler: @escaping Handler) {
        self.bindAddress = bindAddress
        self.requestedPort = port
        self.uploadDirectory = uploadDirectory
        self.limits = limits
        self.fileLimiter = limits.fileUploadLimit.map { RateLimiter(bytesPerSecond: $0) }
        self.logger = logger
        self.handler = handler
        self.precheck = precheck
    }

    /// The port bound by `start()` (the real one when 0 was asked for).
    var port: UInt16 { state.withLockedValue { $0.port } }

    /// Checks that `address` is an IPv4 literal this machine has, by binding a socket to it on
    /// an ephemeral port; the error says what to give `--bind` instead.
    static func checkBindAddress(_ address: String, port: UInt16) throws {
        var socketAddress = sockaddr_in()
        socketAddress.sin_family = sa_family_t(AF_INET)
        guard inet_pton(AF_INET, address, &socketAddress.sin_addr) == 1 else {
            throw RegistryServerError.listen(address: address, port: port, reason: "the bind address must be an IPv4 literal such as 0.0.0.0 or 127.0.0.1")
        }
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return }
        defer { close(fd) }
        let bound = withUnsafePointer(to: &socketAddress) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
        if !bound && errno == EADDRNOTAVAIL {
            throw RegistryServerError.listen(address: address, port: port, reason: "no network interface of this machine has that "
                                             + "address: give --bind one it has (`ip -4 addr`), or 0.0.0.0 for all")
        }
    }

    /// Call `checkBindAddress` first (`RegistryServer` does, before its seeder binds).
    func start() throws {
        var options = docket_mhd_options()
        options.port = requestedPort
        options.connection_limit = limits.connectionLimit
        options.connection_timeout_seconds = limits.connectionTimeoutSeconds
        options.connection_memory_limit = limits.connectionMemoryLimit
        options.thread_pool_size = 0
        options.per_ip_connection_limit = limits.perIPConnectionLimit
        options.log = serverLog
        // libmicrohttpd's threads hold a reference to this server until `stop()` releases it.
        let me = Unmanaged.passRetained(self)
        let daemon: OpaquePointer? = bindAddress.withCString { address in
            options.bind_address = address
            options.log_ctx = me.toOpaque()
            return docket_mhd_start(&options, accessHandler, me.toOpaque(), requestCompleted, me.toOpaque(), uriCallback, me.toOpaque())
        }
        guard let daemon else {
            me.release()
            let reason = switch errno {
            case 0: "libmicrohttpd could not start"
            case EADDRINUSE: "\(String(cString: strerror(errno))): pick another --port or stop the process using it"
            default: "\(String(cString: strerror(errno))); check --bind and --port"
            }
            throw RegistryServerError.listen(address: bindAddress, port: requestedPort, reason: reason)
        }
        let bound = docket_mhd_bound_port(daemon)
        state.withLockedValue {
            $0.daemon = daemon
            $0.port = bound
        }
        logger.info("registry listening", ["http.address": bindAddress, "http.port": String(bound)])
    }

    /// Stops accepting, lets in-flight requests finish for up to `grace` seconds, then closes everything.
    func stop(grace: TimeInterval = 10) {
        guard let daemon = state.withLockedValue({ state -> OpaquePointer? in
            defer { state.daemon = nil }
            return state.daemon
        }) else { return }
        // Quiescing hands the listening socket back to us; close it only after the daemon stopped.
        let listener = MHD_quiesce_daemon(daemon)
        let deadline = Date().addingTimeInterval(grace)
        while state.withLockedValue({ $0.inFlight }) > 0 && Date() < deadline {
            usleep(20_000)
        }
        MHD_stop_daemon(daemon)
        if listener >= 0 { close(listener) }
        Unmanaged.passUnretained(self).release()   // the reference taken in `start()`
    }

    // MARK: - Callbacks (libmicrohttpd threads)

    fileprivate func begin(rawURI: String) -> RequestContext {
        state.withLockedValue { $0.inFlight += 1 }
        return RequestContext(rawURI: rawURI, uploadDirectory: uploadDirectory)
    }

    fileprivate func finish(_ context: RequestContext) {
        context.discardBody()
        state.withLockedValue { $0.inFlight -= 1 }
    }

    /// First call for a request, headers read. When the precheck refuses the request and the client
    /// waits for `100 Continue`, the answer goes out at once and no body is sent; otherwise the body
    /// is read and dropped (never stored) and the answer follows it, so the client sees it cleanly.
    fileprivate func headersReceived(_ context: RequestContext, connection: OpaquePointer, method: String) -> MHD_Result {
        let head = request(context, connection: connection, method: method)
        guard let early = precheck(head) else { return .YES }
        if head.header("Expect")?.lowercased() == "100-continue" {
            context.answered = true
            log(method: method, context: context, status: early.status)
            return queue(early, on: connection)
        }
        context.refusal = early
        return .YES
    }

    fileprivate func respond(_ context: RequestContext, connection: OpaquePointer, method: String) -> MHD_Result {
        let response = context.refusal ?? handler(request(context, connection: connection, method: method))
        log(method: method, context: context, status: response.status)
        return queue(response, on: connection)
    }

    private func request(_ context: RequestContext, connection: OpaquePointer, method: String) -> HTTPServerRequest {
        let rawURI = context.rawURI
        let question = rawURI.firstIndex(of: "?")
        let rawPath = question.map { String(rawURI[..<$0]) } ?? rawURI
        return HTTPServerRequest(
            method: method,
            path: rawPath.removingPercentEncoding ?? rawPath,
            rawQuery: question.map { String(rawURI[rawURI.index(after: $0)...]) } ?? "",
            headers: Self.headers(of: connection),
            bodyPath: context.bodyPath,
            bodySize: context.bodySize,
            bodyError: context.bodyError,
            localAddress: Self.address(of: connection, local: true),
            remoteAddress: Self.address(of: connection, local: false))
    }

    private func log(method: String, context: RequestContext, status: Int) {
        logger.debug("http request", ["http.method": method, "http.target": String(context.rawURI.prefix(200)),
                                      "http.status": String(status), "http.body_bytes": String(context.bodySize)])
    }

    private func queue(_ response: HTTPServerResponse, on connection: OpaquePointer) -> MHD_Result {
        var mhdResponse: OpaquePointer?
        switch response.body {
        case .data(let data):
            mhdResponse = data.withUnsafeBytes { raw in
                MHD_create_response_from_buffer(raw.count, UnsafeMutableRawPointer(mutating: raw.baseAddress), .RESPMEM_MUST_COPY)
            }
        case .file(let path, let offset, let length):
            let fd = open(path, O_RDONLY | O_CLOEXEC)
            if fd >= 0 {
                if let fileLimiter {
                    mhdResponse = PacedFile.response(fd: fd, offset: UInt64(offset), length: UInt64(length), limiter: fileLimiter)
                } else {
                    // libmicrohttpd owns the descriptor from here and closes it.
                    mhdResponse = MHD_create_response_from_fd_at_offset64(UInt64(length), fd, UInt64(offset))
                    if mhdResponse == nil { close(fd) }
                }
            } else {
                logger.error("cannot open blob file", ["file.path": path, "error": String(cString: strerror(errno))])
                return queue(RegistryError(.unknown, detail: "cannot open stored blob").response, on: connection)
            }
        }
        guard let mhdResponse else { return .NO }
        defer { MHD_destroy_response(mhdResponse) }
        for (name, value) in response.headers {
            _ = MHD_add_response_header(mhdResponse, name, value)
        }
        return MHD_queue_response(connection, UInt32(response.status), mhdResponse)
    }

    private static func headers(of connection: OpaquePointer) -> [String: String] {
        final class Collector { var headers: [String: String] = [:] }
        let collector = Collector()
        let iterator: MHD_KeyValueIterator = { cls, _, key, value in
            guard let cls, let key else { return .YES }
            let collector = Unmanaged<Collector>.fromOpaque(cls).takeUnretainedValue()
            collector.headers[String(cString: key).lowercased()] = value.map { String(cString: $0) } ?? ""
            return .YES
        }
        withExtendedLifetime(collector) {
            _ = MHD_get_connection_values(connection, .HEADER_KIND, iterator, Unmanaged.passUnretained(collector).toOpaque())
        }
        return collector.headers
    }

    /// The numeric address of either end of the connection's socket.
    private static func address(of connection: OpaquePointer, local: Bool) -> String? {
        let fd = docket_mhd_connection_fd(connection)
        guard fd >= 0 else { return nil }
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let ok = withUnsafeMutablePointer(to: &storage) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                local ? getsockname(fd, $0, &length) == 0 : getpeername(fd, $0, &length) == 0
            }
        }
        guard ok else { return nil }
        // PeerAddress does the formatting (and turns IPv4-mapped IPv6 into plain IPv4).
        let family = Int32(storage.ss_family)
        let bytes: [UInt8] = withUnsafeBytes(of: storage) { raw in
            switch family {
            case AF_INET: withUnsafeBytes(of: raw.load(as: sockaddr_in.self).sin_addr) { Array($0) }
            case AF_INET6: withUnsafeBytes(of: raw.load(as: sockaddr_in6.self).sin6_addr) { Array($0) }
            default: []
            }
        }
        return PeerAddress(addressBytes: bytes, port: 0)?.host
    }
}

/// Per-request state, owned by libmicrohttpd between the URI callback and request completion.
private final class RequestContext {
    let rawURI: String
    let uploadDirectory: String
    var started = false
    /// A response was already queued (by the precheck).
    var answered = false
    /// The precheck's answer, sent once the (dropped) body has been read.
    var refusal: HTTPServerResponse?
    var bodyFD: Int32 = -1
    var bodyPath: String?
    var bodySize: Int64 = 0
    var bodyError: String?

    init(rawURI: String, uploadDirectory: String) {
        self.rawURI = rawURI
        self.uploadDirectory = uploadDirectory
    }

    /// Appends a chunk of the request body to the temporary file, creating it on first use.
    func append(_ bytes: UnsafeRawBufferPointer) {
        guard bodyError == nil else { return }
        if bodyFD < 0 {
            var template = Array("\(uploadDirectory)/upload-XXXXXX".utf8CString)
            let fd = mkstemp(&template)
            guard fd >= 0 else {
                bodyError = "cannot create a temporary file in \(uploadDirectory): \(String(cString: strerror(errno)))"
                return
            }
            bodyFD = fd
            bodyPath = cString(template)
        }
        var offset = 0
        while offset < bytes.count {
            let written = write(bodyFD, bytes.baseAddress! + offset, bytes.count - offset)
            if written < 0 {
                if errno == EINTR { continue }
                bodyError = "cannot store the upload in \(uploadDirectory): \(String(cString: strerror(errno)))"
                return
            }
            offset += written
        }
        bodySize += Int64(bytes.count)
    }

    func discardBody() {
        if bodyFD >= 0 { close(bodyFD) }
        bodyFD = -1
        if let bodyPath { unlink(bodyPath) }
        bodyPath = nil
    }
}

/// libmicrohttpd's messages (a failed bind, a malformed request) go to the server's log at debug
/// level: what matters reaches the user as the server's own error or the client's status.
private let serverLog: @convention(c) (UnsafeMutableRawPointer?, UnsafePointer<CChar>?) -> Void = { context, message in
    guard let context, let message else { return }
    let server = Unmanaged<HTTPServer>.fromOpaque(context).takeUnretainedValue()
    server.logger.debug("libmicrohttpd: \(String(cString: message))")
}

private let uriCallback: docket_mhd_uri_callback = { cls, uri, connection in
    let server = Unmanaged<HTTPServer>.fromOpaque(cls!).takeUnretainedValue()
    let context = server.begin(rawURI: uri.map { String(cString: $0) } ?? "/")
    return Unmanaged.passRetained(context).toOpaque()
}

private let accessHandler: MHD_AccessHandlerCallback = { cls, connection, url, method, _, uploadData, uploadDataSize, contextPointer in
    guard let cls, let connection, let contextPointer, let uploadDataSize else { return .NO }
    let server = Unmanaged<HTTPServer>.fromOpaque(cls).takeUnretainedValue()
    if contextPointer.pointee == nil {
        // No URI callback ran (should not happen); make the context from the decoded URL.
        contextPointer.pointee = Unmanaged.passRetained(server.begin(rawURI: url.map { String(cString: $0) } ?? "/")).toOpaque()
    }
    let context = Unmanaged<RequestContext>.fromOpaque(contextPointer.pointee!).takeUnretainedValue()
    let methodName = method.map { String(cString: $0) } ?? "GET"
    if !context.started {
        context.started = true
        return server.headersReceived(context, connection: connection, method: methodName)
    }
    if context.answered {
        uploadDataSize.pointee = 0   // an early answer was queued; drop whatever body arrives
        return .YES
    }
    if uploadDataSize.pointee > 0 {
        if methodName == "POST" || methodName == "PUT" || methodName == "PATCH", context.refusal == nil, let uploadData {
            context.append(UnsafeRawBufferPointer(start: uploadData, count: uploadDataSize.pointee))
        }
        uploadDataSize.pointee = 0
        return .YES
    }
    if context.bodyFD >= 0 {
        close(context.bodyFD)   // the body is complete; the handler reads it by path
        context.bodyFD = -1
    }
    return server.respond(context, connection: connection, method: methodName)
}

private let requestCompleted: MHD_RequestCompletedCallback = { cls, _, contextPointer, _ in
    guard let cls, let contextPointer, let raw = contextPointer.pointee else { return }
    let server = Unmanaged<HTTPServer>.fromOpaque(cls).takeUnretainedValue()
    let context = Unmanaged<RequestContext>.fromOpaque(raw).takeRetainedValue()
    server.finish(context)
    contextPointer.pointee = nil
}

/// The text of a NUL-terminated C character array.
func cString(_ chars: [CChar]) -> String {
    String(decoding: chars.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}
