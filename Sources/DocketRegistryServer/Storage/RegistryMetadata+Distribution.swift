import DocketKit
import Foundation

/// The metadata behind the OCI Distribution push API: blob links from uploads, manifests put by
/// tag or digest, deletes, paginated tags and the garbage collector's queries.
extension RegistryMetadata {
    /// Records a blob that landed in `repository` (upload, single POST or mount).
    func linkBlob(_ digest: Digest, size: Int64, to repository: String, now: Date = Date()) throws {
        let created = SQLiteValue.text(Self.timestamp(now))
        let value = SQLiteValue.text(digest.description)
        try database.transaction {
            try database.query("INSERT OR IGNORE INTO repositories (name, created) VALUES (?, ?)", [.text(repository), created])
            try database.query("INSERT OR IGNORE INTO blobs (digest, size, created) VALUES (?, ?, ?)", [value, .integer(size), created])
            try database.query("INSERT OR IGNORE INTO repository_blobs (repository, digest, created) VALUES (?, ?, ?)",
                               [.text(repository), value, created])
        }
    }

    /// Removes a blob's link from a repository; false when it was not linked.
    func unlinkBlob(_ digest: Digest, from repository: String) throws -> Bool {
        try database.transaction {
            let linked = try isBlobLinked(digest, to: repository)
            if linked {
                try database.query("DELETE FROM repository_blobs WHERE repository = ? AND digest = ?",
                                   [.text(repository), .text(digest.description)])
            }
            return linked
        }
    }

    /// Stores a manifest in a repository and, with `tag`, points the tag at it.
    func putManifest(_ manifest: StoredManifest, imageSize: Int64, repository: String, tag: String?, now: Date = Date()) throws {
        let created = SQLiteValue.text(Self.timestamp(now))
        let digest = SQLiteValue.text(manifest.digest.description)
        try database.transaction {
            try database.query("INSERT OR IGNORE INTO repositories (name, created) VALUES (?, ?)", [.text(repository), created])
            try database.query("""
                INSERT OR IGNORE INTO manifests (digest, media_type, bytes, size, image_size, created) VALUES (?, ?, ?, ?, ?, ?)
                """, [digest, .text(manifest.mediaType), .blob(manifest.bytes), .integer(Int64(manifest.bytes.count)),
                      .integer(imageSize), created])
            try database.query("INSERT OR IGNORE INTO repository_manifests (repository, digest, created) VALUES (?, ?, ?)",
                               [.text(repository), digest, created])
            if let tag {
                try database.query("""
                    INSERT INTO tags (repository, tag, digest, created) VALUES (?, ?, ?, ?)
                    ON CONFLICT (repository, tag) DO UPDATE SET digest = excluded.digest, created = excluded.created
                    """, [.text(repository), .text(tag), digest, created])
            }
        }
    }

    func isManifestLinked(_ digest: Digest, to repository: String) throws -> Bool {
        try !database.query("SELECT 1 FROM repository_manifests WHERE repository = ? AND digest = ?",
                            [.text(repository), .text(digest.description)]).isEmpty
    }

    /// Removes a manifest and every tag pointing at it from a repository; false when absent.
    func deleteManifest(_ digest: Digest, from repository: String) throws -> Bool {
        try database.transaction {
            guard try isManifestLinked(digest, to: repository) else { return false }
            try database.query("DELETE FROM tags WHERE repository = ? AND digest = ?", [.text(repository), .text(digest.description)])
            try database.query("DELETE FROM repository_manifests WHERE repository = ? AND digest = ?",
                               [.text(repository), .text(digest.description)])
            return true
        }
    }

    /// Removes one tag (the manifest stays); false when the tag did not exist.
    func deleteTag(_ tag: String, from repository: String) throws -> Bool {
        try database.transaction {
            let exists = try !database.query("SELECT 1 FROM tags WHERE repository = ? AND tag = ?", [.text(repository), .text(tag)]).isEmpty
            if exists { try database.query("DELETE FROM tags WHERE repository = ? AND tag = ?", [.text(repository), .text(tag)]) }
            return exists
        }
    }

    /// Tags of a repository in order, at most `limit`, after `last`; nil when the repository is unknown.
    func tags(of repository: String, limit: Int?, after last: String?) throws -> [String]? {
        guard try repositoryExists(repository) else { return nil }
        return try database.query("SELECT tag FROM tags WHERE repository = ? AND tag > ? ORDER BY tag LIMIT ?",
                                  [.text(repository), .text(last ?? ""), .integer(Int64(limit ?? -1))]).compactMap { $0[0].text }
    }

    /// Every manifest linked to `repository` (the referrers API filters them by subject).
    func manifests(of repository: String) throws -> [StoredManifest] {
        try database.query("""
            SELECT m.digest, m.media_type, m.bytes FROM manifests m
            JOIN repository_manifests r ON r.digest = m.digest WHERE r.repository = ? ORDER BY m.digest
            """, [.text(repository)]).compactMap(Self.storedManifest)
    }

    // MARK: - Garbage collection

    /// Every manifest any repository links (the roots of garbage collection).
    func linkedManifests() throws -> [StoredManifest] {
        try database.query("""
            SELECT DISTINCT m.digest, m.media_type, m.bytes FROM manifests m
            JOIN repository_manifests r ON r.digest = m.digest ORDER BY m.digest
            """).compactMap(Self.storedManifest)
    }

    /// Deletes manifests no repository links any more; returns how many.
    func removeUnlinkedManifests() throws -> Int {
        try database.transaction {
            let rows = try database.query("SELECT digest FROM manifests WHERE digest NOT IN (SELECT digest FROM repository_manifests)")
            try database.query("DELETE FROM manifests WHERE digest NOT IN (SELECT digest FROM repository_manifests)")
            return rows.count
        }
    }

    /// Forgets a blob everywhere (garbage collection).
    func removeBlob(_ digest: Digest) throws {
        try database.transaction {
            try database.query("DELETE FROM repository_blobs WHERE digest = ?", [.text(digest.description)])
            try database.query("DELETE FROM blobs WHERE digest = ?", [.text(digest.description)])
        }
    }

    private static func storedManifest(_ row: [SQLiteValue]) -> StoredManifest? {
        guard let text = row[0].text, let digest = try? Digest(parsing: text), let mediaType = row[1].text, let bytes = row[2].blob else { return nil }
        return StoredManifest(digest: digest, mediaType: mediaType, bytes: bytes)
    }
}
