import Testing
@testable import DocketKit

@Suite struct CTorrentOutputTests {
    @Test func readsSizeAndStatusLines() {
        var output = CTorrentOutput()
        let sized = output.consume("<1> f.bin [3000000]")
        #expect(sized)
        #expect(output.totalBytes == 3_000_000)
        let status = output.consume("/ 1/2/3 [3/12/12] 1MB,2MB | 45,0K/s | 0,0K E:0,1")
        #expect(status)
        #expect(output.piecesHeld == 3)
        #expect(output.pieceCount == 12)
        #expect(output.connectedPeers == 3)
        #expect(output.megabytesDown == 1)
        #expect(output.megabytesUp == 2)
        #expect(output.verifiedBytes == 750_000)
        #expect(!output.isComplete)
        #expect(output.trackerErrors == 0)
    }

    @Test func completesOnAllPiecesOrSeedLine() {
        var output = CTorrentOutput()
        _ = output.consume("<1> f.bin [1000]")
        _ = output.consume("- 0/0/1 [12/12/12] 0MB,0MB | 0,0K/s | 0,0K E:1,0 Connecting")
        #expect(output.isComplete)
        #expect(output.verifiedBytes == 1000)
        #expect(output.trackerErrors == 1)

        var seeding = CTorrentOutput()
        let seedLine = seeding.consume("Seed for others 1 hours")
        #expect(seedLine)
        #expect(seeding.isComplete)
    }

    @Test func ignoresOtherLines() {
        var output = CTorrentOutput()
        for line in ["META INFO", "Listening on 0.0.0.0:6999", "Total: 2 MB", "Checking completed.", ""] {
            let changed = output.consume(Substring(line))
            #expect(!changed)
        }
        #expect(output == CTorrentOutput())
    }
}
