import Testing
@testable import DocketKit

@Suite struct InvocationTests {
    func parse(_ words: [String], environment: [String: String] = ["HOME": "/home/u"]) throws -> Invocation {
        try Invocation(arguments: words, environment: environment)
    }

    @Test func pullWithEveryOption() throws {
        guard case .pull(let pull) = try parse([
            "pull", "team/app:1.0", "--registry", "http://r:5000", "--store", "/s", "--output", "/o.tar",
            "--seed-time", "5", "--no-p2p", "--backend", "ctorrent", "--port", "7000", "--json",
        ]) else { Issue.record("not a pull"); return }
        #expect(pull.reference == (try ImageReference(parsing: "team/app:1.0")))
        #expect(pull.registry == "http://r:5000")
        #expect(pull.storeDirectory == "/s")
        #expect(pull.outputPath == "/o.tar")
        #expect(pull.seedSeconds == 5)
        #expect(!pull.peerToPeer)
        #expect(pull.backend == .ctorrent)
        #expect(pull.port == 7000)
        #expect(pull.json)
    }

    @Test func pullDefaults() throws {
        guard case .pull(let pull) = try parse(["pull", "app"]) else { Issue.record("not a pull"); return }
        #expect(pull.reference.reference == "latest")
        #expect(pull.registry == "http://127.0.0.1:5000")
        #expect(pull.storeDirectory == "/home/u/.docket/store")
        #expect(pull.outputPath == nil)
        #expect(pull.seedSeconds == 30)
        #expect(pull.peerToPeer)
        #expect(pull.backend == .docket)
        #expect(pull.port == nil)
    }

    @Test func registryComesFromTheEnvironmentUnlessGiven() throws {
        let environment = ["DOCKET_REGISTRY": "http://env:5000", "HOME": "/h"]
        guard case .images(let images) = try parse(["images"], environment: environment) else { Issue.record("not images"); return }
        #expect(images.registry == "http://env:5000")
        guard case .images(let explicit) = try parse(["images", "--registry", "http://flag:1", "--json"], environment: environment)
        else { Issue.record("not images"); return }
        #expect(explicit.registry == "http://flag:1")
        #expect(explicit.json)
    }

    @Test func rateLimitsTakeSuffixes() throws {
        guard case .pull(let pull) = try parse(["pull", "a:1", "--upload-limit", "12.5M", "--download-limit", "500k"]) else {
            Issue.record("not a pull"); return
        }
        #expect(pull.uploadLimit == 12_500_000)
        #expect(pull.downloadLimit == 500_000)
        guard case .serve(let serve) = try parse(["serve", "--data", "/d", "--upload-limit", "1G"]) else {
            Issue.record("not serve"); return
        }
        #expect(serve.uploadLimit == 1_000_000_000)
        for bad in ["fast", "0", "-5M", "100", "1e99"] {
            #expect { try parse(["pull", "a:1", "--upload-limit", bad]) } throws: { "\($0)".contains("--upload-limit must be a rate") }
        }
        #expect { try parse(["pull", "a:1", "--backend", "ctorrent", "--download-limit", "1M"]) } throws: {
            "\($0)".contains("--backend docket only")
        }
    }

    @Test func registryMustBeHTTP() throws {
        #expect { try parse(["images", "--registry", "ftp://127.0.0.1:5391"]) } throws: {
            "\($0)".contains("--registry must be an http:// or https:// URL")
        }
        for bad in ["http://[bad", "http://", "http://:5000", "htp:/bad", "reg:50x0", "reg:"] {
            #expect { try parse(["images", "--registry", bad]) } throws: { "\($0)".contains("is not a URL") }
        }
        for good in ["http://reg:5000", "https://reg.example.com", "reg:5000", "127.0.0.1:5391", "http://[::1]:5000", "[::1]:5000", "reg", "reg:5000/"] {
            guard case .images(let images) = try parse(["images", "--registry", good]) else {
                Issue.record("not images: \(good)"); continue
            }
            #expect(images.registry == good)
        }
    }

    @Test func pushTakesArchiveThenName() throws {
        guard case .push(let push) = try parse(["push", "--registry", "http://r", "/tmp/a.tar", "demo/app:1.0"]) else {
            Issue.record("not a push"); return
        }
        #expect(push.source == "/tmp/a.tar")
        #expect(push.reference.description == "demo/app:1.0")
        #expect(push.registry == "http://r")
    }

    @Test func serveDefaultsAndValidation() throws {
        guard case .serve(let serve) = try parse(["serve", "--data", "/d"]) else { Issue.record("not serve"); return }
        #expect(serve.dataDirectory == "/d")
        #expect(serve.port == 5000)
        #expect(serve.bindAddress == "0.0.0.0")
        #expect(serve.trackerURL == nil)
        #expect(throws: CommandLineError.usage("missing --data DIR (see `docket-cli serve --help`)")) { try parse(["serve"]) }
        #expect(throws: CommandLineError.self) { try parse(["serve", "--data", "/d", "--bind", "localhost"]) }
        #expect(throws: CommandLineError.self) { try parse(["serve", "--data", "/d", "--tracker", "udp://t:1"]) }
    }

    @Test func badValuesAreUsageErrors() {
        #expect(throws: CommandLineError.usage("--backend must be docket or ctorrent, not 'aria2' (see `docket-cli pull --help`)")) {
            try parse(["pull", "app", "--backend", "aria2"])
        }
        #expect(throws: CommandLineError.usage("--seed-time must be a whole number from 0 to 31536000, not '-1' (see `docket-cli pull --help`)")) {
            try parse(["pull", "app", "--seed-time=-1"])
        }
        #expect(throws: CommandLineError.self) { try parse(["serve", "--data", "/d", "--port", "70000"]) }
        #expect(throws: CommandLineError.self) { try parse(["pull", "Bad/Name"]) }
        #expect(throws: CommandLineError.self) { try parse(["push", "a.tar", "app@sha256:" + String(repeating: "a", count: 64)]) }
    }

    @Test func unknownOrMissingCommand() {
        #expect(throws: CommandLineError.usage("unknown command 'fetch' (see `docket-cli --help`)")) { try parse(["fetch"]) }
        #expect(throws: CommandLineError.usage("missing command (see `docket-cli --help`)")) { try parse([]) }
    }

    @Test func topLevelHelpListsEveryCommand() throws {
        #expect(throws: CommandLineError.help(Invocation.helpText)) { try parse(["--help"]) }
        for name in ["serve", "push", "images", "pull"] {
            #expect(Invocation.helpText.contains("\n  \(name) "))
        }
    }

    @Test func everyCommandHasHelp() {
        for command in Invocation.commands {
            let spec = command.spec
            #expect(throws: CommandLineError.help(spec.helpText)) { try parse([spec.name, "--help"]) }
            #expect(spec.helpText.hasPrefix("OVERVIEW: \(spec.abstract)\n"))
            #expect(spec.helpText.contains("USAGE: docket-cli \(spec.name)"))
        }
        #expect(PullCommand.spec.usage == "docket-cli pull NAME:TAG [--registry URL] [--store DIR] [--output FILE] [--seed-time SECONDS] [--no-p2p] [--backend docket|ctorrent] [--port N] [--upload-limit RATE] [--download-limit RATE] [--json]")
    }
}
