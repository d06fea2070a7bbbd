import DocketCore
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The event loop of one `TorrentClient`: epoll over the listening socket, peer sockets and an
/// eventfd for commands. Everything here runs on the loop's own thread.
final class Engine {
    static let unchokeSlots = 8
    static let maxQueuedUploads = 1024
    static let sendBufferHighWater = 512 * 1024
    static let readChunk = 256 * 1024
    /// Messages other than requests, blocks and cancels a peer may send per second, on top of one
    /// `have` per piece; more is a flood and closes the connection.
    static let controlMessagesPerSecond = 1000

    let configuration: TorrentClient.Configuration
    let logger: Logger
    let epoll: Epoll
    let listener: Int32
    let listenPort: UInt16
    let channel: CommandChannel
    let diskWriter: DiskWriter
    let http = HTTPClient()

    var torrents: [InfoHash: Torrent] = [:]
    var connections: [Int32: PeerConnection] = [:]
    var uploadBucket: TokenBucket?
    var downloadBucket: TokenBucket?
    var running = true
    var now: Double
    var lastSecondTick: Double = 0
    var uploadTurn = 0
    /// Bytes with the disk writer (`EngineDisk`).
    var pendingWriteBytes = 0
    /// Connections with messages queued outside their own read or write event (a `have` after a
    /// piece verified, say), flushed at the end of the loop iteration rather than on the next tick.
    var flushPending: Set<Int32> = []
    let readBuffer: UnsafeMutableRawPointer

    init(configuration: TorrentClient.Configuration) throws {
        self.configuration = configuration
        logger = configuration.logger
        epoll = try Epoll()
        let (fd, port) = try Sockets.listen(host: configuration.bindAddress, port: configuration.port)
        listener = fd
        listenPort = port
        channel = CommandChannel(wakeFD: epoll.wakeFD)
        diskWriter = DiskWriter(channel: channel, logger: logger)
        now = MonotonicClock.now()
        if let rate = configuration.uploadRateLimit { uploadBucket = TokenBucket(bytesPerSecond: rate, now: now) }
        if let rate = configuration.downloadRateLimit { downloadBucket = TokenBucket(bytesPerSecond: rate, now: now) }
        readBuffer = UnsafeMutableRawPointer.allocate(byteCount: Self.readChunk, alignment: 16)
        epoll.add(listener, readable: true, writable: false)
    }

    deinit { readBuffer.deallocate() }

    /// The loop; returns after `shutdown`.
    func run() {
        while running {
            epoll.wait(timeoutMilliseconds: 20) { fd, events in handle(fd: fd, events: events) }
            now = MonotonicClock.now()
            for command in channel.drain() { execute(command) }
            tick()
            flushPendingConnections()
        }
        for command in channel.close() {
            if case .add(let setup) = command { setup.storage.close(); setup.shared.finish() }
        }
        let announcers = torrents.values.compactMap { $0.announcer }
        for torrent in Array(torrents.values) { stop(torrent) }
        diskWriter.shutdown()
        close(listener)
        // Best effort `stopped` announces, bounded.
        let deadline = Date().addingTimeInterval(4)
        for announcer in announcers { announcer.waitUntilDone(deadline: deadline) }
    }

    private func handle(fd: Int32, events: UInt32) {
        if fd == listener {
            acceptConnections()
            return
        }
        guard let connection = connections[fd] else { return }
        if events & (EpollEvents.error | EpollEvents.hangUp) != 0 && connection.phase == .connecting {
            closeConnection(connection, reason: "connect failed: \(String(cString: strerror(Sockets.pendingError(fd))))")
            return
        }
        if events & EpollEvents.writable != 0 {
            if connection.phase == .connecting {
                finishConnect(connection)
            } else {
                pumpUploads(connection)
                flush(connection)
            }
        }
        if connection.phase != .closed, events & (EpollEvents.readable | EpollEvents.readHangUp | EpollEvents.hangUp | EpollEvents.error) != 0 {
            readFrom(connection)
        }
    }

