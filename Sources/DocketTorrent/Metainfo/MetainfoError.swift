/// Why a metainfo file was rejected or could not be created.
public enum MetainfoError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The input is not valid bencode.
    case malformed(BencodeError)
    /// A required key is absent; `field` is its dotted path, such as `info.piece length`.
    case missingField(String)
    /// A key holds a value of the wrong kind.
    case wrongType(field: String, expected: String)
    /// A key holds a value of the right kind that breaks a rule.
    case invalidValue(field: String, reason: String)
    /// Reading the file to hash failed.
    case io(path: String, operation: String, errno: Int32)

    public var description: String {
        switch self {
        case .malformed(let error):
            "not a torrent file: \(error); check that the file is a complete .torrent"
        case .missingField(let field):
            "invalid torrent: required key '\(field)' is missing"
        case .wrongType(let field, let expected):
            "invalid torrent: '\(field)' must be \(expected)"
        case .invalidValue(let field, let reason):
            "invalid torrent: '\(field)' \(reason)"
        case .io(let path, let operation, let code):
            "cannot create a torrent for '\(path)': \(operation) failed with errno \(code); check the file exists and is readable"
        }
    }
}
