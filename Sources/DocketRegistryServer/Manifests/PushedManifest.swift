import DocketKit
import Foundation

/// A manifest a client PUTs, parsed just enough to check it: its media type, the blobs (config
/// and layers) or child manifests it references, and its OCI 1.1 `subject`/`artifactType`.
/// Accepts Docker v2 schema 2, Docker manifest lists, OCI image manifests and OCI indexes.
struct PushedManifest: Sendable {
    /// Manifests larger than this are refused on push (413) and never stored.
    static let maximumSize = 4 << 20

    static let imageTypes: Set<String> = [MediaType.ociManifest, MediaType.dockerManifest]
    static let indexTypes: Set<String> = [MediaType.ociIndex, MediaType.dockerManifestList]

    struct Reference: Sendable, Hashable {
        var digest: Digest
        var size: Int64
        var mediaType: String
        /// Foreign or non-distributable layers live elsewhere; the registry need not have them.
        var isForeign: Bool { mediaType.contains("foreign") || mediaType.contains("nondistributable") }
    }

    var mediaType: String
    /// Config then layers (image manifests).
    var blobs: [Reference]
    /// Child manifests (indexes).
    var manifests: [Reference]
    var subject: Digest?
    /// `artifactType`, else the config's media type (what the referrers API reports).
    var artifactType: String?
    var annotations: [String: String]?

    /// The bytes' media type: the request's `Content-Type` when it is a manifest type, else the
    /// document's `mediaType`, else inferred (`config` -> OCI manifest, `manifests` -> OCI index).
    static func parse(_ bytes: Data, contentType: String?) throws -> PushedManifest {
        guard let object = (try? JSONSerialization.jsonObject(with: bytes)) as? [String: Any] else {
            throw RegistryError(.manifestInvalid, detail: "the body is not a JSON object")
        }
        guard (object["schemaVersion"] as? Int) == 2 else {
            throw RegistryError(.manifestInvalid, detail: "schemaVersion must be 2 (schema 1 manifests are not supported)")
        }
        let header = contentType.map { $0.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces) } ?? "" }
        let declared = object["mediaType"] as? String
        let known = imageTypes.union(indexTypes)
        var mediaType: String
        if let header, known.contains(header) {
            if let declared, declared != header {
                throw RegistryError(.manifestInvalid, detail: "Content-Type is \(header) but the manifest's mediaType is \(declared)")
            }
            mediaType = header
        } else if let declared {
            mediaType = declared
        } else {
            mediaType = object["manifests"] != nil ? MediaType.ociIndex : MediaType.ociManifest
        }
        guard known.contains(mediaType) else {
            throw RegistryError(.manifestInvalid, detail: "unsupported manifest media type \(mediaType); push an OCI or Docker v2 manifest or index")
        }
        var manifest = PushedManifest(mediaType: mediaType, blobs: [], manifests: [], subject: nil,
                                      artifactType: object["artifactType"] as? String,
                                      annotations: object["annotations"] as? [String: String])
        if imageTypes.contains(mediaType) {
            guard let config = object["config"] else { throw RegistryError(.manifestInvalid, detail: "an image manifest needs a config descriptor") }
            let configReference = try reference(config, field: "config")
            manifest.blobs.append(configReference)
            if manifest.artifactType == nil { manifest.artifactType = configReference.mediaType }
            guard let layers = object["layers"] as? [Any] else { throw RegistryError(.manifestInvalid, detail: "an image manifest needs a layers array") }
            for (index, layer) in layers.enumerated() { manifest.blobs.append(try reference(layer, field: "layers[\(index)]")) }
        } else {
            guard let children = object["manifests"] as? [Any] else { throw RegistryError(.manifestInvalid, detail: "an index needs a manifests array") }
            for (index, child) in children.enumerated() { manifest.manifests.append(try reference(child, field: "manifests[\(index)]")) }
        }
        if let subject = object["subject"] {
            manifest.subject = try reference(subject, field: "subject").digest
        }
        return manifest
    }

    /// Sum of the referenced sizes (what `/docket/v1/images` reports).
    var referencedSize: Int64 { (blobs + manifests).reduce(0) { $0 + $1.size } }

    private static func reference(_ value: Any, field: String) throws -> Reference {
        guard let object = value as? [String: Any], let text = object["digest"] as? String,
              let size = (object["size"] as? NSNumber)?.int64Value, let mediaType = object["mediaType"] as? String else {
            throw RegistryError(.manifestInvalid, detail: "\(field) must be a descriptor with mediaType, digest and size")
        }
        guard let digest = try? Digest(parsing: text) else {
            throw RegistryError(.manifestInvalid, detail: "\(field).digest '\(text)' is not sha256:<64 hex digits>")
        }
        return Reference(digest: digest, size: size, mediaType: mediaType)
    }
}
