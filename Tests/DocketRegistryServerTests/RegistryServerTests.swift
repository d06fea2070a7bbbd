import DocketKit
import DocketRegistryServer
import DocketTorrent
import Foundation
import Testing

@Suite struct RegistryServerTests {
    @Test func pushThenReadEverythingBack() async throws {
        try await LiveRegistry.with { registry, work in
            let image = try TestImage.make(in: work)

            let base = try await registry.get("/v2/")
            #expect(base.status == 200)
            #expect(base.header("Docker-Distribution-API-Version") == "registry/2.0")
            #expect(String(decoding: base.body, as: UTF8.self) == "{}")

            let pushed = try await registry.push(image.archivePath, name: "team/app", tag: "1.0")
            #expect(pushed.status == 201, "\(String(decoding: pushed.body, as: UTF8.self))")
            let answer = try #require(try JSONSerialization.jsonObject(with: pushed.body) as? [String: Any])
            #expect(answer["name"] as? String == "team/app")
            #expect(answer["tag"] as? String == "1.0")
            #expect(answer["mediaType"] as? String == MediaType.ociManifest)
            let manifestDigest = try Digest(parsing: try #require(answer["digest"] as? String))
            let answeredManifest = try #require(answer["manifest"] as? [String: Any])
            #expect((answeredManifest["layers"] as? [Any])?.count == 2)

            // Manifest by tag and by digest, GET and HEAD.
            let manifest = try await registry.get("/v2/team/app/manifests/1.0")
            #expect(manifest.status == 200)
            #expect(manifest.header("Content-Type") == MediaType.ociManifest)
            #expect(manifest.header("Docker-Content-Digest") == manifestDigest.description)
            #expect(Digest.sha256(of: manifest.body) == manifestDigest)
            #expect(manifest.header("Content-Length") == String(manifest.body.count))
            let parsed = try Manifest.decode(manifest.body)
            #expect(parsed.config == Descriptor(mediaType: MediaType.ociConfig, digest: image.configDigest, size: Int64(image.config.count)))
            #expect(parsed.layers.map(\.digest) == image.layerDigests)
            #expect(parsed.layers.map(\.mediaType) == [MediaType.ociLayer, MediaType.ociLayer])
            let byDigest = try await registry.get("/v2/team/app/manifests/\(manifestDigest)")
            #expect(byDigest.body == manifest.body)
            let head = try await registry.get("/v2/team/app/manifests/1.0", method: "HEAD")
            #expect(head.status == 200 && head.body.isEmpty)
            #expect(head.header("Content-Length") == String(manifest.body.count))
            #expect(head.header("Docker-Content-Digest") == manifestDigest.description)

            // Blobs: whole, ranges, HEAD, the docket web-seed path.
            let large = image.layers[1]
            let blobPath = "/v2/team/app/blobs/\(image.layerDigests[1])"
            let whole = try await registry.get(blobPath)
            #expect(whole.status == 200 && whole.body == large)
            let range = try await registry.get(blobPath, headers: [("Range", "bytes=100-199")])
            #expect(range.status == 206)
            #expect(range.body == large[100..<200])
            #expect(range.header("Content-Range") == "bytes 100-199/\(large.count)")
            let suffix = try await registry.get("/docket/v1/blobs/\(image.layerDigests[1])", headers: [("Range", "bytes=-10")])
            #expect(suffix.status == 206 && suffix.body == large.suffix(10))
            let open = try await registry.get(blobPath, headers: [("Range", "bytes=\(large.count - 5)-")])
            #expect(open.status == 206 && open.body == large.suffix(5))
            let beyond = try await registry.get(blobPath, headers: [("Range", "bytes=\(large.count)-")])
            #expect(beyond.status == 416)
            #expect(beyond.header("Content-Range") == "bytes */\(large.count)")
            let blobHead = try await registry.get(blobPath, method: "HEAD")
            #expect(blobHead.status == 200 && blobHead.body.isEmpty)
            #expect(blobHead.header("Content-Length") == String(large.count))
            #expect(blobHead.header("Docker-Content-Digest") == image.layerDigests[1].description)
            let config = try await registry.get("/v2/team/app/blobs/\(image.configDigest)")
            #expect(config.body == image.config)

            // Catalog, tags, images.
            let catalog = try await registry.get("/v2/_catalog")
            #expect(String(decoding: catalog.body, as: UTF8.self) == #"{"repositories":["team/app"]}"#)
            let tags = try await registry.get("/v2/team/app/tags/list")
            #expect(String(decoding: tags.body, as: UTF8.self) == #"{"name":"team/app","tags":["1.0"]}"#)
            let images = try JSONDecoder().decode([ImageSummary].self, from: try await registry.get("/docket/v1/images").body)
            #expect(images.count == 1)
            #expect(images.first?.name == "team/app" && images.first?.tag == "1.0" && images.first?.digest == manifestDigest)
            #expect(images.first?.size == Int64(image.config.count + image.layers[0].count + image.layers[1].count))

            // Torrents: the large layer has one pointing back at this registry; the small one does not.
            let torrent = try await registry.get("/docket/v1/blobs/\(image.layerDigests[1])/torrent")
            #expect(torrent.status == 200)
            #expect(torrent.header("Content-Type") == MediaType.torrent)
            let metainfo = try Metainfo.parse([UInt8](torrent.body))
            #expect(metainfo.name == image.layerDigests[1].hex)
            #expect(metainfo.isPrivate)
            #expect(metainfo.totalLength == Int64(large.count))
            #expect(metainfo.announce == "\(registry.base)/announce")
            #expect(metainfo.urlList == ["\(registry.base)/docket/v1/blobs/\(image.layerDigests[1])"])
            let local = try Metainfo.create(fileAt: work + "/layer-large.tar", name: image.layerDigests[1].hex, isPrivate: true, announce: nil, urlList: [])
            #expect(metainfo.infoHash == local.infoHash)
            let small = try await registry.get("/docket/v1/blobs/\(image.layerDigests[0])/torrent")
            #expect(small.status == 404)
            #expect(String(decoding: small.body, as: UTF8.self).contains("TORRENT_UNKNOWN"))

        }
    }

    @Test func errorsUseTheOCIFormat() async throws {
        try await LiveRegistry.with { registry, work in
            let missingDigest = Digest.sha256(of: Data("nothing".utf8))
            let cases: [(String, String, Int, String)] = [
                ("GET", "/v2/nobody/manifests/latest", 404, "MANIFEST_UNKNOWN"),   // as Distribution 2.8 answers
                ("GET", "/v2/nobody/tags/list", 404, "NAME_UNKNOWN"),
                ("GET", "/docket/v1/blobs/\(missingDigest)", 404, "BLOB_UNKNOWN"),
                ("GET", "/docket/v1/blobs/\(missingDigest)/torrent", 404, "BLOB_UNKNOWN"),
                ("GET", "/docket/v1/blobs/sha256:xyz", 400, "DIGEST_INVALID"),
                ("GET", "/v2/Bad_Name/manifests/latest", 400, "NAME_INVALID"),
                ("DELETE", "/v2/_catalog", 405, "UNSUPPORTED"),
                ("GET", "/nowhere", 404, "NOT_FOUND"),
                ("POST", "/docket/v1/push?name=team/app&tag=1.0", 400, "BODY_MISSING"),
                ("POST", "/docket/v1/push?name=UPPER&tag=1.0", 400, "NAME_INVALID"),
            ]
            for (method, path, status, code) in cases {
                let response = try await registry.get(path, method: method)
                #expect(response.status == status, "\(method) \(path)")
                let object = try JSONSerialization.jsonObject(with: response.body) as? [String: [[String: String]]]
                #expect(object?["errors"]?.first?["code"] == code, "\(method) \(path)")
                #expect(object?["errors"]?.first?["message"]?.isEmpty == false)
            }
        }
    }

    @Test func corruptPushStoresNothing() async throws {
        try await LiveRegistry.with { registry, work in
            let good = try TestImage.make(in: work, seed: 1)
            #expect(try await registry.push(good.archivePath, name: "team/good", tag: "1").status == 201)
            let filesBefore = registry.blobFiles()
            let catalogBefore = try await registry.get("/v2/_catalog").body

            // A layer stored under blobs/sha256/<hex> whose bytes hash to something else; the config is
            // new to the registry, so the rollback must remove it again.
            let wrongDigest = Digest.sha256(of: Data("something else".utf8))
            let newConfig = Data(#"{"rootfs":{"type":"layers","diff_ids":["\#(wrongDigest)"]}}"#.utf8)
            let mismatched = work + "/mismatch.tar"
            try TestImage.writeTar(at: mismatched) { w in
                try w.addFile(name: "config.json", data: newConfig)
                try w.addFile(name: "blobs/sha256/\(wrongDigest.hex)", data: Data("tampered layer".utf8))
                try w.addFile(name: "manifest.json", data: Data(#"[{"Config":"config.json","RepoTags":[],"Layers":["blobs/sha256/\#(wrongDigest.hex)"]}]"#.utf8))
            }
            let rejected = try await registry.push(mismatched, name: "team/bad", tag: "1")
            #expect(rejected.status == 400)
            let text = String(decoding: rejected.body, as: UTF8.self)
            #expect(text.contains("DIGEST_INVALID") && text.contains(wrongDigest.description))

            // A truncated archive.
            let truncated = work + "/truncated.tar"
            let bytes = try Data(contentsOf: URL(fileURLWithPath: good.archivePath))
            try bytes.prefix(bytes.count / 2).write(to: URL(fileURLWithPath: truncated))
            let cut = try await registry.push(truncated, name: "team/bad", tag: "2")
            #expect(cut.status == 400)
            #expect(String(decoding: cut.body, as: UTF8.self).contains("ARCHIVE_INVALID"))

            // Config that does not match the layers.
            let badConfig = work + "/badconfig.tar"
            try TestImage.writeTar(at: badConfig) { w in
                try w.addFile(name: "config.json", data: Data(#"{"rootfs":{"type":"layers","diff_ids":[]}}"#.utf8))
                try w.addFile(name: "l.tar", data: Data("unique layer bytes".utf8))
                try w.addFile(name: "manifest.json", data: Data(#"[{"Config":"config.json","Layers":["l.tar"]}]"#.utf8))
            }
            let invalid = try await registry.push(badConfig, name: "team/bad", tag: "3")
            #expect(invalid.status == 400)
            #expect(String(decoding: invalid.body, as: UTF8.self).contains("MANIFEST_INVALID"))

            #expect(registry.blobFiles() == filesBefore)
            #expect(try await registry.get("/v2/_catalog").body == catalogBefore)
            #expect(try await registry.get("/v2/team/bad/tags/list").status == 404)
            let leftovers = try FileManager.default.contentsOfDirectory(atPath: registry.directory + "/tmp")
            #expect(leftovers.isEmpty)
        }
    }

    @Test func announceIncludesTheRegistrySeeder() async throws {
        try await LiveRegistry.with { registry, work in
            let image = try TestImage.make(in: work)
            #expect(try await registry.push(image.archivePath, name: "team/app", tag: "1").status == 201)
            let metainfo = try Metainfo.parse([UInt8](try await registry.get("/docket/v1/blobs/\(image.layerDigests[1])/torrent").body))

            let request = AnnounceRequest(infoHash: metainfo.infoHash, peerID: .random(prefix: PeerID.clientPrefix), port: 7001,
                                          uploaded: 0, downloaded: 0, left: metainfo.totalLength, event: .started, numWant: 50)
            let answer = try await registry.client.send(HTTPRequest(url: request.url(base: metainfo.announce!)))
            #expect(answer.status == 200)
            let parsed = try AnnounceResponse.parse([UInt8](answer.body))
            let seederPort = try #require(registry.server.seederPort)
            #expect(parsed.peers.contains(PeerAddress(host: "127.0.0.1", port: seederPort)))

            // A torrent the registry does not seed gets no registry peer.
            let other = AnnounceRequest(infoHash: InfoHash(hashingInfo: [1, 2, 3]), peerID: .random(prefix: PeerID.clientPrefix), port: 7002,
                                        uploaded: 0, downloaded: 0, left: 10)
            let otherAnswer = try AnnounceResponse.parse([UInt8](try await registry.client.send(HTTPRequest(url: other.url(base: metainfo.announce!))).body))
            #expect(!otherAnswer.peers.contains { $0.port == seederPort })
        }
    }

    /// A port already taken, or an address no interface has: the error says which and what to do,
    /// and a data directory the failed start created is gone again.
    @Test func aStartThatCannotListenSaysWhyAndLeavesNoNewDataDirectory() async throws {
        let first = try await LiveRegistry.start()
        defer { try? FileManager.default.removeItem(atPath: first.directory) }
        let fresh = try LiveRegistry.temporaryDirectory() + "/data"
        defer { try? FileManager.default.removeItem(atPath: (fresh as NSString).deletingLastPathComponent) }
        let port = first.server.port
        let error = await #expect(throws: RegistryServerError.self) {
            _ = try await LiveRegistry.start(directory: fresh) { $0.port = port }
        }
        #expect("\(error.map { "\($0)" } ?? "")".contains("Address already in use: pick another --port"))
        #expect(!FileManager.default.fileExists(atPath: fresh))
        await first.stop()
        // An address no interface has (TEST-NET-1): named, with what --bind takes.
        let elsewhere = await #expect(throws: RegistryServerError.self) {
            _ = try await LiveRegistry.start(directory: fresh) { $0.bindAddress = "192.0.2.1" }
        }
        #expect("\(elsewhere.map { "\($0)" } ?? "")".hasPrefix("cannot listen on 192.0.2.1:0: no network interface of this machine has that address"))
        #expect(!FileManager.default.fileExists(atPath: fresh))
    }

    /// `httpUploadLimit` paces blob bodies (`serve --upload-limit`): 1.2 MB at 1 MB/s takes most of
    /// a second, where sendfile takes milliseconds; bytes and ranges stay exact.
    @Test func httpUploadLimitPacesBlobBodies() async throws {
        let registry = try await LiveRegistry.start { $0.httpUploadLimit = 1_000_000 }
        defer { try? FileManager.default.removeItem(atPath: registry.directory) }
        let work = try LiveRegistry.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: work) }
        let image = try TestImage.make(in: work)
        #expect(try await registry.push(image.archivePath, name: "team/app", tag: "1").status == 201)
        let layer = image.layerDigests[1]
        let started = ContinuousClock.now
        let whole = try await registry.get("/v2/team/app/blobs/\(layer)")
        let elapsed = started.duration(to: .now)
        #expect(whole.status == 200 && Digest.sha256(of: whole.body) == layer)
        // At most a quarter second of burst and the first block go unpaced.
        #expect(elapsed >= .milliseconds(700), "\(elapsed)")
        let part = try await registry.get("/docket/v1/blobs/\(layer)", headers: [("Range", "bytes=1000-1999")])
        #expect(part.status == 206 && part.body == image.layers[1][1000..<2000])
        await registry.stop()
    }

    @Test func restartKeepsImagesAndCachedTorrents() async throws {
        let first = try await LiveRegistry.start()
        defer { try? FileManager.default.removeItem(atPath: first.directory) }
        let work = try LiveRegistry.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: work) }
        let image = try TestImage.make(in: work)
        #expect(try await first.push(image.archivePath, name: "team/app", tag: "1").status == 201)
        let torrentBefore = try await first.get("/docket/v1/blobs/\(image.layerDigests[1])/torrent").body
        await first.stop()
        #expect(FileManager.default.fileExists(atPath: "\(first.directory)/torrents/\(image.layerDigests[1].hex).torrent"))

        let second = try await LiveRegistry.start(directory: first.directory)
        let tags = try await second.get("/v2/team/app/tags/list")
        #expect(String(decoding: tags.body, as: UTF8.self) == #"{"name":"team/app","tags":["1"]}"#)
        let torrentAfter = try await second.get("/docket/v1/blobs/\(image.layerDigests[1])/torrent").body
        #expect(try Metainfo.parse([UInt8](torrentAfter)).infoHash == (try Metainfo.parse([UInt8](torrentBefore)).infoHash))
        await second.stop()
    }
}

extension RegistryServerTests {
    @Test func invalidPushIsRefusedBeforeTheUpload() async throws {
        try await LiveRegistry.with { registry, work in
            let image = try TestImage.make(in: work)
            let badTag = try await registry.push(image.archivePath, name: "team/app", tag: "-bad")
            #expect(badTag.status == 400)
            #expect(String(decoding: badTag.body, as: UTF8.self).contains("TAG_INVALID"))
            let badName = try await registry.push(image.archivePath, name: "Team", tag: "1")
            #expect(String(decoding: badName.body, as: UTF8.self).contains("NAME_INVALID"))
            let wrongPath = try await registry.client.send(HTTPRequest(method: "POST", url: registry.base + "/v2/_catalog", body: .file(image.archivePath)))
            #expect(wrongPath.status == 405)
            #expect(try FileManager.default.contentsOfDirectory(atPath: registry.directory + "/tmp").isEmpty)
            // A client that waits for 100 Continue gets the refusal before sending the body.
            let url = registry.base + "/docket/v1/push?name=team/app&tag=-bad"
            let archive = image.archivePath
            let written = try await Blocking.run { () throws -> String in
                let curl = Process()
                let output = Pipe()
                curl.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
                curl.arguments = ["-s", "-o", "/dev/null", "-w", "%{http_code} %{size_upload}", "-H", "Expect: 100-continue",
                                  "--data-binary", "@" + archive, url]
                curl.standardOutput = output
                try curl.run()
                curl.waitUntilExit()
                return String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            }
            #expect(written == "400 0")
            // The server still answers normally afterwards.
            #expect(try await registry.push(image.archivePath, name: "team/app", tag: "1").status == 201)
        }
    }
}

extension RegistryServerTests {
    @Test func pushesAnOCILayoutWithACompressedLayer() async throws {
        try await LiveRegistry.with { registry, work in
            let layer = Data([0x1f, 0x8b, 0x08, 0x00] + Array(repeating: 7, count: 5000))
            let layerDigest = Digest.sha256(of: layer)
            let config = Data(#"{"os":"linux","rootfs":{"type":"layers","diff_ids":["sha256:\#(String(repeating: "ab", count: 32))"]}}"#.utf8)
            let configDigest = Digest.sha256(of: config)
            let manifest = Data("""
            {"schemaVersion":2,"mediaType":"\(MediaType.ociManifest)","config":{"mediaType":"\(MediaType.ociConfig)","digest":"\(configDigest)","size":\(config.count)},
             "layers":[{"mediaType":"\(MediaType.ociLayerGzip)","digest":"\(layerDigest)","size":\(layer.count)}]}
            """.utf8)
            let manifestDigest = Digest.sha256(of: manifest)
            let index = Data(#"{"schemaVersion":2,"manifests":[{"mediaType":"\#(MediaType.ociManifest)","digest":"\#(manifestDigest)","size":\#(manifest.count)}]}"#.utf8)
            let archive = work + "/oci.tar"
            try TestImage.writeTar(at: archive) { w in
                try w.addFile(name: "oci-layout", data: Data(#"{"imageLayoutVersion":"1.0.0"}"#.utf8))
                try w.addFile(name: "index.json", data: index)
                for (digest, data) in [(configDigest, config), (layerDigest, layer), (manifestDigest, manifest)] {
                    try w.addFile(name: "blobs/sha256/\(digest.hex)", data: data)
                }
            }
            let pushed = try await registry.push(archive, name: "oci/app", tag: "2.0")
            #expect(pushed.status == 201, "\(String(decoding: pushed.body, as: UTF8.self))")
            let stored = try Manifest.decode(try await registry.get("/v2/oci/app/manifests/2.0").body)
            #expect(stored.layers == [Descriptor(mediaType: MediaType.ociLayerGzip, digest: layerDigest, size: Int64(layer.count))])
            #expect(stored.config.digest == configDigest)
            #expect(try await registry.get("/v2/oci/app/blobs/\(layerDigest)").body == layer)
        }
    }
}

extension RegistryServerTests {
    @Test func aSecondRegistryCannotShareThePort() async throws {
        try await LiveRegistry.with { registry, work in
            var configuration = RegistryServer.Configuration.testing(dataDirectory: work)
            configuration.port = registry.server.port
            configuration.seeding = false
            let second = RegistryServer(configuration: configuration)
            await #expect(throws: RegistryServerError.self) { try await Blocking.run { try second.start() } }
        }
    }
}

extension RegistryServerTests {
    @Test func runServesUntilCancelled() async throws {
        let dir = try LiveRegistry.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var configuration = RegistryServer.Configuration.testing(dataDirectory: dir)
        configuration.seeding = false
        let server = RegistryServer(configuration: configuration)
        let task = Task { try await server.run() }
        while server.port == 0 { try await Task.sleep(for: .milliseconds(10)) }
        let url = "http://127.0.0.1:\(server.port)/v2/"
        #expect(try await HTTPClient().send(HTTPRequest(url: url)).status == 200)
        task.cancel()
        try await task.value
        await #expect(throws: HTTPClientError.self) { try await HTTPClient().send(HTTPRequest(url: url)) }
    }

    @Test func catalogPagesWithALinkHeader() async throws {
        try await LiveRegistry.with { registry, work in
            let image = try TestImage.make(in: work, largeLayerSize: 10)
            for name in ["a/one", "b/two", "c/three"] {
                #expect(try await registry.push(image.archivePath, name: name, tag: "1").status == 201)
            }
            let page = try await registry.get("/v2/_catalog?n=2")
            #expect(String(decoding: page.body, as: UTF8.self) == #"{"repositories":["a/one","b/two"]}"#)
            #expect(page.header("Link") == #"</v2/_catalog?last=b/two&n=2>; rel="next""#)
            let next = try await registry.get("/v2/_catalog?last=b/two&n=2")
            #expect(String(decoding: next.body, as: UTF8.self) == #"{"repositories":["c/three"]}"#)
            #expect(next.header("Link") == nil)
            // A page that happens to end exactly at the last entry has no next link.
            let exact = try await registry.get("/v2/_catalog?n=3")
            #expect(String(decoding: exact.body, as: UTF8.self) == #"{"repositories":["a/one","b/two","c/three"]}"#)
            #expect(exact.header("Link") == nil)
            let badBind = RegistryServer(configuration: .init(dataDirectory: work, bindAddress: "localhost", port: 0, seeding: false))
            await #expect(throws: RegistryServerError.self) { try await Blocking.run { try badBind.start() } }
        }
    }
}

extension RegistryServerTests {
    @Test func torrentURLsFollowTheHostHeaderOrTheExternalTracker() async throws {
        let work = try LiveRegistry.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: work) }
        let image = try TestImage.make(in: work)
        let registry = try await LiveRegistry.start { $0.externalTracker = "http://tracker.example:6969/announce" }
        defer { try? FileManager.default.removeItem(atPath: registry.directory) }
        #expect(try await registry.push(image.archivePath, name: "team/app", tag: "1").status == 201)
        let layer = image.layerDigests[1]
        let answer = try await registry.get("/docket/v1/blobs/\(layer)/torrent", headers: [("Host", "registry.example:5000")])
        let metainfo = try Metainfo.parse([UInt8](answer.body))
        #expect(metainfo.announce == "http://tracker.example:6969/announce")
        #expect(metainfo.urlList == ["http://registry.example:5000/docket/v1/blobs/\(layer)"])
        await registry.stop()
    }
}

extension RegistryServerTests {
    @Test func aSecondRegistryCannotShareTheDataDirectory() async throws {
        try await LiveRegistry.with { registry, _ in
            var configuration = RegistryServer.Configuration.testing(dataDirectory: registry.directory)
            configuration.seeding = false
            let second = RegistryServer(configuration: configuration)
            do {
                try await Blocking.run { try second.start() }
                Issue.record("a second registry started on \(registry.directory)")
            } catch let error as RegistryServerError {
                #expect(error.description.contains("another registry process is using this data directory"))
            }
        }
    }
}

extension RegistryServerTests {
    @Test func servesConcurrentRangeRequestsWhilePushing() async throws {
        try await LiveRegistry.with { registry, work in
            let image = try TestImage.make(in: work, seed: 1)
            let other = work + "/second"
            try FileManager.default.createDirectory(atPath: other, withIntermediateDirectories: true)
            let second = try TestImage.make(in: other, seed: 2)
            #expect(try await registry.push(image.archivePath, name: "team/app", tag: "1").status == 201)
            let layer = image.layers[1]
            let path = "/v2/team/app/blobs/\(image.layerDigests[1])"
            let chunk = 100_000
            let results = try await withThrowingTaskGroup(of: (Int, HTTPResponse).self) { group in
                group.addTask { (-1, try await registry.push(second.archivePath, name: "team/app", tag: "2")) }
                for index in 0..<12 {
                    let first = index * chunk
                    group.addTask { (index, try await registry.get(path, headers: [("Range", "bytes=\(first)-\(first + chunk - 1)")])) }
                }
                var all: [Int: HTTPResponse] = [:]
                for try await (index, response) in group { all[index] = response }
                return all
            }
            #expect(results[-1]?.status == 201)
            for index in 0..<12 {
                let first = index * chunk
                #expect(results[index]?.status == 206)
                #expect(results[index]?.body == layer[first..<min(first + chunk, layer.count)])
            }
            let tags = try await registry.get("/v2/team/app/tags/list")
            #expect(String(decoding: tags.body, as: UTF8.self) == #"{"name":"team/app","tags":["1","2"]}"#)
        }
    }
}
