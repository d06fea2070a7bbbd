import Foundation

/// A `docket-cli` subcommand: its spec (name, abstract, usage, options) and validated values.
package protocol DocketCommand: Sendable {
    static var spec: CommandSpec { get }
    /// Validates everything that can be checked without I/O; throws `CommandLineError.usage`.
    init(_ arguments: ParsedArguments, environment: [String: String]) throws
}

extension DocketCommand {
    package init(parsing arguments: [String], environment: [String: String] = [:]) throws {
        try self.init(Self.spec.parse(arguments), environment: environment)
    }
}

/// Values shared by several commands.
package enum CommandDefaults {
    package static let registry = "http://127.0.0.1:5000"

    /// `--registry`, else `DOCKET_REGISTRY`, else `http://127.0.0.1:5000`; only http(s) URLs or `host:port`.
    package static func registry(_ arguments: ParsedArguments, environment: [String: String], for spec: CommandSpec) throws -> String {
        let url = arguments.value("--registry") ?? environment["DOCKET_REGISTRY"].flatMap { $0.isEmpty ? nil : $0 } ?? registry
        if url.contains("://") && !(url.hasPrefix("http://") || url.hasPrefix("https://")) {
            throw spec.usageError("--registry must be an http:// or https:// URL (or host:port), not '\(url)'")
        }
        let full = url.contains("://") ? url : "http://" + url
        guard let parsed = URLComponents(string: full), let host = parsed.host, !host.isEmpty,
              url.contains("://") || hasHostAndPort(url) else {
            throw spec.usageError("--registry '\(url)' is not a URL: give http://HOST:PORT (or HOST:PORT)")
        }
        return url
    }

    /// `HOST`, `HOST:PORT` or `[IPv6]:PORT`, then any path: not a mistyped scheme such as `htp:/x`.
    private static func hasHostAndPort(_ value: String) -> Bool {
        let authority = value.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        let afterHost = authority.hasPrefix("[") ? authority.split(separator: "]", maxSplits: 1).dropFirst().first ?? "" : authority
        guard let colon = afterHost.firstIndex(of: ":") else { return !authority.isEmpty }
        let port = afterHost[afterHost.index(after: colon)...]
        return !port.isEmpty && port.allSatisfy(\.isASCII) && port.allSatisfy(\.isNumber)
    }

    static let registryOption = OptionSpec.option("--registry", "URL", "Registry to talk to (default: $DOCKET_REGISTRY or \(registry)).")

    /// Parses an image reference, or fails with a usage error for `spec`.
    static func reference(_ text: String, for spec: CommandSpec) throws -> ImageReference {
        do {
            return try ImageReference(parsing: text)
        } catch {
            throw spec.usageError("\(error)")
        }
    }

    /// Parses a rate option in bytes per second with an optional k, M or G suffix (powers of 1000):
    /// `12.5M` is 12,500,000 bytes/s. Nil when the option is absent.
    static func rate(_ name: String, in arguments: ParsedArguments, for spec: CommandSpec) throws -> Int64? {
        guard let text = arguments.value(name) else { return nil }
        let multipliers: [Character: Double] = ["k": 1e3, "K": 1e3, "M": 1e6, "G": 1e9]
        var number = Substring(text)
        var multiplier = 1.0
        if let last = number.last, let m = multipliers[last] {
            multiplier = m
            number = number.dropLast()
        }
        guard let value = Double(number), value.isFinite, value > 0, value * multiplier >= 1024, value * multiplier < 1e13 else {
            throw spec.usageError("\(name) must be a rate in bytes per second of at least 1024, such as 500k, 12.5M or 1G, not '\(text)'")
        }
        return Int64(value * multiplier)
    }

    static func rateOption(_ name: String, _ what: String) -> OptionSpec {
        .option(name, "RATE", "Cap \(what) in bytes per second, e.g. 12.5M (suffixes k, M, G; default: none).")
    }

    /// Parses an integer option within `range`, or fails with a usage error for `spec`.
    static func integer(_ name: String, in arguments: ParsedArguments, range: ClosedRange<Int>, for spec: CommandSpec) throws -> Int? {
        guard let text = arguments.value(name) else { return nil }
        guard let value = Int(text), range.contains(value) else {
            throw spec.usageError("\(name) must be a whole number from \(range.lowerBound) to \(range.upperBound), not '\(text)'")
        }
        return value
    }
}