    // MARK: commands

    private func execute(_ command: EngineCommand) {
        switch command {
        case .add(let setup):
            let torrent = Torrent(setup: setup, now: now)
            torrents[torrent.infoHash] = torrent
            publish(torrent, force: true)
            let tiers = TrackerTiers(announce: setup.metainfo.announce, announceList: setup.metainfo.announceList)
            if !tiers.isEmpty {
                let announcer = TrackerAnnouncer(tiers: tiers, infoHash: torrent.infoHash, peerID: configuration.peerID,
                                                 port: listenPort, shared: torrent.shared, channel: channel, http: http, logger: logger)
                torrent.announcer = announcer
                announcer.start()
            }
            logger.info("torrent added", ["torrent.infohash": torrent.infoHash.hex, "torrent.seeding": "\(setup.seeding)"])
        case .addPeers(let hash, let addresses):
            guard let torrent = torrents[hash] else { return }
            addKnown(torrent, addresses)
            connectToKnownPeers(torrent)
        case .stop(let hash, let shared):
            if let torrent = torrents[hash], torrent.shared === shared { stop(torrent) }
        case .trackerResult(let hash, let result):
            guard let torrent = torrents[hash] else { return }
            switch result {
            case .success(let addresses):
                torrent.trackerError = nil
                addKnown(torrent, addresses)
                connectToKnownPeers(torrent)
            case .failure(let failure):
                torrent.trackerError = failure.message
            }
        case .webSeedResult(let hash, let piece, let result):
            if let torrent = torrents[hash] { webSeedFinished(torrent, piece: piece, result: result) }
        case .resumeChecked(let hash, let shared, let verified):
            if let torrent = torrents[hash], torrent.shared === shared { resumeChecked(torrent, verified) }
        case .pieceWritten(let hash, let shared, let piece, let outcome):
            if let torrent = torrents[hash], torrent.shared === shared { pieceWritten(torrent, piece: piece, outcome: outcome) }
        case .contentHashed(let hash, let shared, let digest):
            if let torrent = torrents[hash], torrent.shared === shared { contentHashed(torrent, digest) }
        case .shutdown:
            running = false
        case .inspect(let hash, let body):
            body(torrents[hash])
        }
    }

    func addKnown(_ torrent: Torrent, _ addresses: [PeerAddress]) {
        for address in addresses where torrent.known[address] == nil && address.port != 0 {
            torrent.known[address] = KnownPeer()
        }
    }

    private func stop(_ torrent: Torrent) {
        for connection in connections.values where connection.torrent === torrent {
            closeConnection(connection, reason: "torrent stopped")
        }
        torrents[torrent.infoHash] = nil
        dropWrites(torrent)
        saveResume(torrent)
        torrent.announcer?.stop()
        torrent.storage.close()
        torrent.shared.publish(torrent.status)
        torrent.shared.finish()
        logger.info("torrent stopped", ["torrent.infohash": torrent.infoHash.hex])
    }

    // MARK: connections

    private func acceptConnections() {
        while let (fd, address) = Sockets.accept(listener) {
            let connection = PeerConnection(fd: fd, address: address, outgoing: false, torrent: nil, now: now)
            connections[fd] = connection
            epoll.add(fd, readable: true, writable: false)
        }
    }

    func connectToKnownPeers(_ torrent: Torrent) {
        for (address, peer) in torrent.known where !peer.connected && !peer.isSelf && now >= peer.nextAttempt {
            guard torrent.peers.count + torrent.connecting < configuration.maxPeersPerTorrent else { return }
            do {
                let fd = try Sockets.connect(to: address)
                let connection = PeerConnection(fd: fd, address: address, outgoing: true, torrent: torrent, now: now)
                connections[fd] = connection
                torrent.connecting += 1
                torrent.known[address]?.connected = true
                epoll.add(fd, readable: false, writable: true)
                connection.writeRegistered = true
            } catch {
                torrent.known[address]?.failures += 1
                torrent.known[address]?.nextAttempt = now + 30
            }
        }
    }

