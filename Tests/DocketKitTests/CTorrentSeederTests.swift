import Foundation
import Testing
@testable import DocketKit

/// What only the ctorrent backend has; the behaviour every backend shares is in `TorrentSeederSuiteTests`.
@Suite
struct CTorrentSeederTests {
    @Test func missingExecutableSaysWhatToInstall() {
        let error = #expect(throws: DocketError.self) { try CTorrentSeeder(configuration: .init(executable: "/nonexistent/ctorrent")) }
        #expect("\(error.map { "\($0)" } ?? "")".contains("apt-get install ctorrent"))
    }

    @Test func loopbackIdentitiesDifferPerPort() {
        let identities = Set((6881...7881).map { CTorrentTransfer.loopbackIdentity(port: UInt16($0)) })
        #expect(identities.count == 1001)
        #expect(identities.allSatisfy { $0.hasPrefix("127.") && !$0.hasPrefix("127.0.0.") })
        #expect(CTorrentTransfer.isLoopback("http://127.0.0.1:5000/announce"))
        #expect(CTorrentTransfer.isLoopback("http://localhost/announce"))
        #expect(!CTorrentTransfer.isLoopback("http://10.0.0.5:5000/announce"))
        #expect(!CTorrentTransfer.isLoopback(nil))
    }
}
