import Foundation
import Testing

/// The swarm lab (`bench/swarm/lab.py`, `make bench-swarm`) at its smallest: two hosts and a registry
/// host in network namespaces, an 8 MB image, every scenario once. Keeps the lab from rotting; the
/// numbers themselves are not judged here. Needs root (namespaces, tc).
@Suite(.serialized) struct SwarmLabSmokeTests {
    static let canRun = getuid() == 0 && FileManager.default.isExecutableFile(atPath: "/usr/bin/python3")

    @Test(.enabled(if: canRun, "needs root and /usr/bin/python3"))
    func labDeploysToTwoHostsWithEverySystemAndWritesVerifiedResults() async throws {
        let directory = try TemporaryDirectory("swarm-lab")
        defer { directory.remove() }
        let run = try await Command.run("/usr/bin/python3", [Repository.root + "/bench/swarm/lab.py"], environment: [
            "SWARM_N": "2", "SWARM_SIZE_MB": "8", "SWARM_RATE_MBIT": "1000", "SWARM_TIMEOUT": "20",
            "SWARM_PREFIX": "dks", "SWARM_SUBNET": "10.78.0", "SWARM_OUT": directory.path,
            "SWARM_SCENARIOS": "docket,docket-http,registry,aria2c,libtorrent", "DOCKET_CLI": CLIBinary.path,
        ], check: false, timeout: 150)
        #expect(run.status == 0, "lab.py failed:\n\(run.output)")

        let rows = try LabCSV(path: directory.path + "/results.csv").rows
        #expect(rows.map { $0["system"] ?? "" } == ["docket", "docket-http", "registry", "aria2c", "libtorrent"])
        for row in rows {
            let system = row["system"] ?? "?"
            let size = Double(row["size_bytes"] ?? "") ?? 0
            #expect(size > 8 * 1_048_576, "\(system): image size \(size)")
            #expect(row["n"] == "2")
            #expect(row["verified"] == "1", "\(system) did not deliver a verified image to both hosts")
            #expect((Double(row["t_last_s"] ?? "") ?? 0) > 0, "\(system): no time for the last host")
            #expect((row["t_hosts_s"] ?? "").split(separator: " ").compactMap { Double($0) }.count == 2)
            // Whatever the system, the registry host sends at least one copy of the image.
            #expect((Double(row["registry_tx_bytes"] ?? "") ?? 0) >= size, "\(system): registry sent too little")
        }
        // Over plain HTTP every host takes every byte from the registry host.
        for httpOnly in rows where ["docket-http", "registry"].contains(httpOnly["system"] ?? "") {
            let size = Double(httpOnly["size_bytes"] ?? "") ?? 0
            #expect((Double(httpOnly["registry_tx_bytes"] ?? "") ?? 0) >= 2 * size)
        }
        #expect(FileManager.default.fileExists(atPath: directory.path + "/deploy-time.png"))
        #expect(run.output.contains("T_min"))
        // Nothing the lab made outlives it.
        let namespaces = try await Command.run("ip", ["netns", "list"]).output
        #expect(!namespaces.contains("dks-"))
    }

    /// Bad settings stop the lab before it builds anything (a negative size once made the image
    /// script read /dev/urandom without end), naming the variable and what it takes.
    @Test(.enabled(if: canRun, "needs root and /usr/bin/python3"), arguments: [
        ("SWARM_SIZE_MB", "-5"), ("SWARM_N", "abc"), ("SWARM_N", "0"), ("SWARM_RATE_MBIT", "0"), ("SWARM_SCENARIOS", "nosuch"),
        ("SWARM_OUT", "/proc/docket-lab"),
    ])
    func badSettingsStopTheLabAtOnce(_ name: String, _ value: String) async throws {
        let directory = try TemporaryDirectory("swarm-lab-bad")
        defer { directory.remove() }
        var environment = ["SWARM_PREFIX": "dkb", "SWARM_OUT": directory.path + "/out", "DOCKET_CLI": CLIBinary.path]
        environment[name] = value
        let run = try await Command.run("/usr/bin/python3", [Repository.root + "/bench/swarm/lab.py"], environment: environment,
                                        check: false, timeout: 30)
        #expect(run.status != 0)
        #expect(run.output.contains("lab.py: \(name) must be") && run.output.contains("not '\(value)'"), "\(run.output)")
        #expect(!FileManager.default.fileExists(atPath: directory.path + "/out"))
        let namespaces = try await Command.run("ip", ["netns", "list"]).output
        #expect(!namespaces.contains("dkb-"))
    }
}

/// The lab's results.csv as dictionaries keyed by the header (no field contains a comma).
private struct LabCSV {
    let rows: [[String: String]]

    init(path: String) throws {
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map(String.init)
        let header = lines.first?.split(separator: ",", omittingEmptySubsequences: false).map(String.init) ?? []
        rows = lines.dropFirst().map { line in
            let fields = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            return Dictionary(uniqueKeysWithValues: zip(header, fields))
        }
    }
}