    private func finishConnect(_ connection: PeerConnection) {
        let error = Sockets.pendingError(connection.fd)
        guard error == 0, let torrent = connection.torrent else {
            closeConnection(connection, reason: "connect failed: \(String(cString: strerror(error)))")
            return
        }
        connection.phase = .handshaking
        connection.out.append(Handshake(infoHash: torrent.infoHash.bytes, peerID: configuration.peerID.bytes).encoded())
        connection.lastSent = now
        flush(connection)
    }

    /// Sends `message` to a connection other than the one being served; it goes out at the end of
    /// this loop iteration, batched with anything else queued for that connection meanwhile.
    func sendSoon(_ message: PeerMessage, to connection: PeerConnection) {
        connection.send(message)
        flushPending.insert(connection.fd)
    }

    private func flushPendingConnections() {
        guard !flushPending.isEmpty else { return }
        let fds = flushPending
        flushPending.removeAll(keepingCapacity: true)
        for fd in fds {
            if let connection = connections[fd] { flush(connection) }
        }
    }

    /// Sends what is queued; keeps EPOLLOUT registered only while bytes are waiting.
    func flush(_ connection: PeerConnection) {
        guard connection.phase != .closed, connection.phase != .connecting else { return }
        if !connection.out.isEmpty {
            if connection.phase == .active { connection.lastSent = now }
            guard connection.out.drain(to: connection.fd) else {
                closeConnection(connection, reason: "send failed: \(String(cString: strerror(errno)))")
                return
            }
        }
        // The socket took everything: serve more queued requests now rather than when the peer
        // next speaks (clients that send their requests in batches would stall otherwise).
        while uploadBucket == nil, connection.phase == .active, connection.out.isEmpty, connection.pendingUploads > 0 {
            pumpUploads(connection)
            guard connection.phase == .active else { return }
            guard connection.out.drain(to: connection.fd) else {
                closeConnection(connection, reason: "send failed: \(String(cString: strerror(errno)))")
                return
            }
        }
        let wantWrite = !connection.out.isEmpty
        if wantWrite != connection.writeRegistered || connection.phase == .handshaking {
            epoll.modify(connection.fd, readable: true, writable: wantWrite)
            connection.writeRegistered = wantWrite
        }
    }

    func closeConnection(_ connection: PeerConnection, reason: String) {
        guard connection.phase != .closed else { return }
        let wasConnecting = connection.phase == .connecting || (connection.phase == .handshaking && connection.outgoing)
        logger.debug("peer closed: \(reason)", ["peer.address": "\(connection.address)"])
        if let torrent = connection.torrent {
            if connection.phase == .active, torrent.peers[connection.fd] === connection {
                torrent.peers[connection.fd] = nil
                torrent.release(connection)
                for index in 0..<torrent.pieceCount where connection.bitfield.contains(index) {
                    torrent.availability[index] -= 1
                }
                forgetReveals(of: connection, in: torrent)
            }
            if connection.outgoing {
                if connection.phase == .connecting || connection.phase == .handshaking { torrent.connecting -= 1 }
                if var known = torrent.known[connection.address] {
                    known.connected = false
                    if wasConnecting { known.failures += 1 }
                    known.nextAttempt = now + min(120, 5 * Double(1 << min(known.failures, 5)))
                    torrent.known[connection.address] = known
                }
            }
        }
        connection.phase = .closed
        epoll.remove(connection.fd)
        close(connection.fd)
        connections[connection.fd] = nil
    }

    // MARK: reading

    private func readFrom(_ connection: PeerConnection) {
        var total = 0
        while total < 4 * Self.readChunk {
            let n = recv(connection.fd, readBuffer, Self.readChunk, 0)
            if n > 0 {
                connection.decoder.feed(UnsafeRawBufferPointer(start: readBuffer, count: n))
                total += n
                if n < Self.readChunk { break }
            } else if n == 0 {
                processMessages(connection)
                closeConnection(connection, reason: "peer closed the connection")
                return
            } else if errno == EINTR {
                continue
            } else if errno == EAGAIN || errno == EWOULDBLOCK {
                break
            } else {
                closeConnection(connection, reason: "receive failed: \(String(cString: strerror(errno)))")
                return
            }
        }
        if total > 0 { connection.lastReceived = now }
        processMessages(connection)
        guard connection.phase == .active else { return }
        fillRequests(connection)
        pumpUploads(connection)
        flush(connection)
    }

