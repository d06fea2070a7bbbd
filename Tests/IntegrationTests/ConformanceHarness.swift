import DocketCore
import DocketRegistryServer
import Foundation
import Testing

/// What of a response is compared between Docket and the reference registry.
enum ConformanceAspect: String, CaseIterable, Sendable {
    case status
    /// `errors[0].code` of an error body.
    case errorCode
    /// Whether a `Location` is present (values differ by design: the upload id and `_state`).
    case location
    /// `Range` value.
    case range
    /// Whether `Docker-Upload-UUID` is present.
    case uploadUUID
    /// `Docker-Content-Digest` value.
    case digest
    /// `Content-Type` value on successful manifest and index responses.
    case contentType
    /// `Content-Length` value on successful GET/HEAD of manifests and blobs.
    case contentLength
    /// The body on a successful GET of JSON lists (tags, catalog).
    case body
}

/// One request sent to both registries.
struct ConformanceStep {
    enum Target {
        /// A path under the registry's base URL.
        case path(String)
        /// The `Location` of the previous response on the same registry, with `query` appended.
        case location(query: String?)
    }

    var label: String
    var method: String
    var target: Target
    var headers: [(String, String)] = []
    var body: Data?
    /// Aspects the spec lets differ for this request, each with the reason in `allowedReason`.
    var allowed: Set<ConformanceAspect> = []
    var allowedReason: String = ""

    init(_ label: String, _ method: String, _ target: Target, headers: [(String, String)] = [], body: Data? = nil,
         allowed: Set<ConformanceAspect> = [], because reason: String = "") {
        self.label = label
        self.method = method
        self.target = target
        self.headers = headers
        self.body = body
        self.allowed = allowed
        self.allowedReason = reason
    }
}

/// Runs request sequences against Docket (in process) and the reference registry and compares
/// the answers. Counts are printed per section and accumulated in `totals`.
final class ConformanceRun {
    struct Endpoint {
        var name: String
        var base: String
        var lastLocation: String?
    }

    static let totals = LockedBox((requests: 0, differences: 0, allowed: 0))

    let section: String
    private var docket: Endpoint
    private var reference: Endpoint
    private let client = HTTPClient()
    private(set) var differences: [String] = []
    private(set) var allowedDifferences: [String] = []
    private(set) var requests = 0

    init(section: String, docketBase: String, referenceBase: String) {
        self.section = section
        docket = Endpoint(name: "docket", base: docketBase)
        reference = Endpoint(name: "reference", base: referenceBase)
    }

    /// Starts both registries in temporary directories, runs `body`, records any difference as a test issue.
    static func compare(_ section: String, _ body: (ConformanceRun) async throws -> Void) async throws {
        let directory = try TemporaryDirectory("conformance")
        let server = RegistryServer(configuration: .testing(dataDirectory: directory.path + "/docket"))
        try await Blocking.run { try server.start() }
        let referenceRegistry = try await ReferenceRegistry.start()
        defer {
            referenceRegistry.stop()
            server.stop()
            directory.remove()
        }
        let run = ConformanceRun(section: section, docketBase: "http://127.0.0.1:\(server.port)", referenceBase: referenceRegistry.base)
        try await body(run)
        totals.withLockedValue {
            $0.requests += run.requests
            $0.differences += run.differences.count
            $0.allowed += run.allowedDifferences.count
        }
        print("conformance [\(section)]: \(run.requests) requests compared, \(run.differences.count) differences, \(run.allowedDifferences.count) allowed")
        for line in run.allowedDifferences { print("  allowed: \(line)") }
        #expect(run.differences.isEmpty, Comment(rawValue: "\(section):\n" + run.differences.joined(separator: "\n")))
    }

    /// Sends `step` to both registries, compares, and returns both responses (docket, reference).
    @discardableResult
    func step(_ step: ConformanceStep) async throws -> (docket: HTTPResponse, reference: HTTPResponse) {
        let ours = try await send(step, to: &docket)
        let theirs = try await send(step, to: &reference)
        requests += 1
        for aspect in ConformanceAspect.allCases {
            let mine = Self.value(aspect, of: ours, step: step)
            let others = Self.value(aspect, of: theirs, step: step)
            guard mine != others else { continue }
            let line = "\(step.label) (\(step.method)): \(aspect.rawValue) docket=\(mine ?? "nil") reference=\(others ?? "nil")"
            if step.allowed.contains(aspect) {
                allowedDifferences.append(line + " — " + step.allowedReason)
            } else {
                differences.append(line)
            }
        }
        return (ours, theirs)
    }

    private func send(_ step: ConformanceStep, to endpoint: inout Endpoint) async throws -> HTTPResponse {
        let url: String
        switch step.target {
        case .path(let path):
            url = endpoint.base + path
        case .location(let query):
            var location = endpoint.lastLocation ?? "/missing-location"
            if !location.hasPrefix("http") { location = endpoint.base + location }
            if let query { location += (location.contains("?") ? "&" : "?") + query }
            url = location
        }
        let response = try await client.send(HTTPRequest(method: step.method, url: url, headers: step.headers,
                                                         body: step.body.map { .data($0) } ?? .none))
        if let location = response.header("Location") { endpoint.lastLocation = location }
        return response
    }

    private static func value(_ aspect: ConformanceAspect, of response: HTTPResponse, step: ConformanceStep) -> String? {
        let success = (200..<300).contains(response.status)
        switch aspect {
        case .status: return String(response.status)
        case .errorCode:
            guard !success, step.method != "HEAD" else { return nil }
            let object = try? JSONSerialization.jsonObject(with: response.body) as? [String: Any]
            return ((object?["errors"] as? [[String: Any]])?.first?["code"] as? String) ?? "(no error body)"
        case .location: return response.header("Location") == nil ? "absent" : "present"
        case .range: return response.header("Range")
        case .uploadUUID: return response.header("Docker-Upload-UUID") == nil ? "absent" : "present"
        case .digest: return success ? response.header("Docker-Content-Digest") : nil
        case .contentType:
            guard success, case .path(let path) = step.target, path.contains("/manifests/") || path.contains("/referrers/") else { return nil }
            return response.header("Content-Type")
        case .contentLength:
            // JSON lists are compared by body (the reference ends them with a newline).
            guard success, step.method == "GET" || step.method == "HEAD", case .path(let path) = step.target,
                  !path.contains("/tags/list"), !path.contains("/_catalog") else { return nil }
            return response.header("Content-Length")
        case .body:
            guard success, step.method == "GET", case .path(let path) = step.target,
                  path.contains("/tags/list") || path.contains("/_catalog") else { return nil }
            return String(decoding: response.body, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        }
    }
}
