import Foundation

/// An error answered to an HTTP client in the OCI form `{"errors":[{"code","message","detail"}]}`.
struct RegistryError: Error, CustomStringConvertible, Sendable {
    /// The one table of error codes: value, HTTP status, default message.
    enum Code: String, Sendable, CaseIterable {
        case blobUnknown = "BLOB_UNKNOWN"
        case blobUploadInvalid = "BLOB_UPLOAD_INVALID"
        case blobUploadUnknown = "BLOB_UPLOAD_UNKNOWN"
        case manifestBlobUnknown = "MANIFEST_BLOB_UNKNOWN"
        case sizeInvalid = "SIZE_INVALID"
        case paginationNumberInvalid = "PAGINATION_NUMBER_INVALID"
        case digestInvalid = "DIGEST_INVALID"
        case manifestUnknown = "MANIFEST_UNKNOWN"
        case manifestInvalid = "MANIFEST_INVALID"
        case nameInvalid = "NAME_INVALID"
        case nameUnknown = "NAME_UNKNOWN"
        case tagInvalid = "TAG_INVALID"
        case unsupported = "UNSUPPORTED"
        case notFound = "NOT_FOUND"
        case rangeInvalid = "RANGE_INVALID"
        case torrentUnknown = "TORRENT_UNKNOWN"
        case archiveInvalid = "ARCHIVE_INVALID"
        case bodyMissing = "BODY_MISSING"
        case storageFull = "STORAGE_FULL"
        case unknown = "UNKNOWN"

        var status: Int {
            switch self {
            case .blobUnknown, .blobUploadUnknown, .manifestUnknown, .nameUnknown, .notFound, .torrentUnknown: 404
            case .digestInvalid, .manifestInvalid, .nameInvalid, .tagInvalid, .archiveInvalid, .bodyMissing,
                 .blobUploadInvalid, .manifestBlobUnknown, .sizeInvalid, .paginationNumberInvalid: 400
            case .unsupported: 405
            case .rangeInvalid: 416
            case .storageFull: 507
            case .unknown: 500
            }
        }

        var message: String {
            switch self {
            case .blobUnknown: "blob unknown to registry"
            case .blobUploadInvalid: "blob upload invalid"
            case .blobUploadUnknown: "blob upload unknown to registry"
            case .manifestBlobUnknown: "manifest references a blob or manifest unknown to the repository"
            case .sizeInvalid: "provided length did not match content length"
            case .paginationNumberInvalid: "invalid number of results requested"
            case .digestInvalid: "provided digest did not match uploaded content"
            case .manifestUnknown: "manifest unknown"
            case .manifestInvalid: "manifest invalid"
            case .nameInvalid: "invalid repository name"
            case .nameUnknown: "repository name not known to registry"
            case .tagInvalid: "invalid tag"
            case .unsupported: "the operation is unsupported"
            case .notFound: "no such endpoint"
            case .rangeInvalid: "requested range not satisfiable"
            case .torrentUnknown: "no torrent for this blob: it is under the small-blob threshold, fetch it over HTTP"
            case .archiveInvalid: "the uploaded image archive is invalid"
            case .bodyMissing: "the request has no body"
            case .storageFull: "the registry ran out of disk space"
            case .unknown: "internal server error"
            }
        }
    }

    var code: Code
    var message: String
    var detail: String?
    /// The HTTP status when it differs from the code's (413 for an oversized manifest).
    var status: Int
    /// Extra response headers (e.g. `Range` with a 416 on an upload).
    var headers: [(String, String)] = []

    init(_ code: Code, message: String? = nil, detail: String? = nil, status: Int? = nil) {
        self.code = code
        self.message = message ?? code.message
        self.detail = detail
        self.status = status ?? code.status
    }

    var description: String { "\(code.rawValue): \(message)" + (detail.map { " (\($0))" } ?? "") }

    var response: HTTPServerResponse {
        var entry: [String: String] = ["code": code.rawValue, "message": message]
        if let detail { entry["detail"] = detail }
        let body = (try? JSONSerialization.data(withJSONObject: ["errors": [entry]], options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
        return HTTPServerResponse(status: status, headers: [("Content-Type", "application/json")] + headers, body: .data(body))
    }
}

/// Failures of the registry process itself (start-up, storage), with what to do next.
public enum RegistryServerError: Error, CustomStringConvertible, Sendable {
    case listen(address: String, port: UInt16, reason: String)
    case storage(path: String, reason: String)
    case database(path: String, reason: String)

    /// A storage failure of the file system itself, with the usual things to check.
    static func io(path: String, reason: String) -> RegistryServerError {
        .storage(path: path, reason: reason + "; check the data directory's permissions and free space")
    }

    public var description: String {
        switch self {
        case .listen(let address, let port, let reason):
            "cannot listen on \(address):\(port): \(reason)"
        case .storage(let path, let reason):
            "registry storage error at \(path): \(reason)"
        case .database(let path, let reason):
            "registry database error in \(path): \(reason); check the data directory, or move the file aside to start empty"
        }
    }
}
