import DocketKit
import DocketTorrent
import Foundation

/// Maps requests to the registry's answers (the HTTP API in docs/DESIGN.md). Runs on
/// libmicrohttpd's connection threads, where blocking file and SQLite work is fine.
struct RegistryRouter: Sendable {
    let store: BlobStore
    let metadata: RegistryMetadata
    let torrents: BlobTorrents
    let pusher: RegistryPush
    let uploads: UploadSessions
    let tracker: TrackerSwarms
    let externalTracker: String?
    let logger: Logger

    func handle(_ request: HTTPServerRequest) -> HTTPServerResponse {
        do {
            return try route(request)
        } catch let error as RegistryError {
            return error.response
        } catch {
            logger.error("request failed", ["http.method": request.method, "http.path": request.path, "error": "\(error)"])
            return RegistryError(.unknown, detail: "\(error)").response
        }
    }

    /// Looks at a request with a body before the body is uploaded: refuses bad names, unknown
    /// upload sessions and oversized manifests at once; nil lets the body stream to disk.
    func precheck(_ request: HTTPServerRequest) -> HTTPServerResponse? {
        guard ["POST", "PUT", "PATCH"].contains(request.method) else { return nil }
        do {
            if request.path.hasPrefix("/v2/"), let (name, endpoint) = RepositoryEndpoint.parse(String(request.path.dropFirst(4))) {
                try precheckRepositoryWrite(request, name: name, endpoint: endpoint)
                return nil
            }
            guard request.path == "/docket/v1/push", request.method == "POST" else {
                return handle(request)   // answers 404 or 405 without reading the body
            }
            _ = try pushTarget(request)
            return nil
        } catch let error as RegistryError {
            return error.response
        } catch {
            return RegistryError(.unknown, detail: "\(error)").response
        }
    }

    private func route(_ request: HTTPServerRequest) throws -> HTTPServerResponse {
        let path = request.path
        let isRead = request.method == "GET" || request.method == "HEAD"
        if path == "/v2" || path == "/v2/" {
            try require(isRead, request)
            return json(Data("{}".utf8))
        }
        if path == "/v2/_catalog" {
            try require(isRead, request)
            return try catalog(request)
        }
        if path == "/announce" {
            try require(isRead, request)
            return announce(request)
        }
        if path == "/docket/v1/images" {
            try require(isRead, request)
            return json(try encoder.encode(try metadata.images()))
        }
        if path == "/docket/v1/push" {
            try require(request.method == "POST", request)
            return try push(request)
        }
        if path.hasPrefix("/docket/v1/blobs/") {
            try require(isRead, request)
            let rest = path.dropFirst("/docket/v1/blobs/".count)
            if rest.hasSuffix("/torrent") {
                return try torrent(try digest(String(rest.dropLast("/torrent".count))), request)
            }
            let blob = try digest(String(rest))
            guard let size = try metadata.blobSize(blob) else { throw RegistryError(.blobUnknown, detail: blob.description) }
            return blobResponse(blob, size: size, request)
        }
        if path.hasPrefix("/v2/") {
            return try repositoryRoute(request, rest: String(path.dropFirst("/v2/".count)))
        }
        throw RegistryError(.notFound, detail: "\(request.method) \(path)")
    }

    /// `/v2/<name>/…`: manifests, blobs, uploads, tags and referrers.
    private func repositoryRoute(_ request: HTTPServerRequest, rest: String) throws -> HTTPServerResponse {
        guard let (rawName, endpoint) = RepositoryEndpoint.parse(rest) else {
            throw RegistryError(.notFound, detail: "\(request.method) /v2/\(rest)")
        }
        let name = try repository(rawName)
        let method = request.method
        let isRead = method == "GET" || method == "HEAD"
        switch endpoint {
        case .tags:
            try require(isRead, request)
            return try tagList(name: name, request)
        case .manifest(let reference):
            switch method {
            case "GET", "HEAD": return try manifest(name: name, reference: reference)
            case "PUT": return try putManifest(name: name, reference: reference, request)
            case "DELETE": return try deleteManifest(name: name, reference: reference)
            default: throw unsupported(request)
            }
        case .blob(let reference):
            let blob = try digest(reference)
            switch method {
            case "GET", "HEAD":
                guard try metadata.isBlobLinked(blob, to: name), let size = try metadata.blobSize(blob) else {
                    throw RegistryError(.blobUnknown, detail: "\(blob) in \(name)")
                }
                return blobResponse(blob, size: size, request)
            case "DELETE": return try deleteBlob(name: name, blob: blob)
            default: throw unsupported(request)
            }
        case .uploads:
            try require(method == "POST", request)
            return try startUpload(name: name, request)
        case .upload(let id):
            switch method {
            case "GET": return try uploadStatus(name: name, id: id)
            case "PATCH": return try patchUpload(name: name, id: id, request)
            case "PUT": return try finishUpload(name: name, id: id, request)
            case "DELETE": return try cancelUpload(name: name, id: id)
            default: throw unsupported(request)
            }
        case .referrers(let reference):
            try require(isRead, request)
            return try referrers(name: name, subject: try digest(reference), request)
        }
    }

    // MARK: - Handlers

    private func catalog(_ request: HTTPServerRequest) throws -> HTTPServerResponse {
        let (limit, last) = try pagination(request)
        // One more than asked tells whether a next page exists.
        let fetched = try metadata.repositories(limit: limit.map { $0 + 1 }, after: last)
        let names = limit.map { Array(fetched.prefix($0)) } ?? fetched
        var response = json(try encoder.encode(["repositories": names]))
        if let link = nextLink("/v2/_catalog", limit: limit, page: names, more: fetched.count > names.count) { response.headers.append(link) }
        return response
    }

