import DocketCore
import Foundation

/// Announces one torrent to its HTTP trackers from a thread of its own: `started`, then every
/// interval, `completed` when told, `stopped` on stop. Each announce walks the BEP 12 tiers
/// (`TrackerTiers`) until a tracker answers; that tracker moves to the front of its tier.
/// Peers and errors go back to the event loop.
final class TrackerAnnouncer: Sendable {
    private struct Flags {
        var stop = false
        var completedPending = false
        var done = false
    }

    private let tiers: LockedBox<TrackerTiers>
    private let infoHash: InfoHash
    private let peerID: PeerID
    private let port: UInt16
    private let shared: TorrentShared
    private let channel: CommandChannel
    private let http: HTTPClient
    private let logger: Logger
    private let condition = NSCondition()
    private let flags = LockedBox(Flags())

    init(tiers: TrackerTiers, infoHash: InfoHash, peerID: PeerID, port: UInt16, shared: TorrentShared,
         channel: CommandChannel, http: HTTPClient, logger: Logger) {
        self.tiers = LockedBox(tiers)
        self.infoHash = infoHash
        self.peerID = peerID
        self.port = port
        self.shared = shared
        self.channel = channel
        self.http = http
        self.logger = logger
    }

    func start() {
        let thread = Thread { [self] in run() }
        thread.name = "docket.tracker"
        thread.start()
    }

    /// Announces `completed` now.
    func completed() { signal { $0.completedPending = true } }

    /// Announces `stopped` (best effort) and ends the thread.
    func stop() { signal { $0.stop = true } }

    /// Waits for the thread to end, at most until `deadline`.
    func waitUntilDone(deadline: Date) {
        condition.lock()
        defer { condition.unlock() }
        while !flags.withLockedValue({ $0.done }) && condition.wait(until: deadline) {}
    }

    private func signal(_ change: (inout Flags) -> Void) {
        condition.lock()
        flags.withLockedValue(change)
        condition.broadcast()
        condition.unlock()
    }

    private func run() {
        var event: AnnounceRequest.Event? = .started
        var startedSent = false
        var failures = 0
        while true {
            let outcome = announce(event)
            switch outcome {
            case .success(let response):
                failures = 0
                if event == .started { startedSent = true }
                channel.send(.trackerResult(infoHash, .success(response.peers)))
            case .failure(let failure):
                failures += 1
                channel.send(.trackerResult(infoHash, .failure(failure)))
            }
            if event == .stopped { break }
            var wait: Double
            switch outcome {
            case .success(let response):
                let status = shared.status
                // Ask again soon while downloading without peers; else follow the tracker.
                wait = !status.isComplete && response.peers.count <= 1 ? 5 : Double(max(response.minInterval ?? 0, min(response.interval, 1800)))
                wait = max(wait, Double(response.minInterval ?? 0), 5)
            case .failure:
                wait = min(300, 5 * Double(1 << min(failures, 6)))
            }
            let deadline = Date().addingTimeInterval(wait)
            condition.lock()
            while !flags.withLockedValue({ $0.stop || $0.completedPending }) && condition.wait(until: deadline) {}
            let next = flags.withLockedValue { f -> AnnounceRequest.Event? in
                if f.stop { return .stopped }
                if f.completedPending {
                    f.completedPending = false
                    return startedSent ? .completed : .started
                }
                return startedSent ? nil : .started
            }
            condition.unlock()
            event = next
            if event == .stopped && !startedSent { break }
        }
        condition.lock()
        flags.withLockedValue { $0.done = true }
        condition.broadcast()
        condition.unlock()
    }

    private func announce(_ event: AnnounceRequest.Event?) -> Result<AnnounceResponse, TrackerFailure> {
        let status = shared.status
        let request = AnnounceRequest(
            infoHash: infoHash, peerID: peerID, port: port, uploaded: status.bytesUploaded,
            downloaded: status.bytesFromOtherPeers + status.bytesFromRegistrySeed + status.bytesFromWebSeed,
            left: status.totalBytes - status.verifiedBytes, event: event, numWant: event == .stopped ? 0 : 50)
        var messages: [String] = []
        for base in tiers.withLockedValue({ $0.order }) {
            let url = request.url(base: base)
            do {
                let response = try http.perform(HTTPRequest(url: url, timeout: event == .stopped ? 3 : 20, connectTimeout: event == .stopped ? 2 : 10), sink: nil)
                guard response.status == 200 else {
                    messages.append("tracker \(base) answered HTTP \(response.status)")
                    continue
                }
                let parsed = try AnnounceResponse.parse([UInt8](response.body))
                tiers.withLockedValue { $0.answered(base) }
                logger.debug("announced", ["torrent.infohash": infoHash.hex, "tracker.url": base, "tracker.peers": "\(parsed.peers.count)"])
                return .success(parsed)
            } catch {
                messages.append("tracker \(base): \(error)")
            }
        }
        return .failure(TrackerFailure(message: messages.joined(separator: "; ") + "; continuing with known peers and web seeds"))
    }
}
