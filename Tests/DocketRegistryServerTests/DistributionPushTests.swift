import DocketKit
import DocketRegistryServer
import DocketTorrent
import Foundation
import Testing

/// The OCI Distribution push side of `RegistryRouter`, over loopback HTTP.
@Suite struct DistributionPushTests {
    private func send(_ registry: LiveRegistry, _ method: String, _ path: String, headers: [(String, String)] = [],
                      body: Data? = nil) async throws -> HTTPResponse {
        let url = path.hasPrefix("http") ? path : registry.base + path
        return try await registry.client.send(HTTPRequest(method: method, url: url, headers: headers, body: body.map { .data($0) } ?? .none))
    }

    private func errorCode(_ response: HTTPResponse) -> String? {
        let object = try? JSONSerialization.jsonObject(with: response.body) as? [String: [[String: Any]]]
        return object?["errors"]?.first?["code"] as? String
    }

    /// Pushes `bytes` as a blob with POST then PUT; returns its digest.
    @discardableResult
    private func pushBlob(_ registry: LiveRegistry, _ name: String, _ bytes: Data) async throws -> Digest {
        let digest = Digest.sha256(of: bytes)
        let started = try await send(registry, "POST", "/v2/\(name)/blobs/uploads/")
        let location = try #require(started.header("Location"))
        let done = try await send(registry, "PUT", location + "?digest=\(digest)", body: bytes)
        #expect(done.status == 201)
        return digest
    }

    @Test func chunkedUploadWithRangesStatusAndWrongOffsets() async throws {
        try await LiveRegistry.with { registry, _ in
            let bytes = Data((0..<3000).map { UInt8(truncatingIfNeeded: $0 &* 7) })
            let digest = Digest.sha256(of: bytes)
            let started = try await send(registry, "POST", "/v2/team/app/blobs/uploads/")
            #expect(started.status == 202)
            #expect(started.header("Range") == "0-0")
            let uuid = try #require(started.header("Docker-Upload-UUID"))
            let location = try #require(started.header("Location"))
            #expect(location == "/v2/team/app/blobs/uploads/\(uuid)")

            let first = try await send(registry, "PATCH", location, headers: [("Content-Range", "0-999")], body: bytes[0..<1000])
            #expect(first.status == 202)
            #expect(first.header("Range") == "0-999")
            #expect(first.header("Location") == location)
            // Out of order, malformed and mis-sized ranges: 416, upload unchanged.
            for range in ["0-999", "1500-2499", "abc", "1000-1005"] {
                let wrong = try await send(registry, "PATCH", location, headers: [("Content-Range", range)], body: bytes[1000..<2000])
                #expect(wrong.status == 416, "\(range)")
                #expect(wrong.header("Range") == "0-999", "\(range)")
            }
            let status = try await send(registry, "GET", location)
            #expect(status.status == 204)
            #expect(status.header("Range") == "0-999")
            // A chunk without Content-Range appends too.
            let second = try await send(registry, "PATCH", location, body: bytes[1000..<2000])
            #expect(second.header("Range") == "0-1999")
            let done = try await send(registry, "PUT", location + "?digest=\(digest)", headers: [("Content-Range", "2000-2999")], body: bytes[2000...])
            #expect(done.status == 201)
            #expect(done.header("Location") == "/v2/team/app/blobs/\(digest)")
            #expect(done.header("Docker-Content-Digest") == digest.description)
            let back = try await send(registry, "GET", "/v2/team/app/blobs/\(digest)")
            #expect(back.body == bytes)
            // The finished session is gone.
            #expect(try await send(registry, "GET", location).status == 404)
            #expect(FileManager.default.fileExists(atPath: registry.directory + "/uploads/" + uuid) == false)
        }
    }