    func blobResponse(_ blob: Digest, size: Int64, _ request: HTTPServerRequest) -> HTTPServerResponse {
        var headers = [
            ("Content-Type", "application/octet-stream"),
            ("Docker-Content-Digest", blob.description),
            ("Accept-Ranges", "bytes"),
            ("ETag", "\"\(blob)\""),
            ("Cache-Control", "max-age=31536000"),
        ]
        let path = store.path(of: blob)
        switch ByteRange(header: request.header("Range"), size: size) {
        case .whole:
            return HTTPServerResponse(status: 200, headers: headers, body: .file(path: path, offset: 0, length: size))
        case .partial(let first, let last):
            headers.append(("Content-Range", "bytes \(first)-\(last)/\(size)"))
            return HTTPServerResponse(status: 206, headers: headers, body: .file(path: path, offset: first, length: last - first + 1))
        case .unsatisfiable:
            var response = RegistryError(.rangeInvalid, detail: "blob \(blob) has \(size) bytes").response
            response.headers.append(("Content-Range", "bytes */\(size)"))
            return response
        }
    }

    private func torrent(_ blob: Digest, _ request: HTTPServerRequest) throws -> HTTPServerResponse {
        guard let size = try metadata.blobSize(blob) else { throw RegistryError(.blobUnknown, detail: blob.description) }
        let host = request.header("Host") ?? "\(request.localAddress ?? "localhost")"
        let announce = externalTracker ?? "http://\(host)/announce"
        guard let bytes = try torrents.servedTorrent(for: blob, size: size, announce: announce, webSeed: "http://\(host)/docket/v1/blobs/\(blob)") else {
            throw RegistryError(.torrentUnknown, detail: "\(blob) is \(size) bytes, under the \(torrents.threshold)-byte threshold")
        }
        return HTTPServerResponse(status: 200, headers: [("Content-Type", MediaType.torrent)], body: .data(Data(bytes)))
    }

    private func announce(_ request: HTTPServerRequest) -> HTTPServerResponse {
        // The registry's seeder, at the address this client used to reach the registry.
        let seeder: PeerAddress? = if let local = request.localAddress, let port = torrents.seederPort {
            PeerAddress(ipLiteral: local, port: port)
        } else {
            nil
        }
        let torrents = self.torrents
        let body = tracker.announce(rawQuery: request.rawQuery, clientIP: request.remoteAddress ?? "") { infoHash in
            guard let seeder, torrents.isSeeded(infoHash) else { return [] }
            return [seeder]
        }
        return HTTPServerResponse(status: 200, headers: [("Content-Type", "text/plain")], body: .data(Data(body)))
    }

    /// The `name` and `tag` (default `latest`) of a push, validated.
    private func pushTarget(_ request: HTTPServerRequest) throws -> (name: String, tag: String) {
        let query = request.queryItems
        guard let name = query["name"], ImageReference.isValidName(name) else {
            throw RegistryError(.nameInvalid, detail: "name=\(query["name"] ?? "(missing)"): use lowercase letters, digits and . _ - separated by /")
        }
        let tag = query["tag"] ?? "latest"
        guard ImageReference.isValidTag(tag) else {
            throw RegistryError(.tagInvalid, detail: "tag=\(tag): use up to 128 of [A-Za-z0-9_.-], not starting with . or -")
        }
        return (name, tag)
    }

    private func push(_ request: HTTPServerRequest) throws -> HTTPServerResponse {
        let (name, tag) = try pushTarget(request)
        if let bodyError = request.bodyError { throw RegistryError(.storageFull, detail: bodyError) }
        guard let bodyPath = request.bodyPath, request.bodySize > 0 else {
            throw RegistryError(.bodyMissing, detail: "POST the image archive (docker save output or an OCI layout tar) as the body")
        }
        let result = try pusher.push(archivePath: bodyPath, name: name, tag: tag)
        torrents.seedInBackground(result.record.blobs)
        let manifestObject = try JSONSerialization.jsonObject(with: result.record.manifest.bytes)
        let body = try JSONSerialization.data(withJSONObject: [
            "name": name, "tag": tag, "digest": result.record.manifest.digest.description,
            "mediaType": result.record.manifest.mediaType, "manifest": manifestObject,
        ], options: [.sortedKeys, .withoutEscapingSlashes])
        return HTTPServerResponse(status: 201, headers: [
            ("Content-Type", "application/json"),
            ("Docker-Content-Digest", result.record.manifest.digest.description),
            ("Location", "/v2/\(name)/manifests/\(result.record.manifest.digest)"),
        ], body: .data(body))
    }

    // MARK: - Helpers

    var encoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }

    func json(_ data: Data) -> HTTPServerResponse {
        HTTPServerResponse(status: 200, headers: [
            ("Content-Type", "application/json"),
            ("Docker-Distribution-API-Version", "registry/2.0"),
        ], body: .data(data))
    }

    func require(_ allowed: Bool, _ request: HTTPServerRequest) throws {
        guard allowed else { throw unsupported(request) }
    }

    func unsupported(_ request: HTTPServerRequest) -> RegistryError {
        RegistryError(.unsupported, detail: "\(request.method) is not allowed on \(request.path)")
    }

    func digest(_ text: String) throws -> Digest {
        do {
            return try Digest(parsing: text)
        } catch {
            throw RegistryError(.digestInvalid, detail: "'\(text)' is not sha256:<64 lowercase hex digits>")
        }
    }

    func repository(_ name: String) throws -> String {
        guard ImageReference.isValidName(name) else {
            throw RegistryError(.nameInvalid, detail: "'\(name)': use lowercase letters, digits and . _ - separated by /")
        }
        return name
    }
}
