import Foundation

/// `docket-cli gc`: remove blobs no manifest references from a stopped registry's data directory.
package struct GCCommand: DocketCommand {
    package static let spec = CommandSpec(
        name: "gc",
        abstract: "Delete blobs no pushed manifest references from a registry's data directory (registry stopped).",
        options: [
            .option("--data", "DIR", "The registry's data directory (required)."),
            .flag("--dry-run", "Only list what would be deleted."),
            .flag("--json", "Print the report as JSON."),
        ] + TrackerWhitelistOptions.specs,
        discussion: "Stop `docket-cli serve` first: gc takes the directory's lock and refuses to run beside a registry.")

    package var dataDirectory: String
    package var dryRun: Bool
    package var json: Bool
    /// The tracker whitelist `serve` keeps: the collected torrents are taken out of it.
    package var trackerWhitelist: TrackerWhitelistOptions?

    package init(_ arguments: ParsedArguments, environment: [String: String]) throws {
        guard let data = arguments.value("--data"), !data.isEmpty else { throw Self.spec.usageError("missing --data DIR") }
        dataDirectory = data
        dryRun = arguments.flag("--dry-run")
        json = arguments.flag("--json")
        trackerWhitelist = try TrackerWhitelistOptions.parse(arguments, for: Self.spec)
    }
}
