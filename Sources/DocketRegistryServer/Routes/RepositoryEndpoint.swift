/// The part of a `/v2/<name>/…` path after the repository name. Names may have several path
/// components, so the path is split at the last endpoint marker whose remainder fits.
enum RepositoryEndpoint: Equatable, Sendable {
    /// `/v2/<name>/tags/list`
    case tags
    /// `/v2/<name>/manifests/<tag or digest>`
    case manifest(String)
    /// `/v2/<name>/blobs/<digest>`
    case blob(String)
    /// `/v2/<name>/blobs/uploads/` (start an upload)
    case uploads
    /// `/v2/<name>/blobs/uploads/<uuid>`
    case upload(String)
    /// `/v2/<name>/referrers/<digest>`
    case referrers(String)

    /// Splits `rest` (the path after `/v2/`) into the repository name and the endpoint.
    static func parse(_ rest: String) -> (name: String, endpoint: RepositoryEndpoint)? {
        if rest.hasSuffix("/tags/list") { return (String(rest.dropLast("/tags/list".count)), .tags) }
        for suffix in ["/blobs/uploads/", "/blobs/uploads"] where rest.hasSuffix(suffix) {
            return (String(rest.dropLast(suffix.count)), .uploads)
        }
        let markers: [(String, (String) -> RepositoryEndpoint)] = [
            ("/blobs/uploads/", { .upload($0) }), ("/manifests/", { .manifest($0) }),
            ("/blobs/", { .blob($0) }), ("/referrers/", { .referrers($0) }),
        ]
        for (marker, make) in markers {
            guard let range = rest.range(of: marker, options: .backwards) else { continue }
            let tail = String(rest[range.upperBound...])
            guard !tail.isEmpty, !tail.contains("/") else { continue }
            return (String(rest[..<range.lowerBound]), make(tail))
        }
        return nil
    }
}