    private func processMessages(_ connection: PeerConnection) {
        do {
            if connection.phase == .handshaking {
                guard let handshake = try connection.decoder.nextHandshake() else { return }
                acceptHandshake(handshake, on: connection)
            }
            while connection.phase == .active, let message = try connection.decoder.next() {
                if !message.isData, let torrent = connection.torrent {
                    connection.controlMessages += 1
                    let limit = Self.controlMessagesPerSecond + torrent.pieceCount
                    guard connection.controlMessages <= limit else {
                        closeConnection(connection, reason: "flooded us with more than \(limit) messages in a second")
                        return
                    }
                }
                handle(message, from: connection)
            }
        } catch {
            closeConnection(connection, reason: "\(error)")
        }
    }

    private func acceptHandshake(_ handshake: Handshake, on connection: PeerConnection) {
        guard let hash = InfoHash(bytes: handshake.infoHash), let torrent = torrents[hash],
              connection.torrent == nil || connection.torrent === torrent else {
            closeConnection(connection, reason: "handshake for an unknown info-hash")
            return
        }
        let peerID = PeerID(bytes: handshake.peerID)!
        if peerID == configuration.peerID {
            if connection.outgoing {
                torrent.known[connection.address]?.isSelf = true
            } else {
                // Answer so the dialling side learns the address is ourselves.
                connection.out.append(Handshake(infoHash: hash.bytes, peerID: configuration.peerID.bytes).encoded())
                _ = connection.out.drain(to: connection.fd)
            }
            closeConnection(connection, reason: "connected to ourselves")
            return
        }
        if torrent.banned.contains(peerID) {
            closeConnection(connection, reason: "peer \(peerID) is banned for sending bad data")
            return
        }
        if let existing = torrent.peers.values.first(where: { $0.peerID == peerID }) {
            // Two Docket peers both keep the connection dialled by the one with the smaller id. Other
            // clients have rules of their own, so with them the connection already up stays: closing
            // it could leave none if they close the other one.
            let keepOutgoing = configuration.peerID.bytes.lexicographicallyPrecedes(peerID.bytes)
            if peerID.isDocket && connection.outgoing == keepOutgoing && existing.outgoing != keepOutgoing {
                closeConnection(existing, reason: "duplicate connection")
            } else {
                if connection.outgoing { torrent.known[connection.address]?.failures = 5 }
                closeConnection(connection, reason: "duplicate connection")
                return
            }
        }
        guard torrent.peers.count < configuration.maxPeersPerTorrent else {
            closeConnection(connection, reason: "peer limit reached")
            return
        }
        if connection.outgoing {
            torrent.connecting -= 1
            torrent.known[connection.address]?.failures = 0
        } else {
            connection.out.append(Handshake(infoHash: hash.bytes, peerID: configuration.peerID.bytes).encoded())
        }
        connection.torrent = torrent
        connection.peerID = peerID
        connection.isRegistrySeed = peerID.isRegistrySeeder
        connection.phase = .active
        connection.decoder.maxMessageLength = PeerWireDecoder.limit(pieceCount: torrent.pieceCount)
        connection.bitfield = Bitfield(count: torrent.pieceCount)
        torrent.peers[connection.fd] = connection
        if isSuperSeeding(torrent) {
            revealPieces(to: connection, in: torrent)
        } else if torrent.have.setCount > 0 {
            connection.send(.bitfield(torrent.have.bytes))
        }
        connection.lastSent = now
        logger.debug("peer connected", ["peer.address": "\(connection.address)", "peer.id": "\(peerID)"])
    }
}
