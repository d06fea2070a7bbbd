import DocketKit
import Foundation

extension PushCommand {
    func run() async throws {
        let registry = HTTPRegistry(url: registry)
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: source, isDirectory: &isDirectory) {
            guard !isDirectory.boolValue else {
                throw DocketError.invalidArchive(path: source, reason: "it is a directory; an OCI layout directory packs "
                                                 + "into one with `tar -cf image.tar -C '\(source)' .`")
            }
            try await push(archive: source, to: registry)
            return
        }
        // Not a file: maybe an image in the local Docker engine.
        let engine = try DockerEngine()
        do {
            try await engine.ping()
        } catch DocketError.dockerSocketMissing(let path) {
            throw DocketError.invalidArchive(path: source, reason: "no such file, and no Docker engine at \(path) to export an image of that name from")
        }
        let temporary = (NSTemporaryDirectory() as NSString).appendingPathComponent("docket-push-\(UUID().uuidString).tar")
        defer { try? FileManager.default.removeItem(atPath: temporary) }
        Console.line("exporting \(source) from Docker")
        try await engine.exportImage(name: source, to: temporary)
        try await push(archive: temporary, to: registry)
    }

    private func push(archive: String, to registry: HTTPRegistry) async throws {
        let size = ((try? FileManager.default.attributesOfItem(atPath: archive))?[.size] as? NSNumber)?.int64Value ?? 0
        Console.line("pushing \(archive) (\(ByteFormat.megabytes(size))) to \(registry.baseURL) as \(reference)")
        let start = ContinuousClock.now
        let image = try await registry.push(archiveAt: archive, as: reference)
        let elapsed = ContinuousClock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let total = image.manifest.layers.reduce(image.manifest.config.size) { $0 + $1.size }
        Console.line("pushed \(reference) (\(image.manifestDigest)) \(image.manifest.layers.count) layers, \(ByteFormat.megabytes(total)) in \(String(format: "%.1f", seconds)) s")
    }
}
