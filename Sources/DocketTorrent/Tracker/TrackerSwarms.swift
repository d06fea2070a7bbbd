import DocketCore
import Foundation

/// The state of the built-in HTTP tracker: who is in which swarm.
///
/// Thread-safe (one lock around all swarms), so libmicrohttpd's connection threads may call
/// `announce` directly. Peers that have not announced for `2 * interval` seconds expire;
/// `event=stopped` removes a peer at once.
public final class TrackerSwarms: Sendable {
    /// The re-announce interval sent to clients, in seconds; short, so that fresh swarms fill fast.
    public let interval: Int
    /// The most peers returned per announce (the client's `numwant` may ask for fewer).
    public let maxPeersPerAnswer: Int
    private let now: @Sendable () -> TimeInterval
    private let state = LockedBox(State())

    private struct Peer {
        var address: PeerAddress
        var isSeeder: Bool
        var lastSeen: TimeInterval
    }

    private struct State {
        var swarms: [InfoHash: [PeerID: Peer]] = [:]
        var lastSweep: TimeInterval = 0
    }

    /// Makes empty swarms.
    /// - Parameters:
    ///   - interval: seconds between announces asked of clients (default 30).
    ///   - maxPeersPerAnswer: upper bound on peers in one answer (default 50).
    ///   - now: a monotonic clock in seconds, injectable for tests.
    public init(interval: Int = 30, maxPeersPerAnswer: Int = 50,
                now: @escaping @Sendable () -> TimeInterval = { ProcessInfo.processInfo.systemUptime })
    {
        self.interval = interval
        self.maxPeersPerAnswer = maxPeersPerAnswer
        self.now = now
    }

    /// Handles one announce and returns the bencoded answer (always a valid response body).
    ///
    /// - Parameters:
    ///   - rawQuery: the query string after `?`, still percent-encoded.
    ///   - clientIP: the address of the connection; used unless the query's `ip` is an IP literal.
    ///   - extraPeers: peers to put first for this torrent, such as the registry's own seeder.
    /// - Returns: compact `peers` and `peers6`, `interval`, `complete` and `incomplete`; or a
    ///   `failure reason` naming the bad parameter.
    public func announce(rawQuery: String, clientIP: String, extraPeers: (InfoHash) -> [PeerAddress]) -> [UInt8] {
        let request: TrackerQuery
        do {
            request = try TrackerQuery(rawQuery: rawQuery)
        } catch let error as TrackerQuery.Invalid {
            return Self.failureResponse(error.message)
        } catch {
            return Self.failureResponse("invalid announce")
        }
        let host = request.ip.flatMap { PeerAddress(ipLiteral: $0, port: request.port) } ?? PeerAddress(ipLiteral: clientIP, port: request.port)
        guard let address = host else {
            return Self.failureResponse("cannot tell your address: '\(clientIP)' is not an IP literal; pass ip=<address>")
        }
        let extras = extraPeers(request.infoHash)
        let time = now()
        let (others, complete, incomplete) = state.withLockedValue { state in
            if time - state.lastSweep >= TimeInterval(interval) { sweep(&state, at: time) }
            var swarm = state.swarms[request.infoHash] ?? [:]
            swarm = swarm.filter { time - $0.value.lastSeen <= TimeInterval(2 * interval) }
            if request.event == .stopped {
                swarm[request.peerID] = nil
            } else {
                swarm[request.peerID] = Peer(address: address, isSeeder: request.left == 0 || request.event == .completed, lastSeen: time)
            }
            state.swarms[request.infoHash] = swarm.isEmpty ? nil : swarm
            let seeders = swarm.values.filter(\.isSeeder).count
            let others = swarm.filter { $0.key != request.peerID }.map(\.value.address).shuffled()
            return (others, seeders, swarm.count - seeders)
        }
        let wanted = min(maxPeersPerAnswer, max(0, request.numWant ?? maxPeersPerAnswer))
        var chosen: [PeerAddress] = []
        var seen: Set<PeerAddress> = [address]
        for peer in extras + others where chosen.count < wanted && seen.insert(peer).inserted {
            chosen.append(peer)
        }
        if request.event == .stopped { chosen = [] }
        let response: BencodeValue = [
            "interval": .integer(Int64(interval)),
            "complete": .integer(Int64(complete)),
            "incomplete": .integer(Int64(incomplete)),
            "peers": .bytes(chosen.filter { !$0.isIPv6 }.flatMap(\.compact)),
            "peers6": .bytes(chosen.filter(\.isIPv6).flatMap(\.compact)),
        ]
        return Bencode.encode(response)
    }

    /// The number of live (unexpired) peers in the swarm of `infoHash`.
    public func swarmSize(_ infoHash: InfoHash) -> Int {
        let time = now()
        return state.withLockedValue { state in
            (state.swarms[infoHash] ?? [:]).values.filter { time - $0.lastSeen <= TimeInterval(2 * interval) }.count
        }
    }

    /// A bencoded `{failure reason: reason}` body.
    public static func failureResponse(_ reason: String) -> [UInt8] {
        Bencode.encode(["failure reason": .bytes(Array(reason.utf8))])
    }

    /// Drops expired peers and empty swarms everywhere.
    private func sweep(_ state: inout State, at time: TimeInterval) {
        state.lastSweep = time
        for (hash, swarm) in state.swarms {
            let live = swarm.filter { time - $0.value.lastSeen <= TimeInterval(2 * interval) }
            state.swarms[hash] = live.isEmpty ? nil : live
        }
    }
}
