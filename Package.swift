// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "Docket",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "DocketKit", targets: ["DocketKit"]),
        .library(name: "DocketTorrent", targets: ["DocketTorrent"]),
        .library(name: "DocketRegistryServer", targets: ["DocketRegistryServer"]),
        .executable(name: "docket-cli", targets: ["docket-cli"]),
        .executable(name: "docket-bench", targets: ["docket-bench"]),
    ],
    targets: [
        // C libraries from Debian, one system-library target each.
        .systemLibrary(name: "COpenSSL", pkgConfig: "openssl", providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        .systemLibrary(name: "CMicroHTTPD", pkgConfig: "libmicrohttpd", providers: [.apt(["libmicrohttpd-dev"])]),
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),
        // Tiny C wrappers for variadic and macro APIs Swift cannot call directly.
        .target(name: "CDocketShims", dependencies: ["CCurl", "CMicroHTTPD"]),

        // Hashing, HTTP client, locks, logging: the plumbing every module shares.
        .target(name: "DocketCore", dependencies: ["COpenSSL", "CCurl", "CDocketShims"]),
        // Our BitTorrent engine: codecs (Bencode, Metainfo, PeerWire, Tracker) and the session.
        .target(name: "DocketTorrent", dependencies: ["DocketCore"]),
        // Public protocols, value types and the client-side backends.
        .target(name: "DocketKit", dependencies: ["DocketCore", "DocketTorrent", "CDocketShims"]),
        // The registry: libmicrohttpd server, SQLite metadata, blob store, tracker, seeding.
        .target(name: "DocketRegistryServer",
                dependencies: ["DocketKit", "DocketTorrent", "DocketCore", "CMicroHTTPD", "CSQLite", "CDocketShims"]),
        .executableTarget(name: "docket-cli", dependencies: ["DocketKit", "DocketRegistryServer", "DocketTorrent"]),
        .executableTarget(name: "docket-bench", dependencies: ["DocketKit", "DocketTorrent", "DocketCore"], path: "bench/docket-bench"),

        .testTarget(name: "DocketCoreTests", dependencies: ["DocketCore"]),
        .testTarget(name: "DocketTorrentTests", dependencies: ["DocketTorrent"]),
        .testTarget(name: "DocketKitTests", dependencies: ["DocketKit"]),
        .testTarget(name: "DocketRegistryServerTests", dependencies: ["DocketRegistryServer", "DocketKit"]),
        .testTarget(name: "IntegrationTests", dependencies: ["DocketKit", "DocketRegistryServer", "DocketTorrent"]),
    ],
    swiftLanguageModes: [.v6]
)
