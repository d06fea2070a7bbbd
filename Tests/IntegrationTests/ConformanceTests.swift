import DocketCore
import DocketKit
import Foundation
import Testing

private let blob = Data((0..<3000).map { UInt8(truncatingIfNeeded: $0 &* 11 &+ 3) })
private var blobDigest: Digest { .sha256(of: blob) }
private let config = Data(#"{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}"#.utf8)
private var configDigest: Digest { .sha256(of: config) }

private func imageManifest(layers: [Digest] = [blobDigest], mediaType: String = MediaType.ociManifest) -> Data {
    let layerJSON = layers.map { #"{"mediaType":"\#(MediaType.ociLayerGzip)","digest":"\#($0)","size":\#(blob.count)}"# }.joined(separator: ",")
    let configType = mediaType == MediaType.dockerManifest ? MediaType.dockerConfig : MediaType.ociConfig
    return Data(#"{"schemaVersion":2,"mediaType":"\#(mediaType)","config":{"mediaType":"\#(configType)","digest":"\#(configDigest)","size":\#(config.count)},"layers":[\#(layerJSON)]}"#.utf8)
}

/// POST then PUT of `bytes` into `name` on both registries.
private func pushBlob(_ run: ConformanceRun, _ name: String, _ bytes: Data, label: String) async throws {
    try await run.step(.init("\(label): start", "POST", .path("/v2/\(name)/blobs/uploads/")))
    try await run.step(.init("\(label): put", "PUT", .location(query: "digest=\(Digest.sha256(of: bytes))"),
                             headers: [("Content-Type", "application/octet-stream")], body: bytes))
}

private func pushImage(_ run: ConformanceRun, _ name: String, tag: String) async throws {
    try await pushBlob(run, name, config, label: "config")
    try await pushBlob(run, name, blob, label: "layer")
    try await run.step(.init("manifest put", "PUT", .path("/v2/\(name)/manifests/\(tag)"),
                             headers: [("Content-Type", MediaType.ociManifest)], body: imageManifest()))
}

/// The same request sequences against Docket and the reference registry (Distribution 2.8), one
/// test per section of the OCI Distribution Specification v1.1. Any difference fails the test
/// unless the step lists it as allowed, with the reason (printed with the counts).
@Suite(.serialized) struct ConformanceTests {
    // MARK: - Sections

    @Test func pullBaseManifestsAndBlobs() async throws {
        try await ConformanceRun.compare("pull") { run in
            let missing = Digest.sha256(of: Data("nothing".utf8))
            try await run.step(.init("base", "GET", .path("/v2/")))
            try await run.step(.init("unknown repo manifest", "GET", .path("/v2/nobody/app/manifests/latest")))
            try await run.step(.init("unknown repo blob", "GET", .path("/v2/nobody/app/blobs/\(missing)")))
            try await run.step(.init("unknown repo tags", "GET", .path("/v2/nobody/app/tags/list")))
            try await run.step(.init("invalid name", "GET", .path("/v2/UPPER/manifests/latest"), allowed: [.status, .errorCode],
                                     because: "Distribution 2.8's router does not match an invalid name (404, no body); the spec's NAME_INVALID (400) is what Docket sends"))
            try await pushImage(run, "team/app", tag: "1.0")
            try await run.step(.init("manifest by tag", "GET", .path("/v2/team/app/manifests/1.0"), headers: [("Accept", MediaType.ociManifest)]))
            try await run.step(.init("manifest head", "HEAD", .path("/v2/team/app/manifests/1.0"), headers: [("Accept", MediaType.ociManifest)]))
            let manifestDigest = Digest.sha256(of: imageManifest())
            try await run.step(.init("manifest by digest", "GET", .path("/v2/team/app/manifests/\(manifestDigest)"), headers: [("Accept", MediaType.ociManifest)]))
            try await run.step(.init("unknown tag", "GET", .path("/v2/team/app/manifests/nope")))
            try await run.step(.init("blob", "GET", .path("/v2/team/app/blobs/\(blobDigest)")))
            try await run.step(.init("blob head", "HEAD", .path("/v2/team/app/blobs/\(blobDigest)")))
            try await run.step(.init("missing blob", "GET", .path("/v2/team/app/blobs/\(missing)")))
            try await run.step(.init("blob range", "GET", .path("/v2/team/app/blobs/\(blobDigest)"), headers: [("Range", "bytes=10-19")]))
        }
    }

    @Test func pushMonolithicAndDigestMismatch() async throws {
        try await ConformanceRun.compare("push monolithic") { run in
            try await pushBlob(run, "team/app", blob, label: "monolithic")
            try await run.step(.init("blob after push", "HEAD", .path("/v2/team/app/blobs/\(blobDigest)")))
            let other = Data("other bytes".utf8)
            try await run.step(.init("mismatch: start", "POST", .path("/v2/team/app/blobs/uploads/")))
            try await run.step(.init("mismatch: put wrong digest", "PUT", .location(query: "digest=\(blobDigest)"), body: other))
            try await run.step(.init("mismatch: nothing stored", "HEAD", .path("/v2/team/app/blobs/\(Digest.sha256(of: other))")))
            try await run.step(.init("put without digest: start", "POST", .path("/v2/team/app/blobs/uploads/")))
            try await run.step(.init("put without digest", "PUT", .location(query: nil), body: other))
        }
    }

    @Test func pushChunked() async throws {
        try await ConformanceRun.compare("push chunked") { run in
            try await run.step(.init("start", "POST", .path("/v2/team/app/blobs/uploads/")))
            try await run.step(.init("chunk 0-999", "PATCH", .location(query: nil),
                                     headers: [("Content-Type", "application/octet-stream"), ("Content-Range", "0-999")], body: blob[0..<1000]))
            try await run.step(.init("status", "GET", .location(query: nil)))
            try await run.step(.init("status again", "GET", .location(query: nil)))
            try await run.step(.init("chunk 1000-1999", "PATCH", .location(query: nil),
                                     headers: [("Content-Type", "application/octet-stream"), ("Content-Range", "1000-1999")], body: blob[1000..<2000]))
            try await run.step(.init("streamed chunk", "PATCH", .location(query: nil),
                                     headers: [("Content-Type", "application/octet-stream")], body: blob[2000...]))
            try await run.step(.init("finish", "PUT", .location(query: "digest=\(blobDigest)")))
            try await run.step(.init("blob", "GET", .path("/v2/team/app/blobs/\(blobDigest)")))
            // A second session for the refusals, so the sequence above stays comparable.
            let reason = "Distribution 2.8 does not check Content-Range (it appends the chunk, 202); the spec asks for 416 with the upload unchanged, as Docket answers"
            try await run.step(.init("refusals: start", "POST", .path("/v2/team/app/blobs/uploads/")))
            try await run.step(.init("refusals: chunk 0-999", "PATCH", .location(query: nil),
                                     headers: [("Content-Type", "application/octet-stream"), ("Content-Range", "0-999")], body: blob[0..<1000]))
            for (label, range) in [("out of order", "2000-2999"), ("overlapping", "0-999"), ("malformed", "abc")] {
                try await run.step(.init("refusals: \(label) chunk", "PATCH", .location(query: nil),
                                         headers: [("Content-Type", "application/octet-stream"), ("Content-Range", range)], body: blob[2000...],
                                         allowed: [.status, .errorCode, .range, .location, .uploadUUID], because: reason))
            }
        }
    }

    @Test func pushSingleRequestCancelAndMount() async throws {
        try await ConformanceRun.compare("push single POST, cancel, mount") { run in
            let small = Data("single".utf8)
            try await run.step(.init("single POST with digest", "POST", .path("/v2/team/app/blobs/uploads/?digest=\(Digest.sha256(of: small))"),
                                     headers: [("Content-Type", "application/octet-stream")], body: small,
                                     allowed: [.status, .range, .uploadUUID, .digest],
                                     because: "the spec lets a registry answer 202 and a session instead of 201 (Distribution 2.8 does); Docket stores the blob at once"))
            try await run.step(.init("cancel: start", "POST", .path("/v2/team/app/blobs/uploads/")))
            try await run.step(.init("cancel", "DELETE", .location(query: nil)))
            try await run.step(.init("cancelled status", "GET", .location(query: nil)))
            try await pushBlob(run, "team/app", blob, label: "source")
            try await run.step(.init("mount existing", "POST", .path("/v2/other/app/blobs/uploads/?mount=\(blobDigest)&from=team/app")))
            try await run.step(.init("mounted blob", "HEAD", .path("/v2/other/app/blobs/\(blobDigest)")))
            let missing = Digest.sha256(of: Data("absent".utf8))
            try await run.step(.init("mount missing", "POST", .path("/v2/third/app/blobs/uploads/?mount=\(missing)&from=team/app")))
            try await run.step(.init("mount from unknown repo", "POST", .path("/v2/third/app/blobs/uploads/?mount=\(blobDigest)&from=nobody/app")))
        }
    }

    @Test func manifestsPushValidationAndScoping() async throws {
        try await ConformanceRun.compare("manifests") { run in
            try await pushBlob(run, "team/app", config, label: "config")
            try await pushBlob(run, "team/app", blob, label: "layer")
            let missing = Digest.sha256(of: Data("missing layer".utf8))
            try await run.step(.init("blob unknown", "PUT", .path("/v2/team/app/manifests/bad"),
                                     headers: [("Content-Type", MediaType.ociManifest)], body: imageManifest(layers: [missing])))
            try await run.step(.init("invalid json", "PUT", .path("/v2/team/app/manifests/bad"),
                                     headers: [("Content-Type", MediaType.ociManifest)], body: Data("{not json".utf8)))
            let docker = imageManifest(mediaType: MediaType.dockerManifest)
            try await run.step(.init("docker v2 by tag", "PUT", .path("/v2/team/app/manifests/docker"),
                                     headers: [("Content-Type", MediaType.dockerManifest)], body: docker))
            try await run.step(.init("docker v2 get with OCI accept", "GET", .path("/v2/team/app/manifests/docker"),
                                     headers: [("Accept", "\(MediaType.dockerManifest), \(MediaType.ociManifest)")]))
            let oci = imageManifest()
            let ociDigest = Digest.sha256(of: oci)
            try await run.step(.init("oci by digest", "PUT", .path("/v2/team/app/manifests/\(ociDigest)"),
                                     headers: [("Content-Type", MediaType.ociManifest)], body: oci))
            try await run.step(.init("oci wrong digest", "PUT", .path("/v2/team/app/manifests/\(missing)"),
                                     headers: [("Content-Type", MediaType.ociManifest)], body: oci))
            try await run.step(.init("oci get by digest", "GET", .path("/v2/team/app/manifests/\(ociDigest)"), headers: [("Accept", MediaType.ociManifest)]))
            let index = Data(#"{"schemaVersion":2,"mediaType":"\#(MediaType.ociIndex)","manifests":[{"mediaType":"\#(MediaType.ociManifest)","digest":"\#(ociDigest)","size":\#(oci.count),"platform":{"architecture":"amd64","os":"linux"}}]}"#.utf8)
            try await run.step(.init("index", "PUT", .path("/v2/team/app/manifests/multi"), headers: [("Content-Type", MediaType.ociIndex)], body: index))
            try await run.step(.init("index get", "GET", .path("/v2/team/app/manifests/multi"), headers: [("Accept", MediaType.ociIndex)]))
            try await pushBlob(run, "other/app", config, label: "other config")
            try await run.step(.init("scoped digest lookup", "GET", .path("/v2/other/app/manifests/\(ociDigest)"), headers: [("Accept", MediaType.ociManifest)]))
            try await run.step(.init("bad tag", "PUT", .path("/v2/team/app/manifests/-bad"), headers: [("Content-Type", MediaType.ociManifest)], body: oci,
                                     allowed: [.errorCode, .status],
                                     because: "Distribution 2.8's router does not match an invalid tag and answers 404 without a body; the spec's TAG_INVALID (400) is what Docket sends"))
        }
    }

    @Test func manifestAndBlobDeletes() async throws {
        try await ConformanceRun.compare("deletes") { run in
            try await pushImage(run, "team/app", tag: "1.0")
            let digest = Digest.sha256(of: imageManifest())
            try await run.step(.init("delete by tag", "DELETE", .path("/v2/team/app/manifests/1.0"),
                                     allowed: [.status, .errorCode],
                                     because: "the spec allows 202 (tag deleted: Docket) or 400 UNSUPPORTED; Distribution 2.8 parses the tag as a digest and answers 400 DIGEST_INVALID, which the issue rules out"))
            try await run.step(.init("delete by digest", "DELETE", .path("/v2/team/app/manifests/\(digest)")))
            try await run.step(.init("deleted manifest", "GET", .path("/v2/team/app/manifests/\(digest)")))
            try await run.step(.init("delete again", "DELETE", .path("/v2/team/app/manifests/\(digest)")))
            try await run.step(.init("delete blob", "DELETE", .path("/v2/team/app/blobs/\(blobDigest)")))
            try await run.step(.init("deleted blob", "HEAD", .path("/v2/team/app/blobs/\(blobDigest)")))
            try await run.step(.init("delete missing blob", "DELETE", .path("/v2/team/app/blobs/\(blobDigest)")))
        }
    }

    @Test func tagsAndCatalogPagination() async throws {
        try await ConformanceRun.compare("tags and catalog") { run in
            for name in ["b/app", "a/app", "c/app"] {
                try await pushImage(run, name, tag: "t1")
            }
            for tag in ["t3", "t2"] {
                try await run.step(.init("tag \(tag)", "PUT", .path("/v2/a/app/manifests/\(tag)"),
                                         headers: [("Content-Type", MediaType.ociManifest)], body: imageManifest()))
            }
            let unordered = "Distribution 2.8 ignores n and last on tags/list and lists tags in storage order; the spec asks for lexical order and pagination, as Docket does"
            for (label, query) in [("tags", ""), ("tags n=2", "?n=2"), ("tags after t2", "?n=2&last=t2"), ("tags after missing", "?last=t15"), ("tags n=0", "?n=0")] {
                try await run.step(.init(label, "GET", .path("/v2/a/app/tags/list" + query), allowed: [.body], because: unordered))
            }
            try await run.step(.init("catalog", "GET", .path("/v2/_catalog")))
            try await run.step(.init("catalog n=2", "GET", .path("/v2/_catalog?n=2")))
            try await run.step(.init("catalog after b/app", "GET", .path("/v2/_catalog?n=2&last=b/app")))
            try await run.step(.init("catalog after missing", "GET", .path("/v2/_catalog?last=aa")))
            try await run.step(.init("catalog n=0", "GET", .path("/v2/_catalog?n=0")))
        }
    }

    @Test func referrers() async throws {
        try await ConformanceRun.compare("referrers") { run in
            try await pushImage(run, "team/app", tag: "1.0")
            let subject = Digest.sha256(of: imageManifest())
            try await run.step(.init("referrers", "GET", .path("/v2/team/app/referrers/\(subject)"),
                                     allowed: [.status, .errorCode, .contentType, .contentLength],
                                     because: "Distribution 2.8 predates OCI 1.1 and has no referrers API (404); Docket implements it (200, empty index)"))
        }
    }
}
