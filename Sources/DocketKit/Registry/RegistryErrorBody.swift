import Foundation

/// The OCI error body a registry sends with 4xx/5xx answers:
/// `{"errors":[{"code":"MANIFEST_UNKNOWN","message":"…","detail":…}]}`.
public struct RegistryErrorBody: Sendable, Hashable {
    public struct Entry: Sendable, Hashable {
        public var code: String
        public var message: String
        /// `detail` rendered as text (a string as is, anything else as compact JSON); empty when absent.
        public var detail: String
    }

    public var errors: [Entry]

    /// Parses an OCI error body; nil when `data` is not one.
    public init?(_ data: Data) {
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let list = object["errors"] as? [[String: Any]], !list.isEmpty else { return nil }
        errors = list.map { entry in
            let detail: String = switch entry["detail"] {
            case let text as String: text
            case nil, is NSNull: ""
            case let other?:
                (try? JSONSerialization.data(withJSONObject: other, options: [.fragmentsAllowed, .sortedKeys]))
                    .map { String(decoding: $0, as: UTF8.self) } ?? ""
            }
            return Entry(code: entry["code"] as? String ?? "UNKNOWN", message: entry["message"] as? String ?? "", detail: detail)
        }
    }

    /// `CODE: message (detail)` for each error, joined by `; `.
    public var summary: String {
        errors.map { entry in
            var text = entry.message.isEmpty ? entry.code : "\(entry.code): \(entry.message)"
            if !entry.detail.isEmpty { text += " (\(entry.detail))" }
            return text
        }.joined(separator: "; ")
    }

    public func contains(code: String) -> Bool { errors.contains { $0.code == code } }

    /// A readable message for any error answer: the OCI summary, else the body's text, else the status.
    public static func message(status: Int, body: Data) -> String {
        if let parsed = RegistryErrorBody(body) { return parsed.summary }
        let text = String(decoding: body.prefix(300), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        if text.isEmpty { return "HTTP \(status) with an empty body" }
        // A web server's error page: its markup says nothing more than the status.
        if text.hasPrefix("<") { return "HTTP \(status) with an HTML page, not a registry's error" }
        return text
    }
}
