import DocketKit
import Foundation

/// Manifests (GET/HEAD/PUT/DELETE by tag or digest), tags list, referrers, pagination, and the
/// checks made before a write's body is read.
extension RegistryRouter {
    func manifest(name: String, reference: String) throws -> HTTPServerResponse {
        try checkReference(reference)
        guard let stored = try metadata.manifest(repository: name, reference: reference) else {
            throw RegistryError(.manifestUnknown, detail: "\(name):\(reference)")
        }
        guard stored.bytes.count <= PushedManifest.maximumSize else {
            throw RegistryError(.sizeInvalid, detail: "manifest \(stored.digest) is \(stored.bytes.count) bytes, over the \(PushedManifest.maximumSize)-byte limit", status: 413)
        }
        // The stored bytes and their own media type, whatever the Accept header says.
        return HTTPServerResponse(status: 200, headers: [
            ("Content-Type", stored.mediaType),
            ("Docker-Content-Digest", stored.digest.description),
            ("ETag", "\"\(stored.digest)\""),
            ("Docker-Distribution-API-Version", "registry/2.0"),
        ], body: .data(stored.bytes))
    }

    func putManifest(name: String, reference: String, _ request: HTTPServerRequest) throws -> HTTPServerResponse {
        try checkReference(reference)
        if let bodyError = request.bodyError { throw RegistryError(.storageFull, detail: bodyError) }
        guard request.bodySize <= PushedManifest.maximumSize else { throw tooLarge(request.bodySize) }
        guard let path = request.bodyPath, request.bodySize > 0 else {
            throw RegistryError(.manifestInvalid, detail: "PUT the manifest JSON as the body")
        }
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        let digest = Digest.sha256(of: bytes)
        if reference.hasPrefix("sha256:"), reference != digest.description {
            throw RegistryError(.digestInvalid, detail: "the URL names \(reference) but the manifest bytes hash to \(digest)")
        }
        let parsed = try PushedManifest.parse(bytes, contentType: request.header("Content-Type"))
        for blob in parsed.blobs where !blob.isForeign {
            guard try metadata.isBlobLinked(blob.digest, to: name) else {
                throw RegistryError(.manifestBlobUnknown, detail: "blob \(blob.digest) is not in \(name); push it first")
            }
        }
        for child in parsed.manifests {
            guard try metadata.isManifestLinked(child.digest, to: name) else {
                throw RegistryError(.manifestBlobUnknown, detail: "manifest \(child.digest) is not in \(name); push it first")
            }
        }
        let stored = StoredManifest(digest: digest, mediaType: parsed.mediaType, bytes: bytes)
        try metadata.putManifest(stored, imageSize: parsed.referencedSize, repository: name,
                                 tag: reference.hasPrefix("sha256:") ? nil : reference)
        logger.info("manifest pushed", ["image.name": name, "image.reference": reference, "manifest.digest": digest.description])
        var headers = [
            ("Location", "/v2/\(name)/manifests/\(digest)"),
            ("Docker-Content-Digest", digest.description),
            ("Docker-Distribution-API-Version", "registry/2.0"),
        ]
        if let subject = parsed.subject { headers.append(("OCI-Subject", subject.description)) }
        return HTTPServerResponse(status: 201, headers: headers)
    }

    /// By digest: removes the manifest and its tags from the repository. By tag: removes the tag.
    func deleteManifest(name: String, reference: String) throws -> HTTPServerResponse {
        try checkReference(reference)
        let removed = if reference.hasPrefix("sha256:") {
            try metadata.deleteManifest(try digest(reference), from: name)
        } else {
            try metadata.deleteTag(reference, from: name)
        }
        guard removed else { throw RegistryError(.manifestUnknown, detail: "\(name):\(reference)") }
        return HTTPServerResponse(status: 202)
    }

    func tagList(name: String, _ request: HTTPServerRequest) throws -> HTTPServerResponse {
        let (limit, last) = try pagination(request)
        // One more than asked tells whether a next page exists.
        guard let fetched = try metadata.tags(of: name, limit: limit.map { $0 + 1 }, after: last) else {
            throw RegistryError(.nameUnknown, detail: name)
        }
        let tags = limit.map { Array(fetched.prefix($0)) } ?? fetched
        var response = json(try encoder.encode(TagList(name: name, tags: tags)))
        if let link = nextLink("/v2/\(name)/tags/list", limit: limit, page: tags, more: fetched.count > tags.count) {
            response.headers.append(link)
        }
        return response
    }

