/// The parameters of an announce query, percent-decoded byte-wise and validated.
struct TrackerQuery {
    /// A bad parameter; `message` names it and is sent back as the `failure reason`.
    struct Invalid: Error {
        let message: String
    }

    let infoHash: InfoHash
    let peerID: PeerID
    let port: UInt16
    let left: Int64?
    let event: AnnounceRequest.Event?
    let numWant: Int?
    /// The `ip` parameter when it is an IP literal; host names are ignored.
    let ip: String?

    /// Parses `rawQuery` (the part after `?`). The first occurrence of a parameter wins;
    /// `+` is not a space: binary values are taken byte for byte.
    init(rawQuery: String) throws {
        var values: [String: [UInt8]] = [:]
        for pair in rawQuery.utf8.split(separator: UInt8(ascii: "&"), omittingEmptySubsequences: true) {
            let parts = pair.split(separator: UInt8(ascii: "="), maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = PercentEncoding.decode(parts[0]).map({ String(decoding: $0, as: UTF8.self) }) else {
                throw Invalid(message: "malformed percent-encoding in a parameter name")
            }
            guard values[name] == nil else { continue }
            guard let value = parts.count > 1 ? PercentEncoding.decode(parts[1]) : [] else {
                throw Invalid(message: "malformed percent-encoding in parameter '\(name)'")
            }
            values[name] = value
        }
        guard let hashBytes = values["info_hash"] else { throw Invalid(message: "missing parameter 'info_hash'") }
        guard let infoHash = InfoHash(bytes: hashBytes) else {
            throw Invalid(message: "invalid parameter 'info_hash': expected 20 bytes, got \(hashBytes.count)")
        }
        guard let idBytes = values["peer_id"] else { throw Invalid(message: "missing parameter 'peer_id'") }
        guard let peerID = PeerID(bytes: idBytes) else {
            throw Invalid(message: "invalid parameter 'peer_id': expected 20 bytes, got \(idBytes.count)")
        }
        guard let portText = values["port"] else { throw Invalid(message: "missing parameter 'port'") }
        guard let port = Int(String(decoding: portText, as: UTF8.self)), (1...65535).contains(port) else {
            throw Invalid(message: "invalid parameter 'port': expected 1-65535")
        }
        self.infoHash = infoHash
        self.peerID = peerID
        self.port = UInt16(port)
        left = try Self.number("left", values).map { Int64($0) }
        numWant = try Self.number("numwant", values)
        switch values["event"].map({ String(decoding: $0, as: UTF8.self) }) {
        case nil, ""?, "empty"?:
            event = nil
        case let name?:
            guard let known = AnnounceRequest.Event(rawValue: name) else {
                throw Invalid(message: "invalid parameter 'event': expected started, completed or stopped")
            }
            event = known
        }
        ip = values["ip"].map { String(decoding: $0, as: UTF8.self) }.flatMap { PeerAddress.addressBytes($0) == nil ? nil : $0 }
    }

    private static func number(_ name: String, _ values: [String: [UInt8]]) throws -> Int? {
        guard let bytes = values[name] else { return nil }
        guard let value = Int(String(decoding: bytes, as: UTF8.self)), value >= 0 else {
            throw Invalid(message: "invalid parameter '\(name)': expected a non-negative integer")
        }
        return value
    }
}
