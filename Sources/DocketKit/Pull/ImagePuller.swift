import Foundation

/// Pulls an image from a `Registry` into an `ImageStore`: config and small blobs over HTTP, layers over
/// BitTorrent (with plain HTTP as fallback), every blob verified against its digest before it is stored.
public struct ImagePuller: Sendable {
    /// A pulled image and the torrents still seeding it.
    public struct Result: Sendable {
        public var image: PulledImage
        public var summary: PullSummary
        public var seeding: SeedingSession
    }

    public let registry: any Registry
    public let store: any ImageStore
    /// nil means HTTP only, whatever `options.peerToPeer` says.
    public let seeder: (any TorrentSeeder)?
    public let options: PullOptions
    public let logger: Logger

    public init(registry: any Registry, store: any ImageStore, seeder: (any TorrentSeeder)?,
                options: PullOptions = PullOptions(), logger: Logger = .silent) {
        self.registry = registry
        self.store = store
        self.seeder = seeder
        self.options = options
        self.logger = logger
    }

    /// The whole job as a stream: check the deployer, download, deploy, seed for `options.seedTime`.
    /// The stream ends after seeding; stopping the consumer (or cancelling its task) stops everything cleanly.
    public func pull(_ reference: ImageReference, deployer: (any Deployer)? = nil) -> AsyncThrowingStream<PullEvent, Error> {
        let (stream, continuation) = AsyncThrowingStream.makeStream(of: PullEvent.self)
        let task = Task {
            do {
                try await deployer?.prepare()
                let result = try await download(reference) { continuation.yield($0) }
                do {
                    if let deployer {
                        try await deployer.deploy(result.image)
                        continuation.yield(.deployed)
                    }
                } catch {
                    await result.seeding.stop()
                    throw error
                }
                await result.seeding.seed(for: options.seedTime) { continuation.yield($0) }
                continuation.finish()
            } catch {
                continuation.finish(throwing: error)
            }
        }
        continuation.onTermination = { _ in task.cancel() }
        return stream
    }

