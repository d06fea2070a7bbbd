import Foundation

/// A `Registry` over HTTP: the OCI read API plus Docket's push, image list and torrent endpoints.
public struct HTTPRegistry: Registry {
    /// The registry's base URL without a trailing slash, e.g. `http://127.0.0.1:5000`.
    public let baseURL: String
    private let client: HTTPClient
    /// Paces blob downloads (`downloadBlob`); nil for none.
    public let downloadLimiter: RateLimiter?

    /// Every manifest type Docket reads, for the `Accept` header.
    public static let acceptedManifestTypes = [
        MediaType.ociManifest, MediaType.dockerManifest, MediaType.ociIndex, MediaType.dockerManifestList,
    ]

    /// `url` may omit the scheme (`127.0.0.1:5000` means `http://127.0.0.1:5000`).
    /// `downloadLimit` caps blob downloads in bytes per second, all of them together.
    public init(url: String, client: HTTPClient = HTTPClient(), downloadLimit: Int64? = nil) {
        var base = url.trimmingCharacters(in: .whitespaces)
        if !base.hasPrefix("http://") && !base.hasPrefix("https://") { base = "http://" + base }
        while base.hasSuffix("/") { base.removeLast() }
        self.baseURL = base
        self.client = client
        self.downloadLimiter = downloadLimit.map { RateLimiter(bytesPerSecond: $0) }
    }

    public func listImages() async throws -> [ImageSummary] {
        let response = try await send(HTTPRequest(url: "\(baseURL)/docket/v1/images"))
        guard response.status == 200 else { throw failure(response) }
        do {
            return try JSONDecoder().decode([ImageSummary].self, from: response.body)
        } catch {
            throw DocketError.registry(status: response.status, message: "the image list is not valid JSON (\(error)); is \(baseURL) a Docket registry?")
        }
    }

    public func resolve(_ reference: ImageReference) async throws -> ResolvedImage {
        let (bytes, mediaType) = try await fetchManifest(name: reference.name, reference: reference.reference, for: reference)
        if mediaType == MediaType.ociIndex || mediaType == MediaType.dockerManifestList {
            let entry = try ManifestIndex.platformEntry(in: bytes, reference: reference)
            let (child, childType) = try await fetchManifest(name: reference.name, reference: entry.description, for: reference)
            return try resolved(reference, bytes: child, mediaType: childType)
        }
        return try resolved(reference, bytes: bytes, mediaType: mediaType)
    }

    public func torrent(for blob: Digest, repository: String) async throws -> Data {
        let response = try await send(HTTPRequest(url: "\(baseURL)/docket/v1/blobs/\(blob)/torrent",
                                                  headers: [("Accept", MediaType.torrent)]))
        switch response.status {
        case 200: return response.body
        case 404 where RegistryErrorBody(response.body)?.contains(code: "TORRENT_UNKNOWN") == true:
            throw DocketError.torrentUnavailable(blob)
        case 404: throw DocketError.blobNotFound(blob, registry: baseURL)
        default: throw failure(response)
        }
    }

    public func downloadBlob(_ digest: Digest, repository: String, to path: String,
                             progress: @escaping @Sendable (Int64) -> Void) async throws {
        _ = try await downloadBlob(digest, repository: repository, to: path, resumingAt: 0, progress: { held, _ in progress(held) })
    }

    public func downloadBlob(_ digest: Digest, repository: String, to path: String, resumingAt offset: Int64,
                             progress: @escaping @Sendable (_ held: Int64, _ from: Int64) -> Void) async throws -> Int64 {
        let url = "\(baseURL)/v2/\(repository)/blobs/\(digest)"
        let headers = offset > 0 ? [("Range", "bytes=\(offset)-")] : []
        let (response, start) = try await fetch(HTTPRequest(url: url, headers: headers, timeout: nil), into: path,
                                                resumingAt: offset, progress: progress)
        switch response.status {
        case 200, 206: return start
        // The kept bytes are not a prefix of this blob (at least as long as it): fetch it whole.
        case 416 where offset > 0: return try await downloadBlob(digest, repository: repository, to: path, resumingAt: 0, progress: progress)
        case 404: throw DocketError.blobNotFound(digest, registry: baseURL)
        default: throw failure(response)
        }
    }

