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

    /// Rejects a push with a bad name or tag, or a body sent anywhere else, before the body is uploaded.
    func precheck(_ request: HTTPServerRequest) -> HTTPServerResponse? {
        guard request.method == "POST" || request.method == "PUT" else { return nil }
        do {
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

    /// `/v2/<name>/manifests/<ref>`, `/v2/<name>/blobs/<digest>`, `/v2/<name>/tags/list`.
    private func repositoryRoute(_ request: HTTPServerRequest, rest: String) throws -> HTTPServerResponse {
        let isRead = request.method == "GET" || request.method == "HEAD"
        if rest.hasSuffix("/tags/list") {
            try require(isRead, request)
            let name = try repository(String(rest.dropLast("/tags/list".count)))
            guard let tags = try metadata.tags(of: name) else { throw RegistryError(.nameUnknown, detail: name) }
            return json(try encoder.encode(TagList(name: name, tags: tags)))
        }
        for kind in ["/manifests/", "/blobs/"] {
            guard let range = rest.range(of: kind, options: .backwards) else { continue }
            try require(isRead, request)
            let name = try repository(String(rest[..<range.lowerBound]))
            let reference = String(rest[range.upperBound...])
            guard try metadata.repositoryExists(name) else { throw RegistryError(.nameUnknown, detail: name) }
            if kind == "/manifests/" { return try manifest(name: name, reference: reference) }
            let blob = try digest(reference)
            guard try metadata.isBlobLinked(blob, to: name), let size = try metadata.blobSize(blob) else {
                throw RegistryError(.blobUnknown, detail: "\(blob) in \(name)")
            }
            return blobResponse(blob, size: size, request)
        }
        throw RegistryError(.notFound, detail: "\(request.method) /v2/\(rest)")
    }

    // MARK: - Handlers

    private func catalog(_ request: HTTPServerRequest) throws -> HTTPServerResponse {
        let query = request.queryItems
        let limit = query["n"].flatMap { Int($0) }.map { max(0, $0) }
        let names = try metadata.repositories(limit: limit, after: query["last"])
        var response = json(try encoder.encode(["repositories": names]))
        if let limit, let last = names.last, names.count == limit,
           let escaped = last.addingPercentEncoding(withAllowedCharacters: .urlQueryAllowed.subtracting(CharacterSet(charactersIn: "&=+"))) {
            response.headers.append(("Link", "</v2/_catalog?last=\(escaped)&n=\(limit)>; rel=\"next\""))
        }
        return response
    }

    private func manifest(name: String, reference: String) throws -> HTTPServerResponse {
        if reference.hasPrefix("sha256:") {
            _ = try digest(reference)
        } else if !ImageReference.isValidTag(reference) {
            throw RegistryError(.tagInvalid, detail: reference)
        }
        guard let stored = try metadata.manifest(repository: name, reference: reference) else {
            throw RegistryError(.manifestUnknown, detail: "\(name):\(reference)")
        }
        return HTTPServerResponse(status: 200, headers: [
            ("Content-Type", stored.mediaType),
            ("Docker-Content-Digest", stored.digest.description),
            ("Docker-Distribution-API-Version", "registry/2.0"),
        ], body: .data(stored.bytes))
    }

    private func blobResponse(_ blob: Digest, size: Int64, _ request: HTTPServerRequest) -> HTTPServerResponse {
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

    private struct TagList: Encodable {
        var name: String
        var tags: [String]
    }

    private var encoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }

    private func json(_ data: Data) -> HTTPServerResponse {
        HTTPServerResponse(status: 200, headers: [
            ("Content-Type", "application/json"),
            ("Docker-Distribution-API-Version", "registry/2.0"),
        ], body: .data(data))
    }

    private func require(_ allowed: Bool, _ request: HTTPServerRequest) throws {
        guard allowed else { throw RegistryError(.unsupported, detail: "\(request.method) is not allowed on \(request.path)") }
    }

    private func digest(_ text: String) throws -> Digest {
        do {
            return try Digest(parsing: text)
        } catch {
            throw RegistryError(.digestInvalid, detail: "'\(text)' is not sha256:<64 lowercase hex digits>")
        }
    }

    private func repository(_ name: String) throws -> String {
        guard ImageReference.isValidName(name) else { throw RegistryError(.nameInvalid, detail: name) }
        return name
    }
}
