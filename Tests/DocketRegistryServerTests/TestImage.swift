import DocketKit
import DocketRegistryServer
import Foundation

/// A `docker save`-style archive built for the tests: a small and a large layer tar, a config
/// whose `rootfs.diff_ids` are the layers' sha256, and manifest.json.
struct TestImage {
    var archivePath: String
    var config: Data
    var layers: [Data]

    var configDigest: Digest { .sha256(of: config) }
    var layerDigests: [Digest] { layers.map { .sha256(of: $0) } }

    /// Writes the layer tars and the archive under `directory`. `largeLayerSize` bytes of file
    /// content go in the second layer (pick it above the registry's small-blob threshold).
    static func make(in directory: String, largeLayerSize: Int = 1_200_000, seed: UInt8 = 1) throws -> TestImage {
        let small = try layerTar(at: directory + "/layer-small.tar", files: [("etc/hello.txt", Data("hello \(seed)\n".utf8))])
        var big = Data(count: largeLayerSize)
        for i in 0..<largeLayerSize { big[i] = UInt8(truncatingIfNeeded: i &* 31 &+ Int(seed)) }
        let large = try layerTar(at: directory + "/layer-large.tar", files: [("opt/app/data.bin", big)])
        let diffIDs = [small, large].map { "\"\(Digest.sha256(of: $0))\"" }.joined(separator: ",")
        let config = Data(#"{"architecture":"amd64","os":"linux","config":{"Cmd":["/bin/true"]},"rootfs":{"type":"layers","diff_ids":[\#(diffIDs)]}}"#.utf8)
        let archive = directory + "/image-\(seed).tar"
        try writeTar(at: archive) { w in
            try w.addFile(name: "config.json", data: config)
            try w.addFile(name: "aaa/layer.tar", contentsOf: directory + "/layer-small.tar")
            try w.addFile(name: "bbb/layer.tar", contentsOf: directory + "/layer-large.tar")
            try w.addFile(name: "manifest.json", data: Data(#"[{"Config":"config.json","RepoTags":["test/app:1"],"Layers":["aaa/layer.tar","bbb/layer.tar"]}]"#.utf8))
        }
        return TestImage(archivePath: archive, config: config, layers: [small, large])
    }

    private static func layerTar(at path: String, files: [(String, Data)]) throws -> Data {
        try writeTar(at: path) { w in
            for (name, data) in files { try w.addFile(name: name, data: data) }
        }
        return try Data(contentsOf: URL(fileURLWithPath: path))
    }

    static func writeTar(at path: String, _ build: (inout TarWriter) throws -> Void) throws {
        try TarWriter.write(toFileAt: path, build)
    }
}

/// A registry on a loopback port in a temporary directory, and an HTTP client for it.
struct LiveRegistry {
    let server: RegistryServer
    let directory: String
    let client = HTTPClient()
    var base: String { "http://127.0.0.1:\(server.port)" }

    static func start(directory: String? = nil, configure: (inout RegistryServer.Configuration) -> Void = { _ in }) async throws -> LiveRegistry {
        let dir = try directory ?? temporaryDirectory()
        var configuration = RegistryServer.Configuration.testing(dataDirectory: dir)
        configure(&configuration)
        let server = RegistryServer(configuration: configuration)
        try await Blocking.run { try server.start() }
        return LiveRegistry(server: server, directory: dir)
    }

    /// Starts a registry in a fresh directory and makes a scratch directory, runs `body` with
    /// both, then stops the registry and removes the directories.
    static func with(_ body: (LiveRegistry, _ work: String) async throws -> Void) async throws {
        let registry = try await start()
        let work = try temporaryDirectory()
        defer {
            try? FileManager.default.removeItem(atPath: registry.directory)
            try? FileManager.default.removeItem(atPath: work)
        }
        do {
            try await body(registry, work)
        } catch {
            await registry.stop()
            throw error
        }
        await registry.stop()
    }

    static func temporaryDirectory() throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("docket-registry-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    func get(_ path: String, method: String = "GET", headers: [(String, String)] = []) async throws -> HTTPResponse {
        try await client.send(HTTPRequest(method: method, url: base + path, headers: headers))
    }

    func push(_ archive: String, name: String, tag: String) async throws -> HTTPResponse {
        try await client.send(HTTPRequest(method: "POST", url: "\(base)/docket/v1/push?name=\(name)&tag=\(tag)",
                                          headers: [("Content-Type", "application/x-tar")], body: .file(archive)))
    }

    /// Regular files under the blob store.
    func blobFiles() -> Set<String> {
        let root = directory + "/blobs"
        let all = FileManager.default.enumerator(atPath: root)?.compactMap { $0 as? String } ?? []
        return Set(all.filter { !$0.hasSuffix("/") && $0.split(separator: "/").count == 3 })
    }

    func stop() async {
        let server = self.server
        _ = try? await Blocking.run { server.stop() }
    }
}
