import DocketKit
import Foundation
import Testing

@Suite struct ImageArchiveTests {
    private let layerA = Data("layer-a tar bytes".utf8)
    private let layerB = Data([0x1f, 0x8b, 0x08, 0x00] + Array("gzip-ish".utf8))
    private let config = Data(#"{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}"#.utf8)


    private func bytes(_ archive: ImageArchive, _ member: ImageArchive.Member) throws -> Data {
        var out = Data()
        try TarReader(path: archive.path).read(offset: member.offset, length: member.size) { out.append(contentsOf: $0) }
        return out
    }

    @Test func readsLegacyDockerSaveWithSymlinkedLayer() throws {
        let dir = try TarTestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/legacy.tar"
        try TarTestSupport.writeArchive(at: path) { w in
            try w.addFile(name: "abc.json", data: config)
            try w.addDirectory(name: "111")
            try w.addFile(name: "111/layer.tar", data: layerA)
            try w.addDirectory(name: "222")
            try w.addSymlink(name: "222/layer.tar", target: "../111/layer.tar")
            try w.addFile(name: "333/layer.tar", data: layerB)
            try w.addFile(name: "manifest.json", data: Data(#"[{"Config":"abc.json","RepoTags":["team/app:1.0"],"Layers":["111/layer.tar","222/layer.tar","333/layer.tar"]}]"#.utf8))
        }
        let archive = try ImageArchive.read(path: path)
        #expect(archive.format == .dockerSave)
        #expect(archive.repoTags == ["team/app:1.0"])
        #expect(try archive.configData() == config)
        #expect(archive.config.claimedDigest == nil)
        #expect(archive.layers.map(\.member.pathInArchive) == ["111/layer.tar", "111/layer.tar", "333/layer.tar"])
        #expect(archive.layers.map(\.mediaType) == [MediaType.ociLayer, MediaType.ociLayer, MediaType.ociLayerGzip])
        #expect(try bytes(archive, archive.layers[1].member) == layerA)
        #expect(try bytes(archive, archive.layers[2].member) == layerB)
    }

    @Test func readsOCILayoutWithNestedIndexAndDotSlashNames() throws {
        let dir = try TarTestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let configDigest = Digest.sha256(of: config)
        let layerDigest = Digest.sha256(of: layerB)
        let manifest = Data("""
        {"schemaVersion":2,"mediaType":"\(MediaType.ociManifest)",
         "config":{"mediaType":"\(MediaType.ociConfig)","digest":"\(configDigest)","size":\(config.count)},
         "layers":[{"mediaType":"\(MediaType.ociLayerGzip)","digest":"\(layerDigest)","size":\(layerB.count)}]}
        """.utf8)
        let manifestDigest = Digest.sha256(of: manifest)
        let nested = Data("""
        {"schemaVersion":2,"manifests":[
          {"mediaType":"\(MediaType.ociManifest)","digest":"\(manifestDigest)","size":\(manifest.count),"platform":{"os":"linux","architecture":"amd64"}},
          {"mediaType":"\(MediaType.ociManifest)","digest":"\(manifestDigest)","size":\(manifest.count),"annotations":{"vnd.docker.reference.type":"attestation-manifest"}}]}
        """.utf8)
        let nestedDigest = Digest.sha256(of: nested)
        let index = Data("""
        {"schemaVersion":2,"manifests":[{"mediaType":"\(MediaType.ociIndex)","digest":"\(nestedDigest)","size":\(nested.count),
          "annotations":{"io.containerd.image.name":"docker.io/library/app:2.0"}}]}
        """.utf8)
        let path = dir + "/oci.tar"
        try TarTestSupport.writeArchive(at: path) { w in
            try w.addDirectory(name: "./")
            try w.addFile(name: "./oci-layout", data: Data(#"{"imageLayoutVersion":"1.0.0"}"#.utf8))
            try w.addFile(name: "./index.json", data: index)
            for (digest, data) in [(configDigest, config), (layerDigest, layerB), (manifestDigest, manifest), (nestedDigest, nested)] {
                try w.addFile(name: "./blobs/sha256/\(digest.hex)", data: data)
            }
        }
        let archive = try ImageArchive.read(path: path)
        #expect(archive.format == .ociLayout)
        #expect(archive.repoTags == ["docker.io/library/app:2.0"])
        #expect(archive.config.claimedDigest == configDigest)
        #expect(archive.config.pathInArchive == "blobs/sha256/\(configDigest.hex)")
        #expect(try archive.configData() == config)
        #expect(archive.layers.count == 1)
        #expect(archive.layers[0].member.claimedDigest == layerDigest)
        #expect(archive.layers[0].mediaType == MediaType.ociLayerGzip)
        #expect(try bytes(archive, archive.layers[0].member) == layerB)
    }

    @Test func dockerLoadArchiveRoundTrips() throws {
        let dir = try TarTestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try layerA.write(to: URL(fileURLWithPath: dir + "/a"))
        try layerB.write(to: URL(fileURLWithPath: dir + "/b"))
        let a = ImageArchive.LayerFile(path: dir + "/a", digest: .sha256(of: layerA))
        let b = ImageArchive.LayerFile(path: dir + "/b", digest: .sha256(of: layerB))
        let path = dir + "/load.tar"
        try ImageArchive.writeDockerLoadArchive(config: config, layers: [a, b, a], repoTag: "team/app:1.0", toFileAt: path)

        let entries = try TarReader(path: path).entries().map(\.normalizedName)
        #expect(entries.filter { $0.hasPrefix("blobs/sha256/") }.count == 3)   // config + two distinct layers
        let manifestEntry = try #require(try TarReader(path: path).entries().first { $0.name == "manifest.json" })
        let manifest = try TarReader(path: path).data(of: manifestEntry)
        let expected = #"[{"Config":"blobs/sha256/\#(Digest.sha256(of: config).hex)","Layers":["blobs/sha256/\#(a.digest.hex)","blobs/sha256/\#(b.digest.hex)","blobs/sha256/\#(a.digest.hex)"],"RepoTags":["team/app:1.0"]}]"#
        #expect(String(decoding: manifest, as: UTF8.self) == expected)

        let archive = try ImageArchive.read(path: path)
        #expect(archive.repoTags == ["team/app:1.0"])
        #expect(try archive.configData() == config)
        #expect(archive.layers.map(\.member.claimedDigest) == [a.digest, b.digest, a.digest])
        #expect(try bytes(archive, archive.layers[1].member) == layerB)
    }

    @Test func explainsWhatIsMissing() throws {
        let dir = try TarTestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/broken.tar"
        try TarTestSupport.writeArchive(at: path) { w in
            try w.addFile(name: "manifest.json", data: Data(#"[{"Config":"c.json","RepoTags":[],"Layers":["l/layer.tar"]}]"#.utf8))
            try w.addFile(name: "c.json", data: config)
        }
        do {
            _ = try ImageArchive.read(path: path)
            Issue.record("expected a failure")
        } catch let error as DocketError {
            #expect(error.description.contains("l/layer.tar"))
            #expect(error.description.contains(path))
        }
        let empty = dir + "/empty.tar"
        try TarTestSupport.writeArchive(at: empty) { try $0.addFile(name: "readme", data: Data("x".utf8)) }
        #expect(throws: DocketError.self) { try ImageArchive.read(path: empty) }
    }
}
