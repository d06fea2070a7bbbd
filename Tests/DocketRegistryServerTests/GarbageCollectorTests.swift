import DocketKit
import Foundation
import Testing
@testable import DocketRegistryServer

@Suite struct GarbageCollectorTests {
    private func put(_ registry: LiveRegistry, _ path: String, _ body: Data, contentType: String = "application/octet-stream") async throws -> Int {
        try await registry.client.send(HTTPRequest(method: path.contains("/manifests/") ? "PUT" : "POST", url: registry.base + path,
                                                   headers: [("Content-Type", contentType)], body: .data(body))).status
    }

    @Test func removesOnlyUnreferencedBlobsAndRefusesARunningRegistry() async throws {
        let registry = try await LiveRegistry.start()
        defer { try? FileManager.default.removeItem(atPath: registry.directory) }
        let config = Data(#"{"rootfs":{"type":"layers","diff_ids":[]}}"#.utf8)
        let layer = Data((0..<(1 << 20) + 10).map { UInt8(truncatingIfNeeded: $0) })
        let orphan = Data("nobody references me".utf8)
        for blob in [config, layer, orphan] {
            #expect(try await put(registry, "/v2/team/app/blobs/uploads/?digest=\(Digest.sha256(of: blob))", blob) == 201)
        }
        let manifest = Data(#"{"schemaVersion":2,"mediaType":"\#(MediaType.ociManifest)","config":{"mediaType":"\#(MediaType.ociConfig)","digest":"\#(Digest.sha256(of: config))","size":\#(config.count)},"layers":[{"mediaType":"\#(MediaType.ociLayer)","digest":"\#(Digest.sha256(of: layer))","size":\#(layer.count)}]}"#.utf8)
        #expect(try await put(registry, "/v2/team/app/manifests/1.0", manifest, contentType: MediaType.ociManifest) == 201)
        // A second manifest, deleted: its only blob becomes garbage too.
        let dropped = Data("dropped layer".utf8)
        #expect(try await put(registry, "/v2/team/app/blobs/uploads/?digest=\(Digest.sha256(of: dropped))", dropped) == 201)
        let droppedManifest = Data(#"{"schemaVersion":2,"mediaType":"\#(MediaType.ociManifest)","config":{"mediaType":"\#(MediaType.ociConfig)","digest":"\#(Digest.sha256(of: config))","size":\#(config.count)},"layers":[{"mediaType":"\#(MediaType.ociLayer)","digest":"\#(Digest.sha256(of: dropped))","size":\#(dropped.count)}]}"#.utf8)
        #expect(try await put(registry, "/v2/team/app/manifests/old", droppedManifest, contentType: MediaType.ociManifest) == 201)
        let deleted = try await registry.client.send(HTTPRequest(method: "DELETE", url: registry.base + "/v2/team/app/manifests/\(Digest.sha256(of: droppedManifest))"))
        #expect(deleted.status == 202)

        #expect(throws: RegistryServerError.self) { try GarbageCollector.collect(dataDirectory: registry.directory) }
        await registry.stop()

        let dryRun = try GarbageCollector.collect(dataDirectory: registry.directory, dryRun: true)
        #expect(Set(dryRun.removedBlobs) == [Digest.sha256(of: orphan), Digest.sha256(of: dropped)])
        #expect(registry.blobFiles().count == 4)
        let report = try GarbageCollector.collect(dataDirectory: registry.directory)
        #expect(report.removedBlobs == dryRun.removedBlobs)
        #expect(report.freedBytes == Int64(orphan.count + dropped.count))
        #expect(report.keptBlobs == 2)
        #expect(report.removedManifests == 1)
        #expect(registry.blobFiles() == Set([config, layer].map { "sha256/\(Digest.sha256(of: $0).hex.prefix(2))/\(Digest.sha256(of: $0).hex)" }))

        // The registry starts again and still serves the tagged image.
        let again = try await LiveRegistry.start(directory: registry.directory)
        let manifestBack = try await again.get("/v2/team/app/manifests/1.0")
        #expect(manifestBack.body == manifest)
        #expect(try await again.get("/v2/team/app/blobs/\(Digest.sha256(of: layer))").body == layer)
        #expect(try await again.get("/v2/team/app/blobs/\(Digest.sha256(of: orphan))").status == 404)
        await again.stop()
    }
}
