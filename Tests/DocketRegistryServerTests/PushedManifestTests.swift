import DocketKit
import Foundation
import Testing
@testable import DocketRegistryServer

@Suite struct PushedManifestTests {
    let digestA = "sha256:" + String(repeating: "a", count: 64)
    let digestB = "sha256:" + String(repeating: "b", count: 64)

    @Test func imageManifestListsConfigThenLayersAndSubject() throws {
        let json = #"{"schemaVersion":2,"mediaType":"\#(MediaType.ociManifest)","artifactType":"application/x-sig","config":{"mediaType":"application/vnd.oci.empty.v1+json","digest":"\#(digestA)","size":2},"layers":[{"mediaType":"application/x-sig","digest":"\#(digestB)","size":10}],"subject":{"mediaType":"\#(MediaType.ociManifest)","digest":"\#(digestB)","size":5}}"#
        let parsed = try PushedManifest.parse(Data(json.utf8), contentType: nil)
        #expect(parsed.mediaType == MediaType.ociManifest)
        #expect(parsed.blobs.map(\.digest.description) == [digestA, digestB])
        #expect(parsed.subject?.description == digestB)
        #expect(parsed.artifactType == "application/x-sig")
        #expect(parsed.referencedSize == 12)
    }

    @Test func mediaTypeComesFromTheHeaderOrIsInferred() throws {
        let index = #"{"schemaVersion":2,"manifests":[{"mediaType":"\#(MediaType.ociManifest)","digest":"\#(digestA)","size":3}]}"#
        #expect(try PushedManifest.parse(Data(index.utf8), contentType: nil).mediaType == MediaType.ociIndex)
        #expect(try PushedManifest.parse(Data(index.utf8), contentType: MediaType.dockerManifestList + "; charset=utf-8").mediaType == MediaType.dockerManifestList)
        #expect(try PushedManifest.parse(Data(index.utf8), contentType: nil).manifests.map(\.digest.description) == [digestA])
    }

    @Test func invalidDocumentsAreManifestInvalid() {
        let cases = [
            "not json",
            #"{"schemaVersion":1,"name":"x"}"#,
            #"{"schemaVersion":2,"mediaType":"application/x-other","config":{}}"#,
            #"{"schemaVersion":2,"config":{"mediaType":"x","digest":"sha256:zz","size":1},"layers":[]}"#,
            #"{"schemaVersion":2,"mediaType":"\#(MediaType.ociManifest)","layers":[]}"#,
        ]
        for text in cases {
            #expect(throws: RegistryError.self, "\(text)") { try PushedManifest.parse(Data(text.utf8), contentType: nil) }
            #expect((try? PushedManifest.parse(Data(text.utf8), contentType: nil)) == nil)
        }
        let mismatch = #"{"schemaVersion":2,"mediaType":"\#(MediaType.ociIndex)","manifests":[]}"#
        #expect(throws: RegistryError.self) { try PushedManifest.parse(Data(mismatch.utf8), contentType: MediaType.ociManifest) }
    }
}
