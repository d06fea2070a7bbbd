import Foundation

/// `--tracker-whitelist FILE` with `--tracker-pid PID` or `--tracker-pidfile FILE`: the whitelist
/// of an external tracker in whitelist mode (opentracker) that the registry keeps current, and
/// the tracker process to send `SIGHUP` after each write. Shared by `serve` and `gc`.
package struct TrackerWhitelistOptions: Sendable, Hashable {
    /// Host path of the tracker's whitelist file.
    package var path: String
    /// The tracker's process id, when given.
    package var pid: Int32?
    /// A file holding the tracker's process id, when given.
    package var pidFile: String?

    static let specs: [OptionSpec] = [
        .option("--tracker-whitelist", "FILE", "Keep this tracker whitelist file (opentracker's access.whitelist, host path) listing every torrent's info-hash."),
        .option("--tracker-pid", "PID", "Send SIGHUP to this opentracker process after each whitelist write (it reloads the list); another program is refused."),
        .option("--tracker-pidfile", "FILE", "Like --tracker-pid, reading the process id from FILE before each signal."),
    ]

    /// The options from `arguments`; nil when `--tracker-whitelist` is absent.
    /// - Throws: a usage error when a pid option comes without the whitelist, both pid options
    ///   are given, or the pid is not a number above 1.
    static func parse(_ arguments: ParsedArguments, for spec: CommandSpec) throws -> TrackerWhitelistOptions? {
        let pidText = arguments.value("--tracker-pid")
        let pidFile = arguments.value("--tracker-pidfile")
        guard let path = arguments.value("--tracker-whitelist") else {
            if pidText != nil || pidFile != nil {
                throw spec.usageError("--tracker-pid and --tracker-pidfile need --tracker-whitelist FILE")
            }
            return nil
        }
        guard !path.isEmpty, !path.hasSuffix("/") else {
            throw spec.usageError("--tracker-whitelist must name a file, such as /srv/opentracker/whitelist, not '\(path)'")
        }
        if pidText != nil && pidFile != nil {
            throw spec.usageError("give --tracker-pid or --tracker-pidfile, not both")
        }
        var pid: Int32?
        if let pidText {
            guard let value = Int32(pidText), value > 1 else {
                throw spec.usageError("--tracker-pid must be the tracker's process id (a number above 1), not '\(pidText)'")
            }
            pid = value
        }
        if let pidFile, pidFile.isEmpty { throw spec.usageError("--tracker-pidfile must name a file") }
        return TrackerWhitelistOptions(path: path, pid: pid, pidFile: pidFile)
    }
}
