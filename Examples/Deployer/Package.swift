// swift-tools-version:6.0
// An example of composing DocketKit: pull one image into several local stores at once.
import PackageDescription

let package = Package(
    name: "Deployer",
    platforms: [.macOS(.v14)],
    dependencies: [.package(path: "../..")],
    targets: [
        .executableTarget(
            name: "deployer",
            dependencies: [.product(name: "DocketKit", package: "main")],
            path: "Sources/deployer"),
    ],
    swiftLanguageModes: [.v6]
)