    @Test func wrongDigestStoresNothingAndCancelRemovesTheSession() async throws {
        try await LiveRegistry.with { registry, _ in
            let bytes = Data("some layer".utf8)
            let wrongDigest = Digest.sha256(of: Data("other".utf8))
            let started = try await send(registry, "POST", "/v2/team/app/blobs/uploads/")
            let location = try #require(started.header("Location"))
            let refused = try await send(registry, "PUT", location + "?digest=\(wrongDigest)", body: bytes)
            #expect(refused.status == 400)
            #expect(errorCode(refused) == "DIGEST_INVALID")
            #expect(registry.blobFiles().isEmpty)
            #expect(try await send(registry, "HEAD", "/v2/team/app/blobs/\(Digest.sha256(of: bytes))").status == 404)

            let other = try await send(registry, "POST", "/v2/team/app/blobs/uploads/")
            let otherLocation = try #require(other.header("Location"))
            #expect(try await send(registry, "DELETE", otherLocation).status == 204)
            let gone = try await send(registry, "PATCH", otherLocation, body: bytes)
            #expect(gone.status == 404)
            #expect(errorCode(gone) == "BLOB_UPLOAD_UNKNOWN")
        }
    }

    @Test func singleRequestPushMountAndBlobDelete() async throws {
        try await LiveRegistry.with { registry, _ in
            let bytes = Data("single request".utf8)
            let digest = Digest.sha256(of: bytes)
            let single = try await send(registry, "POST", "/v2/team/app/blobs/uploads/?digest=\(digest)", body: bytes)
            #expect(single.status == 201)
            #expect(single.header("Docker-Content-Digest") == digest.description)

            // Repository scoping: the blob is not in other/app until mounted.
            #expect(try await send(registry, "HEAD", "/v2/other/app/blobs/\(digest)").status == 404)
            let missing = Digest.sha256(of: Data("absent".utf8))
            let notMounted = try await send(registry, "POST", "/v2/other/app/blobs/uploads/?mount=\(missing)&from=team/app")
            #expect(notMounted.status == 202)
            #expect(notMounted.header("Docker-Upload-UUID") != nil)
            let mounted = try await send(registry, "POST", "/v2/other/app/blobs/uploads/?mount=\(digest)&from=team/app")
            #expect(mounted.status == 201)
            #expect(mounted.header("Location") == "/v2/other/app/blobs/\(digest)")
            #expect(try await send(registry, "GET", "/v2/other/app/blobs/\(digest)").body == bytes)

            #expect(try await send(registry, "DELETE", "/v2/other/app/blobs/\(digest)").status == 202)
            #expect(try await send(registry, "HEAD", "/v2/other/app/blobs/\(digest)").status == 404)
            #expect(try await send(registry, "HEAD", "/v2/team/app/blobs/\(digest)").status == 200)
        }
    }

    @Test func largeUploadedBlobGetsItsTorrent() async throws {
        try await LiveRegistry.with { registry, _ in
            let bytes = Data((0..<(1 << 20) + 5000).map { UInt8(truncatingIfNeeded: $0 &* 13 &+ 1) })
            let digest = try await pushBlob(registry, "team/app", bytes)
            let torrent = try await send(registry, "GET", "/docket/v1/blobs/\(digest)/torrent")
            #expect(torrent.status == 200)
            let metainfo = try Metainfo.parse([UInt8](torrent.body))
            #expect(metainfo.name == digest.hex)
            #expect(metainfo.totalLength == Int64(bytes.count))
        }
    }

