import Testing
@testable import DocketRegistryServer

@Suite struct RepositoryEndpointTests {
    @Test func splitsNamesWithSeveralComponents() {
        #expect(RepositoryEndpoint.parse("a/b/c/tags/list")! == ("a/b/c", .tags))
        #expect(RepositoryEndpoint.parse("team/app/blobs/uploads/")! == ("team/app", .uploads))
        #expect(RepositoryEndpoint.parse("team/app/blobs/uploads")! == ("team/app", .uploads))
        #expect(RepositoryEndpoint.parse("team/app/blobs/uploads/abc-1")! == ("team/app", .upload("abc-1")))
        #expect(RepositoryEndpoint.parse("team/app/manifests/1.0")! == ("team/app", .manifest("1.0")))
        #expect(RepositoryEndpoint.parse("blobs/app/blobs/sha256:00")! == ("blobs/app", .blob("sha256:00")))
        #expect(RepositoryEndpoint.parse("x/referrers/sha256:00")! == ("x", .referrers("sha256:00")))
        #expect(RepositoryEndpoint.parse("team/app/nothing") == nil)
    }
}
