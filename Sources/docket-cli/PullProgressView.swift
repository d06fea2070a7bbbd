import DocketKit
import Foundation

/// Shows `PullEvent`s: a per-layer view redrawn in place on a terminal (like `docker pull`),
/// plain lines when piped, or one JSON object per event.
final class PullProgressView: Sendable {
    enum Mode: Sendable { case terminal, plain, json }

    private struct Layer {
        var digest: Digest
        var size: Int64
        var source: BlobSource?
        var verified: Int64 = 0
        var peers = 0
        var status = "Waiting"
    }

    private struct State {
        var order: [Digest] = []
        var layers: [Digest: Layer] = [:]
        var linesDrawn = 0
        var lastDraw = ContinuousClock.now - .seconds(1)
    }

    let mode: Mode
    private let state = LockedBox(State())

    init(mode: Mode) {
        self.mode = mode
    }

    func show(_ event: PullEvent) {
        switch mode {
        case .json: Console.line(Self.json(event))
        case .plain: if let line = event.line { Console.line(line) }
        case .terminal: showOnTerminal(event)
        }
    }

    // MARK: - Terminal

    private func showOnTerminal(_ event: PullEvent) {
        state.withLockedValue { state in
            var force = true
            var permanent: String?
            switch event {
            case .resolved(_, let digest, let layers):
                permanent = "\(digest): \(layers.count) layers"
                for layer in layers where state.layers[layer.digest] == nil {
                    state.order.append(layer.digest)
                    state.layers[layer.digest] = Layer(digest: layer.digest, size: layer.size)
                }
            case .layerStarted(let digest, _, let source):
                state.layers[digest]?.source = source
                state.layers[digest]?.status = "Downloading"
            case .layerProgress(let digest, let progress):
                state.layers[digest]?.verified = progress.verifiedBytes
                state.layers[digest]?.peers = progress.connectedPeers
                force = false
            case .layerSkipped(let digest, _):
                state.layers[digest]?.status = "Already exists"
            case .layerDone(let digest, let size, let fromRegistry, let fromPeers, let resumed):
                state.layers[digest]?.verified = size
                state.layers[digest]?.status = "Pull complete (\(ByteFormat.megabytes(fromRegistry)) registry, \(ByteFormat.megabytes(fromPeers)) peers"
                    + (resumed > 0 ? ", \(ByteFormat.megabytes(resumed)) resumed)" : ")")
            case .notice(let text): permanent = "notice: \(text)"
            case .pulled(let summary): permanent = summary.line
            default: permanent = event.line
            }
            let now = ContinuousClock.now
            guard force || permanent != nil || now - state.lastDraw > .milliseconds(100) else { return }
            state.lastDraw = now
            // Back to the top of the layer block; permanent lines go above it, except the summary,
            // which goes below the block's final state and ends the redrawing.
            var text = state.linesDrawn > 0 ? "\u{1b}[\(state.linesDrawn)A" : ""
            let block = state.order.compactMap { state.layers[$0] }.map { "\u{1b}[2K\(Self.row($0))\n" }.joined()
            if case .pulled = event {
                text += block + "\u{1b}[2K\(permanent ?? "")\n"
                state.order = []
                state.linesDrawn = 0
            } else {
                if let permanent { text += "\u{1b}[2K\(permanent)\n" }
                text += block
                state.linesDrawn = state.order.count
            }
            Console.out(text)
        }
    }

    private static func row(_ layer: Layer) -> String {
        let short = String(layer.digest.hex.prefix(12))
        guard layer.status == "Downloading" else { return "\(short): \(layer.status)" }
        let fraction = layer.size > 0 ? min(1, Double(layer.verified) / Double(layer.size)) : 0
        let width = 30
        let filled = Int(fraction * Double(width))
        let bar = String(repeating: "=", count: filled) + (filled < width ? ">" : "") + String(repeating: " ", count: max(0, width - filled - 1))
        let source = layer.source == .http ? "http" : "p2p, \(layer.peers) peer\(layer.peers == 1 ? "" : "s")"
        return "\(short): Downloading [\(bar)] \(String(format: "%.1f", Double(layer.verified) / 1e6))/\(ByteFormat.megabytes(layer.size)) (\(source))"
    }

    // MARK: - JSON

    static func json(_ event: PullEvent) -> String {
        var object: [String: Any]
        switch event {
        case .resolved(let reference, let digest, let layers):
            object = ["event": "resolved", "reference": reference.description, "digest": digest.description,
                      "layers": layers.map { ["digest": $0.digest.description, "size": $0.size] }]
        case .layerStarted(let digest, let size, let source):
            object = ["event": "layerStarted", "digest": digest.description, "size": size, "source": source.rawValue]
        case .layerProgress(let digest, let progress):
            object = ["event": "layerProgress", "digest": digest.description, "verifiedBytes": progress.verifiedBytes,
                      "totalBytes": progress.totalBytes, "bytesFromRegistry": progress.bytesFromRegistry,
                      "bytesFromPeers": progress.bytesFromPeers, "bytesResumed": progress.bytesResumed,
                      "connectedPeers": progress.connectedPeers]
        case .layerSkipped(let digest, let size):
            object = ["event": "layerSkipped", "digest": digest.description, "size": size]
        case .layerDone(let digest, let size, let fromRegistry, let fromPeers, let resumed):
            object = ["event": "layerDone", "digest": digest.description, "size": size,
                      "bytesFromRegistry": fromRegistry, "bytesFromPeers": fromPeers, "bytesResumed": resumed]
        case .notice(let text):
            object = ["event": "notice", "message": text]
        case .pulled(let summary):
            object = ["event": "pulled", "reference": summary.reference, "digest": summary.manifestDigest.description,
                      "layers": summary.layerCount, "totalBytes": summary.totalBytes, "bytesFromRegistry": summary.bytesFromRegistry,
                      "bytesFromPeers": summary.bytesFromPeers, "bytesAlreadyStored": summary.bytesAlreadyStored,
                      "bytesResumed": summary.bytesResumed, "seconds": summary.seconds]
        case .deployed:
            object = ["event": "deployed"]
        case .seeding(let layers, let seconds):
            object = ["event": "seeding", "layers": layers, "seconds": seconds]
        case .seedingStopped(let uploaded):
            object = ["event": "seedingStopped", "bytesUploaded": uploaded]
        }
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }
}
