import DocketKit
import Foundation
import Testing

/// `docket-cli` as users run it: serve, push, images, pull, and the errors they will hit.
@Suite(.serialized) struct CLITests {
    let cli = CLIBinary.path

    @Test func pushImagesPullToArchive() async throws {
        let directory = try TemporaryDirectory("cli")
        defer { directory.remove() }
        let serve = try await ServeProcess(dataDirectory: directory.path + "/registry")
        defer { serve.stop() }
        try await ImageFixture.build(at: directory.path + "/app.tar", reference: "cli/app:2.0", payloadMB: 3)

        let push = try await Command.run(cli, ["push", "--registry", serve.url, directory.path + "/app.tar", "cli/app:2.0"])
        #expect(push.output.contains("pushed cli/app:2.0"))

        let images = try await Command.run(cli, ["images", "--registry", serve.url])
        #expect(images.output.contains("cli/app"))
        #expect(images.output.contains("2.0"))

        let output = directory.path + "/out.tar"
        let pull = try await Command.run(cli, ["pull", "--registry", serve.url, "cli/app:2.0", "--store", directory.path + "/store",
                                         "--output", output, "--seed-time", "0"])
        #expect(pull.output.contains("pulled cli/app:2.0"))
        // The archive is a docker-load archive: manifest.json names the config and the three layers.
        let manifestJSON = try await Command.run("tar", ["-xOf", output, "manifest.json"]).output
        let entries = try JSONSerialization.jsonObject(with: Data(manifestJSON.utf8)) as? [[String: Any]]
        #expect((entries?.first?["Layers"] as? [String])?.count == 3)
        #expect((entries?.first?["RepoTags"] as? [String]) == ["cli/app:2.0"])
    }

    @Test func errorsAreOneClearLineAndNonZero() async throws {
        let directory = try TemporaryDirectory("cli-errors")
        defer { directory.remove() }
        let unreachable = "http://127.0.0.1:\(CLIBinary.freePort())"
        let down = try await Command.run(cli, ["images", "--registry", unreachable], check: false)
        #expect(down.status == 1)
        #expect(down.output.contains("cannot reach registry \(unreachable)"))

        // A --store that cannot be a directory fails first, before the registry is asked anything.
        let file = directory.path + "/a-file"
        try Data("not a store".utf8).write(to: URL(fileURLWithPath: file))
        let badStore = try await Command.run(cli, ["pull", "--registry", unreachable, "team/app:1.0", "--store", file,
                                             "--output", directory.path + "/x.tar"], check: false)
        #expect(badStore.status == 1)
        #expect(badStore.output.contains("\(file): it is a file, not a directory"), "\(badStore.output)")

        let serve = try await ServeProcess(dataDirectory: directory.path + "/registry")
        defer { serve.stop() }
        let missing = try await Command.run(cli, ["pull", "--registry", serve.url, "nope/app:1.0", "--store", directory.path + "/s",
                                            "--output", directory.path + "/x.tar"], check: false)
        #expect(missing.status == 1)
        #expect(missing.output.contains("nope/app:1.0"))
        #expect(missing.output.contains("not found"))

        let garbage = directory.path + "/garbage.tar"
        try Data("not a tar at all".utf8).write(to: URL(fileURLWithPath: garbage))
        let badPush = try await Command.run(cli, ["push", "--registry", serve.url, garbage, "bad/app:1.0"], check: false)
        #expect(badPush.status != 0)
        // A directory (an unpacked OCI layout, say) is named, with how to pack it.
        let layout = directory.path + "/layout"
        try FileManager.default.createDirectory(atPath: layout, withIntermediateDirectories: true)
        let directoryPush = try await Command.run(cli, ["push", "--registry", serve.url, layout, "bad/app:2.0"], check: false)
        #expect(directoryPush.status == 1)
        #expect(directoryPush.output.contains("\(layout) is not an image archive (it is a directory;"), "\(directoryPush.output)")
        #expect(directoryPush.output.contains("tar -cf image.tar -C '\(layout)' ."))
        let catalog = try await Command.run("curl", ["-fsS", serve.url + "/v2/_catalog"]).output
        #expect(!catalog.contains("bad/app"))

        let usage = try await Command.run(cli, ["pull"], check: false)
        #expect(usage.status == 64)
    }
}
