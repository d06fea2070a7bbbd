import Foundation

extension PullEvent {
    /// The event as one line for people (what `docket-cli pull` prints when piped); nil for
    /// `layerProgress`, which only a terminal view shows.
    public var line: String? {
        switch self {
        case .resolved(let reference, let digest, let layers):
            "resolved \(reference) to \(digest): \(layers.count) layers"
        case .layerStarted(let digest, let size, let source):
            "\(digest.hex.prefix(12)): downloading \(ByteFormat.megabytes(size)) over \(source == .http ? "HTTP" : "BitTorrent")"
        case .layerProgress:
            nil
        case .layerSkipped(let digest, _):
            "\(digest.hex.prefix(12)): already exists"
        case .layerDone(let digest, _, let fromRegistry, let fromPeers, let resumed):
            "\(digest.hex.prefix(12)): pull complete (\(ByteFormat.megabytes(fromRegistry)) from registry, \(ByteFormat.megabytes(fromPeers)) from peers"
                + (resumed > 0 ? ", \(ByteFormat.megabytes(resumed)) resumed from an interrupted pull)" : ")")
        case .notice(let text):
            "notice: \(text)"
        case .pulled(let summary):
            summary.line
        case .deployed:
            "deployed"
        case .seeding(let layers, let seconds):
            "seeding \(layers) layer\(layers == 1 ? "" : "s") for \(String(format: "%.0f", seconds)) s (Ctrl-C stops)"
        case .seedingStopped(let uploaded):
            "stopped seeding: uploaded \(ByteFormat.megabytes(uploaded)) to peers"
        }
    }
}
