import DocketCore
import Foundation
import Testing
@testable import DocketRegistryServer

@Suite struct UploadSessionsTests {
    private func bodyFile(_ bytes: [UInt8], in dir: String) throws -> String {
        let path = dir + "/body-\(UUID().uuidString)"
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    @Test func chunksAppendInOrderAndAWrongOffsetLeavesTheUploadUnchanged() throws {
        let dir = try LiveRegistry.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let sessions = try UploadSessions(directory: dir + "/uploads", timeout: 3600)
        let session = try sessions.create(repository: "team/app")
        let first = try bodyFile([1, 2, 3], in: dir)
        let second = try bodyFile([4, 5], in: dir)
        #expect(try sessions.append(session.id, repository: "team/app", bodyPath: first, bodySize: 3, start: 0).size == 3)
        #expect(throws: RegistryError.self) {
            try sessions.append(session.id, repository: "team/app", bodyPath: second, bodySize: 2, start: 0)
        }
        #expect(sessions.session(session.id, repository: "team/app")?.size == 3)
        #expect(try sessions.append(session.id, repository: "team/app", bodyPath: second, bodySize: 2, start: 3).size == 5)
        // The body files stay with their owner (the HTTP layer removes them); the session has its own copy.
        unlink(first)
        unlink(second)
        #expect(try Data(contentsOf: URL(fileURLWithPath: session.path)) == Data([1, 2, 3, 4, 5]))
        // Another repository cannot see or write the session.
        #expect(sessions.session(session.id, repository: "other/app") == nil)
        sessions.remove(session.id)
        #expect(!FileManager.default.fileExists(atPath: session.path))
        #expect(sessions.count == 0)
    }

    @Test func idleSessionsExpireWithTheirData() throws {
        let dir = try LiveRegistry.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let clock = LockedBox(Date(timeIntervalSince1970: 1_000_000))
        let sessions = try UploadSessions(directory: dir + "/uploads", timeout: 60, now: { clock.withLockedValue { $0 } })
        let old = try sessions.create(repository: "a")
        clock.withLockedValue { $0 += 45 }
        let fresh = try sessions.create(repository: "a")
        clock.withLockedValue { $0 += 30 }
        #expect(sessions.sweep() == [old.id])
        #expect(!FileManager.default.fileExists(atPath: old.path))
        #expect(FileManager.default.fileExists(atPath: fresh.path))
        #expect(sessions.session(fresh.id, repository: "a") != nil)
    }
}
