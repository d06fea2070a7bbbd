// swift-tools-version:6.0
// An example of composing DocketKit: pull one image into several local stores at once.
import Foundation
import PackageDescription

// A path dependency is known by its directory's name, whatever the checkout is called.
let docketRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../..").standardized
let docketIdentity = docketRoot.lastPathComponent.lowercased()

let package = Package(
    name: "Deployer",
    platforms: [.macOS(.v14)],
    dependencies: [.package(path: "../..")],
    targets: [
        .executableTarget(
            name: "deployer",
            dependencies: [.product(name: "DocketKit", package: docketIdentity)],
            path: "Sources/deployer"),
    ],
    swiftLanguageModes: [.v6]
)
