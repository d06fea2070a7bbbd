import Testing
@testable import DocketKit

@Suite struct ImageReferenceTests {
    @Test func parsesNameAndTag() throws {
        let reference = try ImageReference(parsing: "team/app:1.0")
        #expect(reference.name == "team/app")
        #expect(reference.reference == "1.0")
        #expect(!reference.isDigest)
        #expect(reference.description == "team/app:1.0")
    }

    @Test func tagDefaultsToLatest() throws {
        let reference = try ImageReference(parsing: "busybox")
        #expect(reference.name == "busybox")
        #expect(reference.reference == "latest")
    }

    @Test func parsesDigestReference() throws {
        let digest = "sha256:" + String(repeating: "ab", count: 32)
        let reference = try ImageReference(parsing: "team/app@\(digest)")
        #expect(reference.name == "team/app")
        #expect(reference.reference == digest)
        #expect(reference.isDigest)
        #expect(reference.description == "team/app@\(digest)")
    }

    @Test func colonInHostPortIsNotATag() throws {
        let reference = try ImageReference(parsing: "registry.local/app")
        #expect(reference.name == "registry.local/app")
        #expect(reference.reference == "latest")
    }

    @Test(arguments: ["Team/app:1.0", "team//app", "-app", "app-:1", "team/app:", "team/app:-x", "team/app@sha256:xyz", ""])
    func rejectsInvalid(_ text: String) {
        #expect(throws: (any Error).self) { try ImageReference(parsing: text) }
    }

    @Test func aSecondColonBlamesTheTag() {
        #expect(throws: ImageReference.ParseError.invalidTag("1.0:extra")) { try ImageReference(parsing: "me/app:1.0:extra") }
    }

    @Test func acceptsSeparators() throws {
        #expect(ImageReference.isValidName("my_team/app-name.v2"))
        #expect(ImageReference.isValidName("a__b/c--d"))
        #expect(!ImageReference.isValidName("a._b"))
        #expect(ImageReference.isValidTag("v1.0_rc-2"))
        #expect(!ImageReference.isValidTag(String(repeating: "a", count: 129)))
    }

    @Test func invalidNameErrorSaysWhatToDo() {
        #expect(ImageReference.ParseError.invalidName("Bad").description.contains("team/app:1.0"))
    }
}
