import DocketKit
import Foundation

extension ImagesCommand {
    func run() async throws {
        let images = try await HTTPRegistry(url: registry).listImages()
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            Console.line(String(decoding: try encoder.encode(images), as: UTF8.self))
            return
        }
        Console.out(Self.table(images))
    }

    /// `NAME  TAG  DIGEST  SIZE  CREATED` with columns padded to fit.
    static func table(_ images: [ImageSummary]) -> String {
        let rows = [["NAME", "TAG", "DIGEST", "SIZE", "CREATED"]] + images.map { image in
            [image.name, image.tag, "sha256:" + image.digest.hex.prefix(12), ByteFormat.megabytes(image.size), image.created]
        }
        let widths = (0..<5).map { column in rows.map { $0[column].count }.max() ?? 0 }
        return rows.map { row in
            zip(row, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }.joined(separator: "  ")
                .trimmingCharacters(in: .whitespaces)
        }.joined(separator: "\n") + "\n"
    }
}
