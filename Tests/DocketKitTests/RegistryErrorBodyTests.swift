import Foundation
import Testing
@testable import DocketKit

@Suite struct RegistryErrorBodyTests {
    @Test func summarisesOCIErrors() throws {
        let body = Data(#"{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown","detail":{"tag":"2.0"}},{"code":"NAME_UNKNOWN","message":""}]}"#.utf8)
        let parsed = try #require(RegistryErrorBody(body))
        #expect(parsed.summary == #"MANIFEST_UNKNOWN: manifest unknown ({"tag":"2.0"}); NAME_UNKNOWN"#)
        #expect(parsed.contains(code: "NAME_UNKNOWN"))
        #expect(!parsed.contains(code: "BLOB_UNKNOWN"))
    }

    @Test func fallsBackToBodyTextOrStatus() {
        #expect(RegistryErrorBody(Data("oops".utf8)) == nil)
        #expect(RegistryErrorBody.message(status: 502, body: Data(" bad gateway\n".utf8)) == "bad gateway")
        #expect(RegistryErrorBody.message(status: 500, body: Data()) == "HTTP 500 with an empty body")
        #expect(RegistryErrorBody.message(status: 404, body: Data("<!DOCTYPE HTML>\n<html><body>Not found</body></html>".utf8))
            == "HTTP 404 with an HTML page, not a registry's error")
        #expect(RegistryErrorBody.message(status: 400, body: Data(#"{"errors":[{"code":"DIGEST_INVALID","message":"bad","detail":"layer 2"}]}"#.utf8))
            == "DIGEST_INVALID: bad (layer 2)")
    }
}
