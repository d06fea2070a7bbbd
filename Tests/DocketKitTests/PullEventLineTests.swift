import Foundation
import Testing
@testable import DocketKit

/// The lines `docket-cli pull` prints when piped.
@Suite struct PullEventLineTests {
    let digest = Digest.sha256(of: Data("layer".utf8))

    @Test func layerDoneCountsResumedBytes() {
        let resumed = PullEvent.layerDone(digest, size: 10_000_000, fromRegistry: 2_000_000, fromPeers: 1_000_000, resumed: 7_000_000)
        #expect(resumed.line == "\(digest.hex.prefix(12)): pull complete (2.0 MB from registry, 1.0 MB from peers, "
                + "7.0 MB resumed from an interrupted pull)")
        let fresh = PullEvent.layerDone(digest, size: 3_000_000, fromRegistry: 2_000_000, fromPeers: 1_000_000)
        #expect(fresh.line == "\(digest.hex.prefix(12)): pull complete (2.0 MB from registry, 1.0 MB from peers)")
    }

    @Test func progressHasNoLine() {
        #expect(PullEvent.layerProgress(digest, TransferProgress(verifiedBytes: 1, totalBytes: 2)).line == nil)
        #expect(PullEvent.layerSkipped(digest, size: 5).line == "\(digest.hex.prefix(12)): already exists")
    }
}
