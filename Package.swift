// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "ec2-boot-init",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "ec2-boot-init", targets: ["ec2-boot-init"]),
        .executable(name: "ec2-boot-init-watch", targets: ["ec2-boot-init-watch"]),
        .executable(name: "ec2-boot-init-broker", targets: ["ec2-boot-init-broker"]),
        .library(name: "EC2BootKit", targets: ["EC2BootKit"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-crypto", "3.0.0"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.80.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.30.0"),
    ],
    targets: [
        // The system's libyaml (libyaml-0-2): EC2BootKit's YAML reader builds its nodes from its events.
        .systemLibrary(name: "CYAML", pkgConfig: "yaml-0.1", providers: [.apt(["libyaml-dev"])]),
        // zlib (gzip user-data) and syncfs(2), which the Glibc module hides.
        .systemLibrary(name: "CBootSystem", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        // libcurl (HTTP), opened with dlopen on first use; its headers come from libcurl4-openssl-dev.
        .target(name: "CCurl", linkerSettings: [.linkedLibrary("dl")]),
        // The argument vector from the process's start, not from /proc (absent in a chroot).
        .target(name: "CBootArgs"),
        .target(
            name: "EC2BootKit",
            dependencies: [
                "CBootSystem", "CBootArgs", "CCurl", "CYAML",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            // The Ruby shim for the Ruby tool's actions: a real .rb file (`ruby -c` checks it),
            // compiled into the binary, so nothing extra ships beside it.
            resources: [.embedInCode("Resources/ec2boot_shim.rb")]
        ),
        // Apache ZooKeeper's C client (libzookeeper-mt), for watch, push and nodes.
        .systemLibrary(name: "CZooKeeper", providers: [.apt(["libzookeeper-mt-dev"])]),
        // ZooKeeper sessions, the watch service and the operator's push: out of the boot path too.
        .target(
            name: "EC2BootCoordination",
            dependencies: [
                "EC2BootKit", "CZooKeeper",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        // STOMP and the broker actions: SwiftNIO stays out of the boot path (EC2BootKit).
        .target(
            name: "EC2BootMessaging",
            dependencies: [
                "EC2BootKit",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        // What the executables share: the global options, the program's main, the watch helper's help texts.
        .target(
            name: "EC2BootCLI",
            dependencies: ["EC2BootKit", .product(name: "ArgumentParser", package: "swift-argument-parser"),
                           .product(name: "Logging", package: "swift-log")]
        ),
        // Three executables split by what they load: a boot maps neither SwiftNIO, TLS nor ZooKeeper.
        // ec2-boot-init: the boot path and every command but watch/push/nodes, which it hands over.
        .executableTarget(
            name: "ec2-boot-init",
            dependencies: ["EC2BootKit", "EC2BootCLI", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        // watch, push, nodes: the ZooKeeper client.
        .executableTarget(
            name: "ec2-boot-init-watch",
            dependencies: ["EC2BootKit", "EC2BootCLI", "EC2BootCoordination",
                           .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        // The broker actions (SwiftNIO, NIOSSL), run by the engine of either program above.
        .executableTarget(
            name: "ec2-boot-init-broker",
            dependencies: ["EC2BootKit", "EC2BootMessaging", .product(name: "Logging", package: "swift-log")]
        ),
        .testTarget(
            name: "EC2BootKitTests",
            dependencies: ["EC2BootKit", "EC2BootMessaging", "EC2BootCoordination", "CCurl", "EC2BootCLI",
                           "ec2-boot-init", "ec2-boot-init-watch", "ec2-boot-init-broker",
                           .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOEmbedded", package: "swift-nio")]
        ),
    ]
)

// libFuzzer targets over the parsers hostile input reaches, only when scripts/fuzz.sh asks:
// every target of that build is compiled with -sanitize=fuzzer, in its own scratch folder.
if Context.environment["EC2BOOT_FUZZ"] != nil {
    for name in ["FuzzUserData", "FuzzListings"] {
        package.targets.append(.executableTarget(name: name, dependencies: ["EC2BootKit"], path: "Fuzz/\(name)"))
    }
}