    @Test func manifestsPutGetDeleteByTagAndDigest() async throws {
        try await LiveRegistry.with { registry, _ in
            let config = Data(#"{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}"#.utf8)
            let layer = Data("layer bytes".utf8)
            let configDigest = try await pushBlob(registry, "team/app", config)
            let layerDigest = try await pushBlob(registry, "team/app", layer)
            let manifest = Data(#"{"schemaVersion":2,"mediaType":"\#(MediaType.dockerManifest)","config":{"mediaType":"\#(MediaType.dockerConfig)","digest":"\#(configDigest)","size":\#(config.count)},"layers":[{"mediaType":"\#(MediaType.dockerLayerGzip)","digest":"\#(layerDigest)","size":\#(layer.count)}]}"#.utf8)
            let manifestDigest = Digest.sha256(of: manifest)
            let put = try await send(registry, "PUT", "/v2/team/app/manifests/1.0", headers: [("Content-Type", MediaType.dockerManifest)], body: manifest)
            #expect(put.status == 201)
            #expect(put.header("Docker-Content-Digest") == manifestDigest.description)
            #expect(put.header("Location") == "/v2/team/app/manifests/\(manifestDigest)")

            // Served unchanged with its own type whatever the Accept.
            let get = try await send(registry, "GET", "/v2/team/app/manifests/1.0", headers: [("Accept", MediaType.ociManifest)])
            #expect(get.status == 200 && get.body == manifest)
            #expect(get.header("Content-Type") == MediaType.dockerManifest)
            let head = try await send(registry, "HEAD", "/v2/team/app/manifests/\(manifestDigest)")
            #expect(head.header("Content-Length") == String(manifest.count))
            #expect(head.header("Docker-Content-Digest") == manifestDigest.description)
            // Digest lookups are scoped to the repository.
            _ = try await pushBlob(registry, "other/app", layer)
            #expect(try await send(registry, "GET", "/v2/other/app/manifests/\(manifestDigest)").status == 404)

            // A blob the repository lacks, invalid JSON, a digest that does not match.
            let missing = Digest.sha256(of: Data("missing".utf8))
            let dangling = Data(#"{"schemaVersion":2,"mediaType":"\#(MediaType.ociManifest)","config":{"mediaType":"\#(MediaType.ociConfig)","digest":"\#(missing)","size":1},"layers":[]}"#.utf8)
            let refused = try await send(registry, "PUT", "/v2/team/app/manifests/bad", headers: [("Content-Type", MediaType.ociManifest)], body: dangling)
            #expect(refused.status == 400 && errorCode(refused) == "MANIFEST_BLOB_UNKNOWN")
            let invalid = try await send(registry, "PUT", "/v2/team/app/manifests/bad", headers: [("Content-Type", MediaType.ociManifest)], body: Data("{".utf8))
            #expect(invalid.status == 400 && errorCode(invalid) == "MANIFEST_INVALID")
            let mismatch = try await send(registry, "PUT", "/v2/team/app/manifests/\(missing)", headers: [("Content-Type", MediaType.dockerManifest)], body: manifest)
            #expect(mismatch.status == 400 && errorCode(mismatch) == "DIGEST_INVALID")
            let badTag = try await send(registry, "PUT", "/v2/team/app/manifests/-bad", body: manifest)
            #expect(badTag.status == 400 && errorCode(badTag) == "TAG_INVALID")
            let tooLarge = try await send(registry, "PUT", "/v2/team/app/manifests/big", headers: [("Content-Type", MediaType.ociManifest)],
                                          body: Data(count: PushedManifestLimit.bytes + 1))
            #expect(tooLarge.status == 413)

            // An index must name manifests the repository has.
            let index = Data(#"{"schemaVersion":2,"mediaType":"\#(MediaType.ociIndex)","manifests":[{"mediaType":"\#(MediaType.dockerManifest)","digest":"\#(manifestDigest)","size":\#(manifest.count)}]}"#.utf8)
            #expect(try await send(registry, "PUT", "/v2/team/app/manifests/multi", headers: [("Content-Type", MediaType.ociIndex)], body: index).status == 201)
            let foreignIndex = try await send(registry, "PUT", "/v2/other/app/manifests/multi", headers: [("Content-Type", MediaType.ociIndex)], body: index)
            #expect(foreignIndex.status == 400 && errorCode(foreignIndex) == "MANIFEST_BLOB_UNKNOWN")

            // Delete by tag keeps the manifest; delete by digest removes it.
            #expect(try await send(registry, "DELETE", "/v2/team/app/manifests/1.0").status == 202)
            #expect(try await send(registry, "GET", "/v2/team/app/manifests/1.0").status == 404)
            #expect(try await send(registry, "GET", "/v2/team/app/manifests/\(manifestDigest)").status == 200)
            #expect(try await send(registry, "DELETE", "/v2/team/app/manifests/\(manifestDigest)").status == 202)
            let gone = try await send(registry, "GET", "/v2/team/app/manifests/\(manifestDigest)")
            #expect(gone.status == 404 && errorCode(gone) == "MANIFEST_UNKNOWN")
        }
    }

    @Test func referrersAndTagPagination() async throws {
        try await LiveRegistry.with { registry, _ in
            let empty = Data("{}".utf8)
            let emptyDigest = try await pushBlob(registry, "team/app", empty)
            func manifest(_ extra: String) -> Data {
                Data(#"{"schemaVersion":2,"mediaType":"\#(MediaType.ociManifest)","config":{"mediaType":"application/vnd.oci.empty.v1+json","digest":"\#(emptyDigest)","size":2},"layers":[]\#(extra)}"#.utf8)
            }
            let subject = manifest("")
            let subjectDigest = Digest.sha256(of: subject)
            for tag in ["c", "a", "b"] {
                #expect(try await send(registry, "PUT", "/v2/team/app/manifests/\(tag)", headers: [("Content-Type", MediaType.ociManifest)], body: subject).status == 201)
            }
            let none = try await send(registry, "GET", "/v2/team/app/referrers/\(subjectDigest)")
            #expect(none.status == 200)
            #expect(none.header("Content-Type") == MediaType.ociIndex)
            #expect(String(decoding: none.body, as: UTF8.self).contains(#""manifests":[]"#))

            let signature = manifest(#","artifactType":"application/x-signature","subject":{"mediaType":"\#(MediaType.ociManifest)","digest":"\#(subjectDigest)","size":\#(subject.count)}"#)
            let put = try await send(registry, "PUT", "/v2/team/app/manifests/\(Digest.sha256(of: signature))", headers: [("Content-Type", MediaType.ociManifest)], body: signature)
            #expect(put.status == 201)
            #expect(put.header("OCI-Subject") == subjectDigest.description)
            let found = try await send(registry, "GET", "/v2/team/app/referrers/\(subjectDigest)")
            let index = try #require(try JSONSerialization.jsonObject(with: found.body) as? [String: Any])
            let entries = try #require(index["manifests"] as? [[String: Any]])
            #expect(entries.count == 1)
            #expect(entries.first?["digest"] as? String == Digest.sha256(of: signature).description)
            #expect(entries.first?["artifactType"] as? String == "application/x-signature")
            let filtered = try await send(registry, "GET", "/v2/team/app/referrers/\(subjectDigest)?artifactType=application/x-other")
            #expect(filtered.header("OCI-Filters-Applied") == "artifactType")
            #expect(String(decoding: filtered.body, as: UTF8.self).contains(#""manifests":[]"#))

            let page = try await send(registry, "GET", "/v2/team/app/tags/list?n=2")
            #expect(String(decoding: page.body, as: UTF8.self) == #"{"name":"team/app","tags":["a","b"]}"#)
            #expect(page.header("Link") == #"</v2/team/app/tags/list?last=b&n=2>; rel="next""#)
            let rest = try await send(registry, "GET", "/v2/team/app/tags/list?n=2&last=b")
            #expect(String(decoding: rest.body, as: UTF8.self) == #"{"name":"team/app","tags":["c"]}"#)
            #expect(rest.header("Link") == nil)
            let exact = try await send(registry, "GET", "/v2/team/app/tags/list?n=1&last=b")
            #expect(String(decoding: exact.body, as: UTF8.self) == #"{"name":"team/app","tags":["c"]}"#)
            #expect(exact.header("Link") == nil)
            let afterMissing = try await send(registry, "GET", "/v2/team/app/tags/list?last=aa")
            #expect(String(decoding: afterMissing.body, as: UTF8.self) == #"{"name":"team/app","tags":["b","c"]}"#)
            let zero = try await send(registry, "GET", "/v2/team/app/tags/list?n=0")
            #expect(String(decoding: zero.body, as: UTF8.self) == #"{"name":"team/app","tags":[]}"#)
            #expect(try await send(registry, "GET", "/v2/team/app/tags/list?n=-1").status == 400)
        }
    }
}

/// The manifest size limit, as the tests see it (4 MiB).
enum PushedManifestLimit {
    static let bytes = 4 << 20
}