    /// Downloads every blob missing from the store, stores the manifest, and returns with the layers
    /// still seeding (call `result.seeding.seed(for:)` or `stop()`). On failure nothing is left seeding
    /// and the manifest is not stored.
    public func download(_ reference: ImageReference, events: @escaping @Sendable (PullEvent) -> Void = { _ in }) async throws -> Result {
        let start = ContinuousClock.now
        // Downloads of pulls killed before they could clean up (their locks went with them).
        await store.removeAbandonedWrites()
        let resolved = try await registry.resolve(reference)
        let manifest = resolved.manifest
        events(.resolved(reference: reference, digest: resolved.manifestDigest, layers: manifest.layers))

        let transfers = LockedBox<[any TorrentTransfer]>([])
        let outcomes: [LayerOutcome]
        do {
            let config = try await fetchOverHTTP(manifest.config, repository: reference.name, events: nil)
            var seen = Set<Digest>()
            let layers = manifest.layers.filter { seen.insert($0.digest).inserted }
            outcomes = try await fetchLayers(layers, repository: reference.name, events: events, transfers: transfers)
                + [config]
            _ = try await store.putManifest(resolved.manifestBytes, for: reference)
        } catch {
            for transfer in transfers.withLockedValue({ $0 }) { await transfer.stop() }
            throw error
        }

        let elapsed = start.duration(to: .now)
        let summary = PullSummary(
            reference: reference.description, manifestDigest: resolved.manifestDigest, layerCount: manifest.layers.count,
            totalBytes: outcomes.reduce(0) { $0 + $1.size },
            bytesFromRegistry: outcomes.reduce(0) { $0 + $1.fromRegistry },
            bytesFromPeers: outcomes.reduce(0) { $0 + $1.fromPeers },
            bytesAlreadyStored: outcomes.filter(\.skipped).reduce(0) { $0 + $1.size },
            bytesResumed: outcomes.reduce(0) { $0 + $1.resumed },
            seconds: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
        events(.pulled(summary))
        return Result(image: PulledImage(resolved: resolved, store: store), summary: summary,
                      seeding: SeedingSession(transfers: transfers.withLockedValue { $0 }))
    }

    // MARK: - Layers

    struct LayerOutcome: Sendable {
        var size: Int64
        var fromRegistry: Int64 = 0
        var fromPeers: Int64 = 0
        /// Verified bytes an interrupted earlier pull left in the store's partial file.
        var resumed: Int64 = 0
        var skipped = false
    }

    /// Fetches layers, at most `options.maxConcurrentLayers` at a time; the first failure cancels the rest.
    private func fetchLayers(_ layers: [Descriptor], repository: String, events: @escaping @Sendable (PullEvent) -> Void,
                             transfers: LockedBox<[any TorrentTransfer]>) async throws -> [LayerOutcome] {
        try await withThrowingTaskGroup(of: LayerOutcome.self) { group in
            var pending = layers[...]
            var outcomes: [LayerOutcome] = []
            func startNext() {
                guard let layer = pending.popFirst() else { return }
                group.addTask { try await fetchLayer(layer, repository: repository, events: events, transfers: transfers) }
            }
            for _ in 0..<options.maxConcurrentLayers { startNext() }
            while let outcome = try await group.next() {
                outcomes.append(outcome)
                startNext()
            }
            return outcomes
        }
    }

    private func fetchLayer(_ layer: Descriptor, repository: String, events: @escaping @Sendable (PullEvent) -> Void,
                            transfers: LockedBox<[any TorrentTransfer]>) async throws -> LayerOutcome {
        let digest = layer.digest
        if await isStoredIntact(layer, events: events) {
            events(.layerSkipped(digest, size: layer.size))
            if let transfer = await seedStoredLayer(digest, repository: repository) {
                transfers.withLockedValue { $0.append(transfer) }
            }
            return LayerOutcome(size: layer.size, skipped: true)
        }
        if options.peerToPeer, let seeder {
            do {
                let torrent = try await registry.torrent(for: digest, repository: repository)
                let (outcome, transfer) = try await fetchOverBitTorrent(layer, torrent: torrent, seeder: seeder, events: events)
                if let transfer { transfers.withLockedValue { $0.append(transfer) } }
                return outcome
            } catch DocketError.torrentUnavailable {
                // A small blob: the registry serves it over plain HTTP only.
            } catch let error as BitTorrentFailure {
                try Task.checkCancellation()
                events(.notice("BitTorrent failed for layer \(digest.hex.prefix(12)) (\(error.underlying)); fetching it over HTTP"))
            }
        }
        return try await fetchOverHTTP(layer, repository: repository, events: events, storeChecked: true)
    }

    /// Whether the store holds `blob` with its bytes intact: a reused blob is read and hashed
    /// again (a disk or a hand can damage it, and a damaged one would be deployed and seeded). One
    /// that does not match is reported and downloaded again; the new copy replaces it.
    private func isStoredIntact(_ blob: Descriptor, events: (@Sendable (PullEvent) -> Void)?) async -> Bool {
        guard let path = await store.path(of: blob.digest) else { return false }
        let check = { @Sendable () -> String? in
            var info = stat()
            guard stat(path, &info) == 0 else { return "cannot be read: \(String(cString: strerror(errno)))" }
            if Int64(info.st_size) != blob.size { return "holds \(info.st_size) bytes, the manifest says \(blob.size)" }
            do {
                let actual = try Digest.sha256(ofFileAt: path)
                return actual == blob.digest ? nil : "its bytes hash to \(actual)"
            } catch {
                return "cannot be read: \(error)"
            }
        }
        let problem: String?
        do {
            problem = try await Blocking.run(name: "docket.store.verify", check)
        } catch {
            problem = "cannot be checked: \(error)"
        }
        guard let problem else { return true }
        let notice = "stored blob \(blob.digest.hex.prefix(12)) (\(path)) is damaged: \(problem); downloading it again"
        logger.warning(notice)
        events?(.notice(notice))
        return false
    }

    /// A failure of the torrent transfer itself (not of verifying or storing), so HTTP may still work.
    private struct BitTorrentFailure: Error {
        var underlying: Error
    }

    private func fetchOverBitTorrent(_ layer: Descriptor, torrent: Data, seeder: any TorrentSeeder,
                                     events: @escaping @Sendable (PullEvent) -> Void) async throws -> (LayerOutcome, (any TorrentTransfer)?) {
        let digest = layer.digest
        // A partial file an interrupted pull left is carried on: the engine re-hashes what it finds.
        let write = try await store.beginResumableWrite(digest)
        try await Blocking.run { HTTPResume.disown(write) }
        events(.layerStarted(digest, size: layer.size, source: .peerToPeer))
        let transfer: any TorrentTransfer
        do {
            transfer = try await seeder.download(torrent: torrent, to: write.path)
        } catch {
            await store.cancel(write)
            throw BitTorrentFailure(underlying: error)
        }
        do {
            try await Self.waitForTransfer(transfer, digest: digest, events: events)
        } catch {
            await transfer.stop()
            await store.cancel(write)
            throw error is CancellationError ? error : BitTorrentFailure(underlying: error)
        }
        let final = await transfer.currentProgress()
        do {
            if let readBack = final.contentDigest {
                try await store.commit(write, readBack: readBack)
            } else {
                try await store.commit(write)
            }
        } catch {
            await transfer.stop()
            await store.cancel(write)
            throw error
        }
        // Whatever the engine did not attribute to peers or to a resumed partial counts as from the registry.
        let resumed = min(final.bytesResumed, layer.size)
        let fromPeers = min(final.bytesFromPeers, layer.size - resumed)
        let outcome = LayerOutcome(size: layer.size, fromRegistry: layer.size - resumed - fromPeers, fromPeers: fromPeers, resumed: resumed)
        events(.layerDone(digest, size: layer.size, fromRegistry: outcome.fromRegistry, fromPeers: outcome.fromPeers,
                          resumed: outcome.resumed))
        if seeder.continuesSeedingAfterRename { return (outcome, transfer) }
        await transfer.stop()
        return (outcome, await seedStoredLayer(digest, torrent: torrent))
    }

    /// Forwards progress until the transfer completes; cancellation stops the transfer.
    private static func waitForTransfer(_ transfer: any TorrentTransfer, digest: Digest,
                                        events: @escaping @Sendable (PullEvent) -> Void) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                var noticed = Set<String>()
                for await progress in transfer.progress {
                    events(.layerProgress(digest, progress))
                    if let notice = progress.notice, noticed.insert(notice).inserted { events(.notice(notice)) }
                }
            }
            try await withTaskCancellationHandler {
                try await transfer.waitUntilComplete()
            } onCancel: {
                Task { await transfer.stop() }
            }
            try Task.checkCancellation()
            group.cancelAll()
        }
        events(.layerProgress(digest, await transfer.currentProgress()))
    }

    /// Starts seeding a blob that is already stored; nil when there is no torrent or no seeder.
    private func seedStoredLayer(_ digest: Digest, repository: String? = nil, torrent: Data? = nil) async -> (any TorrentTransfer)? {
        guard options.peerToPeer, options.seedTime > .zero, let seeder, let path = await store.path(of: digest) else { return nil }
        do {
            let metainfo: Data
            if let torrent {
                metainfo = torrent
            } else {
                metainfo = try await registry.torrent(for: digest, repository: repository ?? "")
            }
            return try await seeder.seed(torrent: metainfo, from: path)
        } catch {
            logger.debug("not seeding \(digest): \(error)")
            return nil
        }
    }

    /// Downloads one blob over plain HTTP unless it is stored, carrying on what an interrupted
    /// HTTP download of it left (`HTTPResume`); `events` nil reports nothing (the config). Kept
    /// bytes that prove wrong are fetched again, once.
    private func fetchOverHTTP(_ blob: Descriptor, repository: String, events: (@Sendable (PullEvent) -> Void)?,
                               storeChecked: Bool = false, retrying: Bool = false) async throws -> LayerOutcome {
        let digest = blob.digest
        if !storeChecked, await isStoredIntact(blob, events: events) {
            events?(.layerSkipped(digest, size: blob.size))
            return LayerOutcome(size: blob.size, skipped: true)
        }
        var write = try await store.beginResumableWrite(digest)
        var kept: Int64 = 0
        do {
            let resumable = write
            if let claimed = try await Blocking.run({ try HTTPResume.claim(resumable, size: blob.size) }) {
                kept = claimed
            } else {
                await store.cancel(write)
                write = try await store.beginWrite(digest)
            }
        } catch {
            await store.cancel(write)
            throw error
        }
        events?(.layerStarted(digest, size: blob.size, source: .http))
        let start: Int64
        do {
            start = try await downloadRest(of: blob, repository: repository, into: write.path, kept: kept, events: events)
        } catch {
            await store.cancel(write)
            throw error
        }
        do {
            try await store.commit(write)
        } catch DocketError.digestMismatch where start > 0 && !retrying {
            // The commit removed the kept bytes; they were not this blob's first bytes after all.
            events?(.notice("the kept start of \(digest.hex.prefix(12)) did not match its digest; fetching it again"))
            return try await fetchOverHTTP(blob, repository: repository, events: events, storeChecked: true, retrying: true)
        } catch {
            await store.cancel(write)
            throw error
        }
        events?(.layerDone(digest, size: blob.size, fromRegistry: blob.size - start, fromPeers: 0, resumed: start))
        return LayerOutcome(size: blob.size, fromRegistry: blob.size - start, resumed: start)
    }

    /// Fetches what `path` lacks of `blob` after its first `kept` bytes, reporting progress by the
    /// percent; answers where the fetched bytes start (see `Registry.downloadBlob`).
    private func downloadRest(of blob: Descriptor, repository: String, into path: String, kept: Int64,
                              events: (@Sendable (PullEvent) -> Void)?) async throws -> Int64 {
        // All of it was kept (the pull ended before its commit): only the digest check is left.
        if kept == blob.size && kept > 0 { return kept }
        let (digest, size) = (blob.digest, blob.size)
        let lastPercent = LockedBox(-1)
        return try await registry.downloadBlob(digest, repository: repository, to: path, resumingAt: kept) { held, from in
            guard let events else { return }
            let percent = size > 0 ? Int(held * 100 / size) : 100
            guard lastPercent.withLockedValue({ last in
                defer { last = percent }
                return percent != last
            }) else { return }
            events(.layerProgress(digest, TransferProgress(verifiedBytes: held, totalBytes: size, bytesFromRegistry: held - from,
                                                           bytesResumed: from)))
        }
    }
}
