import DocketKit
import Foundation

/// OCI Distribution blob pushes: POST (session, single-request with `?digest=`, cross-repository
/// mount), PATCH chunks, status GET, PUT to finish, DELETE to cancel; and blob DELETE.
/// `Location` values are absolute paths (`/v2/…`), valid for clients that resolve them
/// relative to the registry URL and for those that use them as given.
extension RegistryRouter {
    func startUpload(name: String, _ request: HTTPServerRequest) throws -> HTTPServerResponse {
        let query = request.queryItems
        if let mount = query["mount"], let from = query["from"] {
            let blob = try digest(mount)
            if ImageReference.isValidName(from), try metadata.isBlobLinked(blob, to: from), let size = try metadata.blobSize(blob),
               store.exists(blob) {
                try metadata.linkBlob(blob, size: size, to: name)
                return blobCreated(name: name, blob: blob)
            }
            // Not mountable: fall through to an ordinary upload session, as the spec asks.
        }
        if let expected = query["digest"] {
            let blob = try digest(expected)
            if let bodyError = request.bodyError { throw RegistryError(.storageFull, detail: bodyError) }
            let session = try uploads.create(repository: name)
            defer { uploads.remove(session.id) }
            _ = try uploads.append(session.id, repository: name, bodyPath: request.bodyPath, bodySize: request.bodySize, start: nil)
            return try commit(session, expected: blob)
        }
        let session = try uploads.create(repository: name)
        return uploadAccepted(session)
    }

    func uploadStatus(name: String, id: String) throws -> HTTPServerResponse {
        guard let session = uploads.session(id, repository: name) else { throw unknownUpload(name: name, id: id) }
        var response = uploadAccepted(session)
        response.status = 204
        return response
    }

    func patchUpload(name: String, id: String, _ request: HTTPServerRequest) throws -> HTTPServerResponse {
        if let bodyError = request.bodyError { throw RegistryError(.storageFull, detail: bodyError) }
        guard let current = uploads.session(id, repository: name) else { throw unknownUpload(name: name, id: id) }
        let start = try chunkStart(request, session: current)
        let session = try uploads.append(id, repository: name, bodyPath: request.bodyPath, bodySize: request.bodySize, start: start)
        return uploadAccepted(session)
    }

    func finishUpload(name: String, id: String, _ request: HTTPServerRequest) throws -> HTTPServerResponse {
        if let bodyError = request.bodyError { throw RegistryError(.storageFull, detail: bodyError) }
        guard let current = uploads.session(id, repository: name) else { throw unknownUpload(name: name, id: id) }
        guard let expected = request.queryItems["digest"] else {
            throw RegistryError(.digestInvalid, detail: "finish the upload with PUT …?digest=sha256:<hex of the whole blob>")
        }
        let blob = try digest(expected)
        let start = try chunkStart(request, session: current)
        if request.bodySize > 0 {
            _ = try uploads.append(id, repository: name, bodyPath: request.bodyPath, bodySize: request.bodySize, start: start)
        }
        let session = try uploads.reserve(id, repository: name)
        defer { uploads.remove(session.id) }   // committed or refused: the session is over either way
        return try commit(session, expected: blob)
    }

    func cancelUpload(name: String, id: String) throws -> HTTPServerResponse {
        guard uploads.session(id, repository: name) != nil else { throw unknownUpload(name: name, id: id) }
        uploads.remove(id)
        return HTTPServerResponse(status: 204, headers: [("Docker-Upload-UUID", id)])
    }

    func deleteBlob(name: String, blob: Digest) throws -> HTTPServerResponse {
        guard try metadata.unlinkBlob(blob, from: name) else { throw RegistryError(.blobUnknown, detail: "\(blob) in \(name)") }
        return HTTPServerResponse(status: 202)
    }

    // MARK: - Helpers

    /// Verifies and stores the session's bytes, links the blob to the repository and seeds it.
    private func commit(_ session: UploadSessions.Session, expected: Digest) throws -> HTTPServerResponse {
        let ingested = try store.commit(fileAt: session.path, expected: expected)
        try metadata.linkBlob(ingested.digest, size: ingested.size, to: session.repository)
        torrents.seedInBackground([ingested.digest: ingested.size])
        logger.info("blob uploaded", ["image.name": session.repository, "blob.digest": ingested.digest.description,
                                      "blob.size": String(ingested.size)])
        return blobCreated(name: session.repository, blob: ingested.digest)
    }

    /// The first byte a chunk claims (`Content-Range: <start>-<end>`, inclusive end), checked
    /// against the body length and the session's size; nil without the header.
    private func chunkStart(_ request: HTTPServerRequest, session: UploadSessions.Session) throws -> Int64? {
        guard let header = request.header("Content-Range") else { return nil }
        var text = Substring(header.trimmingCharacters(in: .whitespaces))
        if text.hasPrefix("bytes ") { text = text.dropFirst("bytes ".count) }
        if let slash = text.firstIndex(of: "/") { text = text[..<slash] }
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 2, let start = Int64(parts[0]), let end = Int64(parts[1]), start >= 0, end >= start else {
            throw UploadSessions.rangeError("Content-Range '\(header)' is not <first byte>-<last byte>", session: session)
        }
        guard end - start + 1 == request.bodySize else {
            throw UploadSessions.rangeError("Content-Range '\(header)' names \(end - start + 1) bytes but the body has \(request.bodySize)", session: session)
        }
        guard start == session.size else {
            throw UploadSessions.rangeError("the chunk starts at byte \(start) but the upload has \(session.size) bytes", session: session)
        }
        return start
    }

    private func uploadAccepted(_ session: UploadSessions.Session) -> HTTPServerResponse {
        HTTPServerResponse(status: 202, headers: [
            ("Location", "/v2/\(session.repository)/blobs/uploads/\(session.id)"),
            ("Range", UploadSessions.rangeHeader(size: session.size)),
            ("Docker-Upload-UUID", session.id),
            ("Docker-Distribution-API-Version", "registry/2.0"),
        ])
    }

    private func blobCreated(name: String, blob: Digest) -> HTTPServerResponse {
        HTTPServerResponse(status: 201, headers: [
            ("Location", "/v2/\(name)/blobs/\(blob)"),
            ("Docker-Content-Digest", blob.description),
            ("Docker-Distribution-API-Version", "registry/2.0"),
        ])
    }

    private func unknownUpload(name: String, id: String) -> RegistryError {
        RegistryError(.blobUploadUnknown, detail: "upload \(id) in \(name) does not exist or expired; start a new one with POST /v2/\(name)/blobs/uploads/")
    }
}
