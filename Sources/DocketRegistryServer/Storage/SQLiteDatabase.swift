import CSQLite
import Foundation

/// A value bound to or read from SQLite.
enum SQLiteValue: Sendable, Hashable {
    case integer(Int64)
    case text(String)
    case blob(Data)
    case null

    var integer: Int64? { if case .integer(let v) = self { v } else { nil } }
    var text: String? { if case .text(let v) = self { v } else { nil } }
    var blob: Data? {
        switch self {
        case .blob(let v): v
        case .text(let v): Data(v.utf8)
        default: nil
        }
    }
}

/// The SQLite wrapper (the only file that calls SQLite): one connection in WAL mode with a busy
/// timeout, prepared statements cached by SQL text, and every use serialized by a recursive lock
/// so a transaction from one thread never interleaves with statements from another.
final class SQLiteDatabase: @unchecked Sendable {   // `connection` and `statements` are only touched under `lock`
    let path: String
    private let connection: OpaquePointer
    private var statements: [String: OpaquePointer] = [:]
    private let lock = NSRecursiveLock()

    init(path: String, busyTimeoutMilliseconds: Int32 = 5000) throws {
        var handle: OpaquePointer?
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX
        let rc = sqlite3_open_v2(path, &handle, flags, nil)
        guard rc == SQLITE_OK, let handle else {
            let reason = handle.map { String(cString: sqlite3_errmsg($0)) } ?? "code \(rc)"
            if let handle { sqlite3_close(handle) }
            throw RegistryServerError.database(path: path, reason: "cannot open: \(reason)")
        }
        self.path = path
        self.connection = handle
        sqlite3_busy_timeout(handle, busyTimeoutMilliseconds)
        try execute("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;")
    }

    deinit {
        for statement in statements.values { sqlite3_finalize(statement) }
        sqlite3_close(connection)
    }

    /// Runs one or more statements without parameters (schema, pragmas).
    func execute(_ sql: String) throws {
        try locked {
            var message: UnsafeMutablePointer<CChar>?
            let rc = sqlite3_exec(connection, sql, nil, nil, &message)
            if rc != SQLITE_OK {
                let reason = message.map { String(cString: $0) } ?? "code \(rc)"
                sqlite3_free(message)
                throw RegistryServerError.database(path: path, reason: "\(reason) in: \(sql.prefix(80))")
            }
        }
    }

    /// Runs a statement and returns its rows.
    @discardableResult
    func query(_ sql: String, _ bindings: [SQLiteValue] = []) throws -> [[SQLiteValue]] {
        try locked {
            let statement = try prepared(sql)
            defer {
                sqlite3_reset(statement)
                sqlite3_clear_bindings(statement)
            }
            for (index, value) in bindings.enumerated() {
                try check(bind(value, to: statement, at: Int32(index + 1)), sql)
            }
            var rows: [[SQLiteValue]] = []
            while true {
                let rc = sqlite3_step(statement)
                if rc == SQLITE_DONE { break }
                guard rc == SQLITE_ROW else { try check(rc, sql); break }
                rows.append((0..<sqlite3_column_count(statement)).map { column(statement, $0) })
            }
            return rows
        }
    }

    /// Runs `body` inside `BEGIN IMMEDIATE … COMMIT`; rolls back when it throws.
    func transaction<T>(_ body: () throws -> T) throws -> T {
        try locked {
            try execute("BEGIN IMMEDIATE")
            do {
                let result = try body()
                try execute("COMMIT")
                return result
            } catch {
                try? execute("ROLLBACK")
                throw error
            }
        }
    }

    // MARK: - Internals

    private func locked<T>(_ body: () throws -> T) rethrows -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body()
    }

    private func prepared(_ sql: String) throws -> OpaquePointer {
        if let statement = statements[sql] { return statement }
        var statement: OpaquePointer?
        try check(sqlite3_prepare_v2(connection, sql, -1, &statement, nil), sql)
        guard let statement else { throw RegistryServerError.database(path: path, reason: "empty statement: \(sql)") }
        statements[sql] = statement
        return statement
    }

    private func bind(_ value: SQLiteValue, to statement: OpaquePointer, at index: Int32) -> Int32 {
        let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
        switch value {
        case .integer(let v): return sqlite3_bind_int64(statement, index, v)
        case .text(let v): return sqlite3_bind_text(statement, index, v, -1, transient)
        case .blob(let v): return v.withUnsafeBytes { sqlite3_bind_blob64(statement, index, $0.baseAddress, sqlite3_uint64($0.count), transient) }
        case .null: return sqlite3_bind_null(statement, index)
        }
    }

    private func column(_ statement: OpaquePointer, _ index: Int32) -> SQLiteValue {
        switch sqlite3_column_type(statement, index) {
        case SQLITE_INTEGER: return .integer(sqlite3_column_int64(statement, index))
        case SQLITE_TEXT: return .text(String(cString: sqlite3_column_text(statement, index)))
        case SQLITE_BLOB:
            let count = Int(sqlite3_column_bytes(statement, index))
            guard count > 0, let base = sqlite3_column_blob(statement, index) else { return .blob(Data()) }
            return .blob(Data(bytes: base, count: count))
        default: return .null
        }
    }

    private func check(_ rc: Int32, _ sql: String) throws {
        guard rc == SQLITE_OK || rc == SQLITE_ROW || rc == SQLITE_DONE else {
            throw RegistryServerError.database(path: path, reason: "\(String(cString: sqlite3_errmsg(connection))) (code \(rc)) in: \(sql.prefix(80))")
        }
    }
}
