import Testing
@testable import DocketKit

/// `--tracker-whitelist`, `--tracker-pid` and `--tracker-pidfile` on `serve` and `gc`.
@Suite struct TrackerWhitelistOptionsTests {
    private func serve(_ extra: [String]) throws -> ServeCommand {
        try ServeCommand(parsing: ["--data", "/d"] + extra)
    }

    private func usage(_ body: () throws -> Any) -> String {
        do {
            _ = try body()
            return "no error"
        } catch {
            return "\(error)"
        }
    }

    @Test func serveTakesTheWhitelistWithAPidOrAPidFile() throws {
        let tracker = ["--tracker", "http://t:6969/announce"]
        #expect(try serve(tracker).trackerWhitelist == nil)
        #expect(try serve(tracker + ["--tracker-whitelist", "/srv/ot/whitelist"]).trackerWhitelist
                == TrackerWhitelistOptions(path: "/srv/ot/whitelist", pid: nil, pidFile: nil))
        #expect(try serve(tracker + ["--tracker-whitelist", "/srv/ot/whitelist", "--tracker-pid", "4242"]).trackerWhitelist?.pid == 4242)
        #expect(try serve(tracker + ["--tracker-whitelist", "/srv/ot/whitelist", "--tracker-pidfile", "/run/ot.pid"]).trackerWhitelist?.pidFile == "/run/ot.pid")
        #expect(ServeCommand.spec.helpText.contains("--tracker-whitelist FILE"))
    }

    @Test func badCombinationsAreUsageErrors() {
        let tracker = ["--tracker", "http://t:6969/announce"]
        #expect(usage { try serve(["--tracker-whitelist", "/w"]) }.contains("--tracker-whitelist needs --tracker URL"))
        #expect(usage { try serve(tracker + ["--tracker-pid", "12"]) }.contains("need --tracker-whitelist FILE"))
        #expect(usage { try serve(tracker + ["--tracker-whitelist", "/w", "--tracker-pid", "12", "--tracker-pidfile", "/p"]) }.contains("not both"))
        #expect(usage { try serve(tracker + ["--tracker-whitelist", "/w", "--tracker-pid", "opentracker"]) }.contains("not 'opentracker'"))
        #expect(usage { try serve(tracker + ["--tracker-whitelist", "/w", "--tracker-pid", "1"]) }.contains("a number above 1"))
        #expect(usage { try serve(tracker + ["--tracker-whitelist", "/srv/"]) }.contains("must name a file"))
    }

    @Test func gcTakesTheSameOptions() throws {
        let gc = try GCCommand(parsing: ["--data", "/d", "--tracker-whitelist", "/srv/ot/whitelist", "--tracker-pidfile", "/run/ot.pid"])
        #expect(gc.trackerWhitelist == TrackerWhitelistOptions(path: "/srv/ot/whitelist", pid: nil, pidFile: "/run/ot.pid"))
        #expect(usage { try GCCommand(parsing: ["--data", "/d", "--tracker-pid", "12"]) }.contains("need --tracker-whitelist FILE"))
    }
}
