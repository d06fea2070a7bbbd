/// A torrent's trackers in BEP 12 tiers: tiers are tried in order; the trackers of a tier are
/// shuffled once, when the torrent starts, and tried in that order; a tracker that answers moves
/// to the front of its tier and stays there. When `announce-list` is present `announce` is
/// ignored; without it, `announce` alone is the single tier. Pure value type: the announcer
/// asks `order` for each announce and reports the tracker that answered with `answered(_:)`.
public struct TrackerTiers: Sendable, Equatable {
    /// The tiers, in the order they are tried, each in its current order.
    public private(set) var tiers: [[String]]

    /// Tiers from a torrent's `announce` and `announce-list`, keeping only the URLs `isUsable`
    /// accepts (by default http and https trackers). Duplicate URLs are kept only the first
    /// time they appear; tiers left empty are dropped. Each tier is shuffled with `generator`.
    public init<G: RandomNumberGenerator>(announce: String?, announceList: [[String]], using generator: inout G,
                                          isUsable: (String) -> Bool = TrackerTiers.isHTTP)
    {
        let declared = announceList.contains { !$0.isEmpty } ? announceList : [[announce].compactMap { $0 }]
        var seen: Set<String> = []
        var tiers: [[String]] = []
        for tier in declared {
            var kept: [String] = []
            for url in tier where isUsable(url) && seen.insert(url).inserted { kept.append(url) }
            if !kept.isEmpty { tiers.append(kept.shuffled(using: &generator)) }
        }
        self.tiers = tiers
    }

    /// Tiers from a torrent's `announce` and `announce-list`, shuffled with the system generator.
    public init(announce: String?, announceList: [[String]]) {
        var generator = SystemRandomNumberGenerator()
        self.init(announce: announce, announceList: announceList, using: &generator)
    }

    /// Tiers exactly as given (no shuffle, no filtering): for tests and callers that already
    /// shuffled.
    public init(ordered tiers: [[String]]) {
        self.tiers = tiers.filter { !$0.isEmpty }
    }

    /// Whether there is no tracker at all.
    public var isEmpty: Bool { tiers.isEmpty }

    /// Every tracker in the order one announce tries them: the first tier first.
    public var order: [String] { tiers.flatMap { $0 } }

    /// Records that `url` answered: it moves to the front of its tier (the others keep their
    /// order). Unknown URLs change nothing.
    public mutating func answered(_ url: String) {
        for index in tiers.indices {
            guard let position = tiers[index].firstIndex(of: url) else { continue }
            tiers[index].remove(at: position)
            tiers[index].insert(url, at: 0)
            return
        }
    }

    /// True for `http://` and `https://` URLs, the trackers DocketTorrent speaks to (no UDP).
    public static func isHTTP(_ url: String) -> Bool {
        let lowered = url.lowercased()
        return lowered.hasPrefix("http://") || lowered.hasPrefix("https://")
    }
}