/// `docket-cli serve`: run a registry.
package struct ServeCommand: DocketCommand {
    package static let spec = CommandSpec(
        name: "serve",
        abstract: "Run a Docket registry: the OCI read API, pushes, a BitTorrent tracker and a seeder.",
        options: [
            .option("--data", "DIR", "Directory for blobs and the database (required; created if missing)."),
            .option("--port", "N", "TCP port for HTTP and the tracker (default: 5000)."),
            .option("--bind", "ADDRESS", "IPv4 address to listen on (default: 0.0.0.0)."),
            .option("--tracker", "URL", "Announce URL to put in torrents instead of the built-in tracker."),
        ] + TrackerWhitelistOptions.specs + [
            CommandDefaults.rateOption("--upload-limit", "the seeder's BitTorrent upload and, separately, blobs served over HTTP"),
        ],
        discussion: """
            Stops cleanly on SIGINT or SIGTERM.
            With --tracker pointing at opentracker in whitelist mode, --tracker-whitelist keeps its whitelist file \
            current (written at start and whenever torrents are added) and --tracker-pid/--tracker-pidfile make it reload.
            """)

    package var dataDirectory: String
    package var port: UInt16
    package var bindAddress: String
    package var trackerURL: String?
    package var trackerWhitelist: TrackerWhitelistOptions?
    package var uploadLimit: Int64?

    package init(_ arguments: ParsedArguments, environment: [String: String]) throws {
        let spec = Self.spec
        uploadLimit = try CommandDefaults.rate("--upload-limit", in: arguments, for: spec)
        guard let data = arguments.value("--data"), !data.isEmpty else { throw spec.usageError("missing --data DIR") }
        dataDirectory = data
        port = UInt16(try CommandDefaults.integer("--port", in: arguments, range: 0...65535, for: spec) ?? 5000)
        bindAddress = arguments.value("--bind") ?? "0.0.0.0"
        var address = in_addr()
        guard inet_pton(AF_INET, bindAddress, &address) == 1 else {
            throw spec.usageError("--bind must be an IPv4 address such as 0.0.0.0 or 127.0.0.1, not '\(bindAddress)'")
        }
        trackerURL = arguments.value("--tracker")
        if let trackerURL, !(trackerURL.hasPrefix("http://") || trackerURL.hasPrefix("https://")) {
            throw spec.usageError("--tracker must be an http:// or https:// URL, not '\(trackerURL)'")
        }
        trackerWhitelist = try TrackerWhitelistOptions.parse(arguments, for: spec)
        if trackerWhitelist != nil && trackerURL == nil {
            throw spec.usageError("--tracker-whitelist needs --tracker URL: the built-in tracker has no whitelist")
        }
    }
}

/// `docket-cli push`: upload an archive (or a local Docker image) to a registry.
package struct PushCommand: DocketCommand {
    package static let spec = CommandSpec(
        name: "push",
        abstract: "Push an image archive (docker save or OCI layout tar), or an image from the local Docker engine.",
        positionals: [
            PositionalSpec("ARCHIVE|IMAGE", "A tar file, or the name of an image in the local Docker engine."),
            PositionalSpec("NAME:TAG", "Name and tag to push it as, e.g. team/app:1.0."),
        ],
        options: [CommandDefaults.registryOption])

    package var source: String
    package var reference: ImageReference
    package var registry: String

    package init(_ arguments: ParsedArguments, environment: [String: String]) throws {
        source = arguments.positionals[0]
        reference = try CommandDefaults.reference(arguments.positionals[1], for: Self.spec)
        guard !reference.isDigest else { throw Self.spec.usageError("push needs NAME:TAG, not a digest") }
        registry = try CommandDefaults.registry(arguments, environment: environment, for: Self.spec)
    }
}

/// `docket-cli images`: list a registry's images.
package struct ImagesCommand: DocketCommand {
    package static let spec = CommandSpec(
        name: "images",
        abstract: "List the images a registry holds.",
        options: [CommandDefaults.registryOption, .flag("--json", "Print JSON instead of a table.")])

    package var registry: String
    package var json: Bool

    package init(_ arguments: ParsedArguments, environment: [String: String]) throws {
        registry = try CommandDefaults.registry(arguments, environment: environment, for: Self.spec)
        json = arguments.flag("--json")
    }
}