    /// OCI 1.1 referrers: an index of the repository's manifests whose `subject` is `subject`.
    func referrers(name: String, subject: Digest, _ request: HTTPServerRequest) throws -> HTTPServerResponse {
        let filter = request.queryItems["artifactType"]
        var descriptors: [[String: Any]] = []
        for stored in try metadata.manifests(of: name) {
            guard let parsed = try? PushedManifest.parse(stored.bytes, contentType: stored.mediaType), parsed.subject == subject else { continue }
            if let filter, parsed.artifactType != filter { continue }
            var descriptor: [String: Any] = ["mediaType": stored.mediaType, "digest": stored.digest.description, "size": stored.bytes.count]
            if let artifactType = parsed.artifactType { descriptor["artifactType"] = artifactType }
            if let annotations = parsed.annotations { descriptor["annotations"] = annotations }
            descriptors.append(descriptor)
        }
        let body = try JSONSerialization.data(withJSONObject: ["schemaVersion": 2, "mediaType": MediaType.ociIndex, "manifests": descriptors],
                                              options: [.sortedKeys, .withoutEscapingSlashes])
        var headers = [("Content-Type", MediaType.ociIndex), ("Docker-Distribution-API-Version", "registry/2.0")]
        if filter != nil { headers.append(("OCI-Filters-Applied", "artifactType")) }
        return HTTPServerResponse(status: 200, headers: headers, body: .data(body))
    }

    /// Refuses a write before its body is read: bad name or reference, unknown upload session,
    /// a manifest announced larger than the limit.
    func precheckRepositoryWrite(_ request: HTTPServerRequest, name rawName: String, endpoint: RepositoryEndpoint) throws {
        let name = try repository(rawName)
        switch endpoint {
        case .manifest(let reference):
            try require(request.method == "PUT", request)
            try checkReference(reference)
            if let length = request.header("Content-Length").flatMap(Int64.init), length > PushedManifest.maximumSize {
                throw tooLarge(length)
            }
        case .uploads:
            try require(request.method == "POST", request)
        case .upload(let id):
            try require(request.method == "PATCH" || request.method == "PUT", request)
            guard uploads.session(id, repository: name) != nil else {
                throw RegistryError(.blobUploadUnknown, detail: "upload \(id) in \(name) does not exist or expired; start a new one with POST /v2/\(name)/blobs/uploads/")
            }
        case .tags, .blob, .referrers:
            throw unsupported(request)
        }
    }

    /// `n` and `last` of a paginated list; `n` must be a non-negative integer.
    func pagination(_ request: HTTPServerRequest) throws -> (limit: Int?, last: String?) {
        let query = request.queryItems
        var limit: Int?
        if let text = query["n"] {
            guard let n = Int(text), n >= 0 else {
                throw RegistryError(.paginationNumberInvalid, detail: "n=\(text): use a non-negative integer")
            }
            limit = n
        }
        return (limit, query["last"].flatMap { $0.isEmpty ? nil : $0 })
    }

    /// `Link: <path?last=…&n=…>; rel="next"` when more entries follow this page.
    func nextLink(_ path: String, limit: Int?, page: [String], more: Bool) -> (String, String)? {
        guard more, let limit, limit > 0, let last = page.last,
              let escaped = last.addingPercentEncoding(withAllowedCharacters: .urlQueryAllowed.subtracting(CharacterSet(charactersIn: "&=+"))) else {
            return nil
        }
        return ("Link", "<\(path)?last=\(escaped)&n=\(limit)>; rel=\"next\"")
    }

    private func checkReference(_ reference: String) throws {
        if reference.contains(":") {
            _ = try digest(reference)
        } else if !ImageReference.isValidTag(reference) {
            throw RegistryError(.tagInvalid, detail: "'\(reference)': use up to 128 of [A-Za-z0-9_.-], not starting with . or -")
        }
    }

    private func tooLarge(_ size: Int64) -> RegistryError {
        RegistryError(.sizeInvalid, detail: "the manifest is \(size) bytes, over the \(PushedManifest.maximumSize)-byte limit", status: 413)
    }
}

private struct TagList: Encodable {
    var name: String
    var tags: [String]
}