    /// Streams a 2xx body into `path`: a 206 after the first `offset` bytes, anything else from the
    /// start (the file is cut to what it then holds). Answers the response and where the body went.
    private func fetch(_ request: HTTPRequest, into path: String, resumingAt offset: Int64,
                       progress: @escaping @Sendable (_ held: Int64, _ from: Int64) -> Void) async throws -> (HTTPResponse, Int64) {
        let (client, limiter) = (self.client, self.downloadLimiter)
        return try await transport {
            try await Blocking.runCancellable(name: "docket.http.blob") { cancellation in
                let fd = open(path, O_WRONLY | O_CREAT, 0o644)
                guard fd >= 0 else { throw BlobFile.failure("open", path) }
                defer { close(fd) }
                var start: Int64?
                var received: Int64 = 0
                let response = try client.perform(request, cancellation: cancellation) { status, bytes in
                    guard (200..<300).contains(status) else { return false }
                    if let limiter, !limiter.pace(bytes.count, cancellation: cancellation) { throw CancellationError() }
                    if start == nil {
                        start = status == 206 ? offset : 0
                        guard ftruncate(fd, off_t(start!)) == 0, lseek(fd, off_t(start!), SEEK_SET) >= 0 else {
                            throw BlobFile.failure("truncate", path)
                        }
                        received = start!
                    }
                    var done = 0
                    while done < bytes.count {
                        let n = write(fd, bytes.baseAddress! + done, bytes.count - done)
                        if n < 0 {
                            if errno == EINTR { continue }
                            throw BlobFile.failure("write", path)
                        }
                        done += n
                    }
                    received += Int64(bytes.count)
                    progress(received, start!)
                    return true
                }
                // An empty 2xx body: the file holds what the status says it should.
                if start == nil, (200..<300).contains(response.status) {
                    let kept: Int64 = response.status == 206 ? offset : 0
                    guard ftruncate(fd, off_t(kept)) == 0 else { throw BlobFile.failure("truncate", path) }
                    start = kept
                }
                return (response, start ?? 0)
            }
        }
    }

    public func push(archiveAt path: String, as reference: ImageReference) async throws -> ResolvedImage {
        guard FileManager.default.isReadableFile(atPath: path) else {
            throw DocketError.invalidArchive(path: path, reason: "no such readable file")
        }
        let query = "name=\(Self.queryEscape(reference.name))&tag=\(Self.queryEscape(reference.reference))"
        let request = HTTPRequest(method: "POST", url: "\(baseURL)/docket/v1/push?\(query)",
                                  headers: [("Content-Type", "application/x-tar")], body: .file(path), timeout: nil)
        let response = try await send(request)
        guard response.status == 201 || response.status == 200 else { throw failure(response) }
        return try await resolve(reference)
    }

    // MARK: - Helpers

    private func fetchManifest(name: String, reference: String, for image: ImageReference) async throws -> (Data, String) {
        let request = HTTPRequest(url: "\(baseURL)/v2/\(name)/manifests/\(reference)",
                                  headers: [("Accept", Self.acceptedManifestTypes.joined(separator: ", "))])
        let response = try await send(request)
        switch response.status {
        case 200: break
        // Registries answer a missing manifest with their JSON error; anything else is another kind of server.
        case 404 where RegistryErrorBody(response.body) == nil && !response.body.isEmpty: throw failure(response)
        case 404: throw DocketError.imageNotFound(image, registry: baseURL)
        default: throw failure(response)
        }
        let declared = response.header("content-type")?.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces) }
        let bodyType = (try? JSONSerialization.jsonObject(with: response.body) as? [String: Any])?["mediaType"] as? String
        return (response.body, bodyType ?? declared ?? MediaType.ociManifest)
    }

    private func resolved(_ reference: ImageReference, bytes: Data, mediaType: String) throws -> ResolvedImage {
        let digest = Digest.sha256(of: bytes)
        if reference.isDigest, let expected = try? Digest(parsing: reference.reference), expected != digest,
           mediaType != MediaType.ociIndex, mediaType != MediaType.dockerManifestList {
            throw DocketError.digestMismatch(expected: expected, actual: digest)
        }
        let manifest: Manifest
        do {
            manifest = try Manifest.decode(bytes)
        } catch {
            throw DocketError.registry(status: 200, message: "manifest of \(reference) is not an image manifest (\(mediaType)): \(error)")
        }
        return ResolvedImage(reference: reference, manifest: manifest, manifestBytes: bytes,
                             manifestDigest: digest, manifestMediaType: mediaType)
    }

    private func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        let client = self.client
        return try await transport { try await client.send(request) }
    }

    /// Runs a request, turning transport failures into `DocketError.registryUnreachable`.
    private func transport<Result>(_ body: () async throws -> Result) async throws -> Result {
        do {
            return try await body()
        } catch let error as HTTPClientError {
            throw DocketError.registryUnreachable(url: baseURL, reason: error.message)
        }
    }

    /// An error status as the user should read it: the registry's own error, or, when the answer is
    /// not a registry's (a web server's page), the question whether this URL is a Docket registry.
    private func failure(_ response: HTTPResponse) -> DocketError {
        if RegistryErrorBody(response.body) == nil, response.status == 404 || response.status == 405 || response.status == 501
            || response.body.first == UInt8(ascii: "<") {
            return .notARegistry(url: baseURL, status: response.status)
        }
        return .registry(status: response.status, message: RegistryErrorBody.message(status: response.status, body: response.body))
    }

    static func queryEscape(_ value: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return value.addingPercentEncoding(withAllowedCharacters: allowed) ?? value
    }
}
