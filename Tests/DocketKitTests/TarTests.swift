import DocketKit
import Foundation
import Testing

@Suite struct TarTests {

    @Test func roundTripsFilesDirectoriesAndLongNames() throws {
        let dir = try TarTestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let source = dir + "/source.bin"
        let big = Data((0..<5000).map { UInt8($0 % 251) })
        try big.write(to: URL(fileURLWithPath: source))
        let ustarSplitName = String(repeating: "d", count: 90) + "/" + String(repeating: "f", count: 90)
        let paxName = String(repeating: "p", count: 300) + ".txt"
        let archive = dir + "/a.tar"
        try TarTestSupport.writeArchive(at: archive) { w in
            try w.addDirectory(name: "blobs")
            try w.addFile(name: "blobs/hello.txt", data: Data("hello\n".utf8))
            try w.addFile(name: "big.bin", contentsOf: source)
            try w.addFile(name: ustarSplitName, data: Data("split".utf8))
            try w.addFile(name: paxName, data: Data("pax".utf8))
            try w.addSymlink(name: "link", target: "blobs/hello.txt")
        }
        let size = try FileManager.default.attributesOfItem(atPath: archive)[.size] as! Int
        #expect(size % 512 == 0)

        let reader = try TarReader(path: archive)
        let entries = try reader.entries()
        #expect(entries.map(\.name) == ["blobs/", "blobs/hello.txt", "big.bin", ustarSplitName, paxName, "link"])
        #expect(entries.map(\.kind) == [.directory, .file, .file, .file, .file, .symlink])
        #expect(entries[0].normalizedName == "blobs")
        #expect(entries[1].size == 6)
        #expect(try reader.data(of: entries[1]) == Data("hello\n".utf8))
        #expect(try reader.data(of: entries[2]) == big)
        #expect(try reader.data(of: entries[3]) == Data("split".utf8))
        #expect(try reader.data(of: entries[4]) == Data("pax".utf8))
        #expect(entries[5].linkName == "blobs/hello.txt")
        // Data offsets point into the file itself.
        let raw = try Data(contentsOf: URL(fileURLWithPath: archive))
        let start = Int(entries[1].dataOffset)
        #expect(raw[start..<(start + 6)] == Data("hello\n".utf8))
        // Chunked reads cover the whole member.
        var chunks = 0, total = 0
        try reader.read(entries[2], chunkSize: 1024) { chunks += 1; total += $0.count }
        #expect(chunks == 5 && total == 5000)
    }

    @Test func readsArchivesWrittenBySystemTar() throws {
        let dir = try TarTestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let longDir = String(repeating: "x", count: 120)
        try FileManager.default.createDirectory(atPath: "\(dir)/in/\(longDir)", withIntermediateDirectories: true)
        try Data("abc".utf8).write(to: URL(fileURLWithPath: "\(dir)/in/\(longDir)/\(String(repeating: "y", count: 120))"))
        for format in ["gnu", "pax", "ustar"] {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/tar")
            process.arguments = ["--format=\(format)", "-cf", "\(dir)/\(format).tar", "-C", "\(dir)/in", "."]
            process.standardError = FileHandle.nullDevice
            try process.run()
            process.waitUntilExit()
            guard process.terminationStatus == 0 else { continue }   // ustar cannot hold 241-byte names
            let entries = try TarReader(path: "\(dir)/\(format).tar").entries()
            let file = try #require(entries.first { $0.kind == .file })
            #expect(file.normalizedName == "\(longDir)/\(String(repeating: "y", count: 120))", "format \(format)")
            #expect(try TarReader(path: "\(dir)/\(format).tar").data(of: file) == Data("abc".utf8))
        }
    }

    @Test func systemTarReadsOurArchives() throws {
        let dir = try TarTestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let longName = "deep/" + String(repeating: "n", count: 200)
        try TarTestSupport.writeArchive(at: dir + "/ours.tar") { w in
            try w.addDirectory(name: "deep")
            try w.addFile(name: longName, data: Data("long".utf8))
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/tar")
        process.arguments = ["-xf", dir + "/ours.tar", "-C", dir]
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        #expect(FileManager.default.contents(atPath: dir + "/" + longName) == Data("long".utf8))
    }

    @Test func rejectsCorruptAndTruncatedArchives() throws {
        let dir = try TarTestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let archive = dir + "/a.tar"
        try TarTestSupport.writeArchive(at: archive) { w in try w.addFile(name: "f", data: Data(count: 2000)) }
        var raw = try Data(contentsOf: URL(fileURLWithPath: archive))

        var corrupt = raw
        corrupt[3] ^= 0xff
        try corrupt.write(to: URL(fileURLWithPath: dir + "/corrupt.tar"))
        #expect(throws: TarError.self) { try TarReader(path: dir + "/corrupt.tar").entries() }

        raw.removeLast(raw.count - 1024)   // header + half the data
        try raw.write(to: URL(fileURLWithPath: dir + "/short.tar"))
        #expect(throws: TarError.self) { try TarReader(path: dir + "/short.tar").entries() }

        try Data("not a tar".utf8).write(to: URL(fileURLWithPath: dir + "/text.tar"))
        #expect(throws: TarError.self) { try TarReader(path: dir + "/text.tar").entries() }
    }
}
