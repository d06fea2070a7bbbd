import DocketKit
import Foundation

/// A manifest as stored: its exact bytes, their digest and media type.
struct StoredManifest: Sendable, Hashable {
    var digest: Digest
    var mediaType: String
    var bytes: Data
}

/// Everything one push records, written in a single transaction.
struct PushRecord: Sendable {
    var repository: String
    var tag: String
    var manifest: StoredManifest
    /// Config plus layers, in bytes (what `images` reports).
    var imageSize: Int64
    /// Every blob the manifest references, with its size.
    var blobs: [Digest: Int64]
}

/// The registry's metadata in SQLite: repositories, tags -> manifest digest, manifests (digest,
/// media type, bytes, size), blobs (digest, size) and which repository links which blob or
/// manifest, each with a creation time.
final class RegistryMetadata: Sendable {
    let database: SQLiteDatabase

    static let schema = """
        CREATE TABLE IF NOT EXISTS repositories (
            name TEXT PRIMARY KEY, created TEXT NOT NULL);
        CREATE TABLE IF NOT EXISTS blobs (
            digest TEXT PRIMARY KEY, size INTEGER NOT NULL, created TEXT NOT NULL);
        CREATE TABLE IF NOT EXISTS manifests (
            digest TEXT PRIMARY KEY, media_type TEXT NOT NULL, bytes BLOB NOT NULL,
            size INTEGER NOT NULL, image_size INTEGER NOT NULL, created TEXT NOT NULL);
        CREATE TABLE IF NOT EXISTS tags (
            repository TEXT NOT NULL REFERENCES repositories(name), tag TEXT NOT NULL,
            digest TEXT NOT NULL REFERENCES manifests(digest), created TEXT NOT NULL,
            PRIMARY KEY (repository, tag));
        CREATE TABLE IF NOT EXISTS repository_manifests (
            repository TEXT NOT NULL REFERENCES repositories(name), digest TEXT NOT NULL REFERENCES manifests(digest),
            created TEXT NOT NULL, PRIMARY KEY (repository, digest));
        CREATE TABLE IF NOT EXISTS repository_blobs (
            repository TEXT NOT NULL REFERENCES repositories(name), digest TEXT NOT NULL REFERENCES blobs(digest),
            created TEXT NOT NULL, PRIMARY KEY (repository, digest));
        """

    init(path: String) throws {
        database = try SQLiteDatabase(path: path)
        try database.execute(Self.schema)
    }

    /// Records a push: repository, blobs, links, manifest and tag, all or nothing.
    func record(_ push: PushRecord, now: Date = Date()) throws {
        let created = SQLiteValue.text(Self.timestamp(now))
        let repository = SQLiteValue.text(push.repository)
        let manifestDigest = SQLiteValue.text(push.manifest.digest.description)
        try database.transaction {
            try database.query("INSERT OR IGNORE INTO repositories (name, created) VALUES (?, ?)", [repository, created])
            for (digest, size) in push.blobs.sorted(by: { $0.key < $1.key }) {
                let value = SQLiteValue.text(digest.description)
                try database.query("INSERT OR IGNORE INTO blobs (digest, size, created) VALUES (?, ?, ?)", [value, .integer(size), created])
                try database.query("INSERT OR IGNORE INTO repository_blobs (repository, digest, created) VALUES (?, ?, ?)", [repository, value, created])
            }
            try database.query("""
                INSERT OR IGNORE INTO manifests (digest, media_type, bytes, size, image_size, created) VALUES (?, ?, ?, ?, ?, ?)
                """, [manifestDigest, .text(push.manifest.mediaType), .blob(push.manifest.bytes),
                      .integer(Int64(push.manifest.bytes.count)), .integer(push.imageSize), created])
            try database.query("INSERT OR IGNORE INTO repository_manifests (repository, digest, created) VALUES (?, ?, ?)",
                               [repository, manifestDigest, created])
            try database.query("""
                INSERT INTO tags (repository, tag, digest, created) VALUES (?, ?, ?, ?)
                ON CONFLICT (repository, tag) DO UPDATE SET digest = excluded.digest, created = excluded.created
                """, [repository, .text(push.tag), manifestDigest, created])
        }
    }

    func repositoryExists(_ name: String) throws -> Bool {
        try !database.query("SELECT 1 FROM repositories WHERE name = ?", [.text(name)]).isEmpty
    }

    /// Repository names in order, at most `limit`, after `last` (catalog pagination).
    func repositories(limit: Int? = nil, after last: String? = nil) throws -> [String] {
        try database.query("SELECT name FROM repositories WHERE name > ? ORDER BY name LIMIT ?",
                           [.text(last ?? ""), .integer(Int64(limit ?? -1))]).compactMap { $0[0].text }
    }

    /// Tags of a repository in order; nil when the repository is unknown.
    func tags(of repository: String) throws -> [String]? {
        guard try repositoryExists(repository) else { return nil }
        return try database.query("SELECT tag FROM tags WHERE repository = ? ORDER BY tag", [.text(repository)]).compactMap { $0[0].text }
    }

    /// The manifest a tag points to, or the manifest with that digest if the repository links it.
    func manifest(repository: String, reference: String) throws -> StoredManifest? {
        let rows: [[SQLiteValue]]
        if reference.hasPrefix("sha256:") {
            rows = try database.query("""
                SELECT m.digest, m.media_type, m.bytes FROM manifests m
                JOIN repository_manifests r ON r.digest = m.digest WHERE r.repository = ? AND m.digest = ?
                """, [.text(repository), .text(reference)])
        } else {
            rows = try database.query("""
                SELECT m.digest, m.media_type, m.bytes FROM manifests m
                JOIN tags t ON t.digest = m.digest WHERE t.repository = ? AND t.tag = ?
                """, [.text(repository), .text(reference)])
        }
        guard let row = rows.first, let digestText = row[0].text, let digest = try? Digest(parsing: digestText),
              let mediaType = row[1].text, let bytes = row[2].blob else { return nil }
        return StoredManifest(digest: digest, mediaType: mediaType, bytes: bytes)
    }

    /// Size of a stored blob; nil when the registry does not know it.
    func blobSize(_ digest: Digest) throws -> Int64? {
        try database.query("SELECT size FROM blobs WHERE digest = ?", [.text(digest.description)]).first?[0].integer
    }

    func isBlobLinked(_ digest: Digest, to repository: String) throws -> Bool {
        try !database.query("SELECT 1 FROM repository_blobs WHERE repository = ? AND digest = ?",
                            [.text(repository), .text(digest.description)]).isEmpty
    }

    /// Every blob the registry holds, with its size.
    func allBlobs() throws -> [(digest: Digest, size: Int64)] {
        try database.query("SELECT digest, size FROM blobs ORDER BY digest").compactMap { row in
            guard let text = row[0].text, let digest = try? Digest(parsing: text), let size = row[1].integer else { return nil }
            return (digest, size)
        }
    }

    /// Every name:tag, sorted, with the manifest digest, image size and push time.
    func images() throws -> [ImageSummary] {
        try database.query("""
            SELECT t.repository, t.tag, t.digest, m.image_size, t.created FROM tags t
            JOIN manifests m ON m.digest = t.digest ORDER BY t.repository, t.tag
            """).compactMap { row in
            guard let name = row[0].text, let tag = row[1].text, let text = row[2].text, let digest = try? Digest(parsing: text),
                  let size = row[3].integer, let created = row[4].text else { return nil }
            return ImageSummary(name: name, tag: tag, digest: digest, size: size, created: created)
        }
    }

    static func timestamp(_ date: Date) -> String {
        ISO8601DateFormatter().string(from: date)
    }
}