/// `docket-cli pull`: fetch an image over BitTorrent and hand it to Docker or an archive file.
package struct PullCommand: DocketCommand {
    /// The BitTorrent implementation to use.
    package typealias Backend = TorrentSeederConfiguration.Backend

    package static let spec = CommandSpec(
        name: "pull",
        abstract: "Pull an image over BitTorrent into a local store, then load it into Docker or write an archive.",
        positionals: [PositionalSpec("NAME:TAG", "Image to pull, e.g. team/app:1.0 (or NAME@sha256:…).")],
        options: [
            CommandDefaults.registryOption,
            .option("--store", "DIR", "Local blob store (default: $DOCKET_STORE or ~/.docket/store)."),
            .option("--output", "FILE", "Write a docker-load archive to FILE instead of loading into Docker."),
            .option("--seed-time", "SECONDS", "Keep seeding the layers this long after the pull (default: 30)."),
            .flag("--no-p2p", "Fetch every blob over plain HTTP."),
            .option("--backend", "docket|ctorrent", "BitTorrent implementation (default: docket)."),
            .option("--port", "N", "BitTorrent listen port (default: any free port; 6881 for ctorrent)."),
            CommandDefaults.rateOption("--upload-limit", "BitTorrent upload (docket backend)"),
            CommandDefaults.rateOption("--download-limit", "the BitTorrent download (docket backend) and, separately, HTTP blob downloads"),
            .flag("--json", "Print one JSON object per event instead of progress."),
        ],
        discussion: "Without --output the image is loaded into Docker (DOCKER_HOST=unix://… or /var/run/docker.sock).")

    package var reference: ImageReference
    package var registry: String
    package var storeDirectory: String
    package var outputPath: String?
    package var seedSeconds: Int
    package var peerToPeer: Bool
    package var backend: Backend
    package var port: UInt16?
    package var uploadLimit: Int64?
    package var downloadLimit: Int64?
    package var json: Bool

    package init(_ arguments: ParsedArguments, environment: [String: String]) throws {
        let spec = Self.spec
        reference = try CommandDefaults.reference(arguments.positionals[0], for: spec)
        registry = try CommandDefaults.registry(arguments, environment: environment, for: Self.spec)
        storeDirectory = arguments.value("--store") ?? environment["DOCKET_STORE"]
            ?? ((environment["HOME"] ?? NSHomeDirectory()) as NSString).appendingPathComponent(".docket/store")
        outputPath = arguments.value("--output")
        seedSeconds = try CommandDefaults.integer("--seed-time", in: arguments, range: 0...31_536_000, for: spec) ?? 30
        peerToPeer = !arguments.flag("--no-p2p")
        let backendName = arguments.value("--backend") ?? Backend.docket.rawValue
        guard let backend = Backend(rawValue: backendName) else {
            throw spec.usageError("--backend must be docket or ctorrent, not '\(backendName)'")
        }
        self.backend = backend
        port = try CommandDefaults.integer("--port", in: arguments, range: 0...65535, for: spec).map { UInt16($0) }
        uploadLimit = try CommandDefaults.rate("--upload-limit", in: arguments, for: spec)
        downloadLimit = try CommandDefaults.rate("--download-limit", in: arguments, for: spec)
        if backend == .ctorrent && (uploadLimit != nil || downloadLimit != nil) {
            throw spec.usageError("--upload-limit and --download-limit work with --backend docket only")
        }
        json = arguments.flag("--json")
    }
}

/// A parsed `docket-cli` command line.
package enum Invocation: Sendable {
    case serve(ServeCommand)
    case push(PushCommand)
    case images(ImagesCommand)
    case pull(PullCommand)
    case gc(GCCommand)

    package static let commands: [any DocketCommand.Type] = [ServeCommand.self, PushCommand.self, ImagesCommand.self, PullCommand.self, GCCommand.self]

    /// The top-level help: every command and its abstract.
    package static var helpText: String {
        let width = commands.map { $0.spec.name.count }.max() ?? 0
        var text = "OVERVIEW: Docket, a container registry whose images deploy over BitTorrent.\n\n"
        text += "USAGE: docket-cli <command> [options]\n\nCOMMANDS:\n"
        for command in commands {
            text += "  \(command.spec.name.padding(toLength: width, withPad: " ", startingAt: 0))  \(command.spec.abstract)\n"
        }
        text += "\nRun `docket-cli <command> --help` for a command's options.\n"
        return text
    }

    /// Parses `arguments` (without the program name).
    package init(arguments: [String], environment: [String: String]) throws {
        guard let name = arguments.first else { throw CommandLineError.usage("missing command (see `docket-cli --help`)") }
        let rest = Array(arguments.dropFirst())
        switch name {
        case "-h", "--help", "help": throw CommandLineError.help(Self.helpText)
        case ServeCommand.spec.name: self = .serve(try ServeCommand(parsing: rest, environment: environment))
        case PushCommand.spec.name: self = .push(try PushCommand(parsing: rest, environment: environment))
        case ImagesCommand.spec.name: self = .images(try ImagesCommand(parsing: rest, environment: environment))
        case PullCommand.spec.name: self = .pull(try PullCommand(parsing: rest, environment: environment))
        case GCCommand.spec.name: self = .gc(try GCCommand(parsing: rest, environment: environment))
        default: throw CommandLineError.usage("unknown command '\(name)' (see `docket-cli --help`)")
        }
    }
}
