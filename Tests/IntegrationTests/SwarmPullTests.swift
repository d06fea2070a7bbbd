import DocketKit
import DocketRegistryServer
import DocketTorrent
import Foundation
import Testing

/// The registry and three Docket clients on loopback, pulling the same image at once.
@Suite(.serialized) struct SwarmPullTests {
    @Test func threeClientsPullOneImageAndTradePieces() async throws {
        // The registry's seeder is capped at 6 MB/s, so a 40 MB layer cannot come only from it
        // in the time the clients take to trade: pieces must flow between the clients.
        let registry = try await LiveRegistry.start(payloadMB: 40, seederUploadLimit: 6_000_000, label: "swarm")
        defer { registry.stop() }
        let clients = try (1...3).map { try PullingClient(root: registry.directory.path + "/client\($0)") }
        defer { clients.forEach { $0.torrents.shutdown() } }

        let results = try await withThrowingTaskGroup(of: ImagePuller.Result.self) { group in
            for client in clients {
                group.addTask { try await client.puller(registry: registry.url).download(registry.reference) }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        defer { Task { for result in results { await result.seeding.stop() } } }

        for client in clients {
            for blob in registry.blobs {
                #expect(try await client.verifiedDigest(of: blob.digest) == blob.digest)
            }
        }
        let totalLayerBytes = registry.resolved.manifest.layers.reduce(0) { $0 + $1.size }
        for result in results {
            #expect(result.summary.layerCount == 3)
            #expect(result.summary.bytesFromRegistry + result.summary.bytesFromPeers >= totalLayerBytes - (1 << 20))
        }
        let fromPeers = results.map(\.summary.bytesFromPeers)
        #expect(fromPeers.contains { $0 > 0 }, "no client received anything from another client: \(fromPeers)")
    }

    @Test func secondPullSkipsStoredLayersAndHTTPOnlyModeWorks() async throws {
        let registry = try await LiveRegistry.start(payloadMB: 4, label: "nop2p")
        defer { registry.stop() }
        let client = try PullingClient(root: registry.directory.path + "/client")
        defer { client.torrents.shutdown() }

        let first = try await client.puller(registry: registry.url, peerToPeer: false).download(registry.reference)
        await first.seeding.stop()
        #expect(first.summary.bytesFromPeers == 0)
        #expect(first.summary.bytesAlreadyStored == 0)
        for blob in registry.blobs {
            #expect(try await client.verifiedDigest(of: blob.digest) == blob.digest)
        }

        let second = try await client.puller(registry: registry.url).download(registry.reference)
        await second.seeding.stop()
        #expect(second.summary.bytesFromRegistry == 0)
        #expect(second.summary.bytesAlreadyStored >= registry.resolved.manifest.layers.reduce(0) { $0 + $1.size })
    }

    @Test func unknownImageIsAClearError() async throws {
        let registry = try await LiveRegistry.start(payloadMB: 1, label: "present")
        defer { registry.stop() }
        let client = try PullingClient(root: registry.directory.path + "/client")
        defer { client.torrents.shutdown() }
        let missing = try ImageReference(parsing: "it/missing:1.0")
        await #expect {
            _ = try await client.puller(registry: registry.url).download(missing)
        } throws: { error in
            "\(error)".contains("it/missing:1.0") && "\(error)".contains("not found")
        }
    }
}
