import DocketKit
import DocketRegistryServer
import Foundation

extension ServeCommand {
    func run() async throws {
        var configuration = RegistryServer.Configuration(
            dataDirectory: dataDirectory, bindAddress: bindAddress, port: port, externalTracker: trackerURL,
            seederUploadLimit: uploadLimit.map { Int($0) }, logger: Logger(label: "docket.registry", level: .info))
        configuration.httpUploadLimit = uploadLimit.map { Int($0) }
        configuration.trackerWhitelist = trackerWhitelist?.whitelist
        let server = RegistryServer(configuration: configuration)
        try await Blocking.run(name: "docket.registry-start") { try server.start() }
        let seeder = server.seederPort.map { ", seeding on port \($0)" } ?? ""
        Console.line("docket registry listening on http://\(bindAddress):\(server.port) (data in \(dataDirectory)\(seeder))")
        if let trackerWhitelist {
            Console.line("keeping the tracker whitelist \(trackerWhitelist.path) for \(trackerURL ?? "")")
        }
        // Serve until SIGINT/SIGTERM cancels this task.
        while !Task.isCancelled {
            do { try await Task.sleep(for: .seconds(3600)) } catch { break }
        }
        Console.line("stopping: finishing requests in flight")
        try await Blocking.run(name: "docket.registry-stop") { server.stop() }
        Console.line("stopped")
    }
}
