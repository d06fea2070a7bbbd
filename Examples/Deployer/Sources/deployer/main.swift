// deployer: pulls one image into several local FileImageStores concurrently, each with its own
// BitTorrent client, so the stores also feed each other. Shows how DocketKit's pieces compose:
//   HTTPRegistry (where the image is) + FileImageStore (where it goes) + DocketTorrentSeeder
//   (how layers travel) -> ImagePuller (the pull) -> an optional Deployer (ArchiveDeployer here).
//
// usage: deployer --registry URL NAME:TAG [--stores N] [--root DIR] [--seed-time SECONDS] [--archives]
import DocketKit
import DocketTorrent
import Foundation

struct Options {
    var registry = ProcessInfo.processInfo.environment["DOCKET_REGISTRY"] ?? "http://127.0.0.1:5000"
    var reference: ImageReference?
    var stores = 3
    var root = (NSTemporaryDirectory() as NSString).appendingPathComponent("docket-deployer")
    var seedSeconds = 5
    var archives = false

    static let usage = "usage: deployer --registry URL NAME:TAG [--stores N] [--root DIR] [--seed-time SECONDS] [--archives]"

    init(_ arguments: [String]) throws {
        var rest = arguments[...]
        while let word = rest.popFirst() {
            func value() throws -> String {
                guard let next = rest.popFirst() else { throw UsageError(message: "\(word) needs a value") }
                return next
            }
            switch word {
            case "--registry": registry = try value()
            case "--stores": stores = Int(try value()) ?? 0
            case "--root": root = try value()
            case "--seed-time": seedSeconds = Int(try value()) ?? -1
            case "--archives": archives = true
            case "-h", "--help": throw UsageError(message: Self.usage)
            default:
                guard reference == nil, !word.hasPrefix("-") else { throw UsageError(message: "unexpected \(word)") }
                reference = try ImageReference(parsing: word)
            }
        }
        guard reference != nil else { throw UsageError(message: "missing NAME:TAG") }
        guard (1...32).contains(stores), seedSeconds >= 0 else { throw UsageError(message: "--stores is 1...32, --seed-time >= 0") }
    }
}

struct UsageError: Error { var message: String }

/// One store, its own torrent client, one pull; lines are prefixed with the store's number.
func deploy(number: Int, options: Options) async throws -> PullSummary {
    let reference = options.reference!
    let directory = "\(options.root)/store-\(number)"
    let seeder = try DocketTorrentSeeder(configuration: TorrentClient.Configuration())
    let puller = ImagePuller(registry: HTTPRegistry(url: options.registry), store: FileImageStore(root: directory),
                             seeder: seeder, options: PullOptions(seedTime: .seconds(options.seedSeconds)))
    let deployer: (any Deployer)? = options.archives ? ArchiveDeployer(path: "\(directory).tar") : nil
    var summary: PullSummary?
    do {
        for try await event in puller.pull(reference, deployer: deployer) {
            switch event {
            case .layerDone(let digest, _, let fromRegistry, let fromPeers, _):
                print("[store \(number)] \(digest.hex.prefix(12)) done: \(ByteFormat.megabytes(fromRegistry)) registry, \(ByteFormat.megabytes(fromPeers)) peers")
            case .layerSkipped(let digest, _):
                print("[store \(number)] \(digest.hex.prefix(12)) already stored")
            case .notice(let text):
                print("[store \(number)] \(text)")
            case .pulled(let result):
                summary = result
                print("[store \(number)] \(result.line) -> \(directory)")
            case .seeding(let layers, let seconds):
                print("[store \(number)] seeding \(layers) layers for \(Int(seconds)) s on port \(seeder.listenPort)")
            default:
                break
            }
        }
    } catch {
        await seeder.shutdown()
        throw error
    }
    await seeder.shutdown()
    return summary!
}

do {
    let options = try Options(Array(CommandLine.arguments.dropFirst()))
    let summaries = try await withThrowingTaskGroup(of: PullSummary.self) { group in
        for number in 1...options.stores {
            group.addTask { try await deploy(number: number, options: options) }
        }
        var all: [PullSummary] = []
        for try await summary in group { all.append(summary) }
        return all
    }
    let fromPeers = summaries.reduce(0) { $0 + $1.bytesFromPeers }
    let fromRegistry = summaries.reduce(0) { $0 + $1.bytesFromRegistry }
    print("deployed \(options.reference!) to \(summaries.count) stores: \(ByteFormat.megabytes(fromRegistry)) from the registry, \(ByteFormat.megabytes(fromPeers)) between peers")
} catch let error as UsageError {
    FileHandle.standardError.write(Data("\(error.message)\n".utf8))
    exit(64)
} catch {
    FileHandle.standardError.write(Data("error: \(error)\n".utf8))
    exit(1)
}
