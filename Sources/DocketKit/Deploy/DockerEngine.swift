import Foundation

/// A client for the Docker Engine API on its unix socket (only what Docket needs).
public struct DockerEngine: Sendable {
    /// The engine's unix socket.
    public let socketPath: String
    private let client: HTTPClient

    /// Uses `socketPath`, else `DOCKER_HOST` (`unix://…` only), else `/var/run/docker.sock`.
    public init(socketPath: String? = nil, environment: [String: String] = ProcessInfo.processInfo.environment,
                client: HTTPClient = HTTPClient()) throws {
        self.socketPath = try socketPath ?? Self.socketPath(environment: environment)
        self.client = client
    }

    /// The socket named by `DOCKER_HOST`, or the default one.
    public static func socketPath(environment: [String: String]) throws -> String {
        guard let host = environment["DOCKER_HOST"], !host.isEmpty else { return "/var/run/docker.sock" }
        guard host.hasPrefix("unix://") else {
            throw DocketError.dockerEngine("DOCKER_HOST=\(host) is not a unix socket; Docket talks to Docker over unix:// only (or use --output FILE)")
        }
        return String(host.dropFirst("unix://".count))
    }

    /// Throws `DocketError.dockerSocketMissing` unless the engine answers.
    public func ping() async throws {
        let response = try await send(request("/_ping", timeout: 10))
        guard response.status == 200 else { throw Self.failure(response, doing: "ping") }
    }

    /// Writes `docker save` output for `name` to `path`.
    public func exportImage(name: String, to path: String) async throws {
        let request = request("/images/\(Self.escape(name))/get", timeout: nil)
        let response = try await transport { try await client.download(request, to: path) }
        guard response.status == 200 else {
            try? FileManager.default.removeItem(atPath: path)
            if response.status == 404 {
                throw DocketError.dockerEngine("no image \(name) in the Docker engine at \(socketPath): `docker images` lists what it has")
            }
            throw Self.failure(response, doing: "export image \(name)")
        }
    }

    /// Loads a `docker save`-format archive; returns the engine's messages (e.g. "Loaded image: team/app:1.0").
    @discardableResult
    public func loadImage(archiveAt path: String) async throws -> [String] {
        let request = request("/images/load", method: "POST", headers: [("Content-Type", "application/x-tar")],
                              body: .file(path), timeout: nil)
        let response = try await send(request)
        guard response.status == 200 else { throw Self.failure(response, doing: "load \(path)") }
        return try Self.loadMessages(response.body)
    }

    /// The image's ID (`sha256:` of its config).
    public func inspectImage(name: String) async throws -> String {
        let response = try await send(request("/images/\(Self.escape(name))/json"))
        guard response.status == 200 else { throw Self.failure(response, doing: "inspect image \(name)") }
        guard let object = try? JSONSerialization.jsonObject(with: response.body) as? [String: Any],
              let id = object["Id"] as? String else {
            throw DocketError.dockerEngine("inspect image \(name): the answer has no Id")
        }
        return id
    }

    /// Reads the JSON message stream of `POST /images/load`; throws on the first `error`.
    static func loadMessages(_ body: Data) throws -> [String] {
        var messages: [String] = []
        for line in body.split(separator: UInt8(ascii: "\n")) where !line.isEmpty {
            guard let object = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any] else { continue }
            if let error = object["error"] as? String ?? (object["errorDetail"] as? [String: Any])?["message"] as? String {
                throw DocketError.dockerEngine("load failed: \(error)")
            }
            if let stream = object["stream"] as? String {
                let text = stream.trimmingCharacters(in: .whitespacesAndNewlines)
                if !text.isEmpty { messages.append(text) }
            }
        }
        return messages
    }

    /// A request to the engine over its socket.
    private func request(_ path: String, method: String = "GET", headers: [(String, String)] = [],
                         body: HTTPRequest.Body = .none, timeout: Double? = 60) -> HTTPRequest {
        HTTPRequest(method: method, url: "http://docker\(path)", headers: headers, body: body,
                    unixSocketPath: socketPath, timeout: timeout)
    }

    private func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        try await transport { try await client.send(request) }
    }

    /// Runs a request on the socket; a missing or refusing socket is `DocketError.dockerSocketMissing`.
    private func transport(_ body: () async throws -> HTTPResponse) async throws -> HTTPResponse {
        guard FileManager.default.fileExists(atPath: socketPath) else { throw DocketError.dockerSocketMissing(path: socketPath) }
        do {
            return try await body()
        } catch let error as HTTPClientError where error.kind == .couldNotConnect {
            throw DocketError.dockerSocketMissing(path: socketPath)
        } catch let error as HTTPClientError {
            throw DocketError.dockerEngine("\(error.message) (socket \(socketPath))")
        }
    }

    private static func failure(_ response: HTTPResponse, doing action: String) -> DocketError {
        let object = try? JSONSerialization.jsonObject(with: response.body) as? [String: Any]
        let message = object?["message"] as? String ?? String(decoding: response.body.prefix(300), as: UTF8.self)
        return .dockerEngine("\(action): HTTP \(response.status): \(message)")
    }

    private static func escape(_ name: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~/:@")
        return name.addingPercentEncoding(withAllowedCharacters: allowed) ?? name
    }
}
