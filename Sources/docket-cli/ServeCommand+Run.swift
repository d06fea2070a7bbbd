import DocketKit
import DocketRegistryServer
import Foundation

extension ServeCommand {
    func run() async throws {
        throw DocketError.registry(status: 0, message: "serve is not wired yet")
    }
}
