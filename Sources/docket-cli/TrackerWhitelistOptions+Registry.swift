import DocketKit
import DocketRegistryServer

extension TrackerWhitelistOptions {
    /// The registry's whitelist for these options.
    var whitelist: TrackerWhitelist {
        let reload: TrackerWhitelist.Reload = if let pid { .pid(pid) } else if let pidFile { .pidFile(pidFile) } else { .none }
        return TrackerWhitelist(path: path, reload: reload)
    }
}
