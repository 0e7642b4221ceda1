// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "casebook",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "casebook", targets: ["casebook"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/weichsel/ZIPFoundation", from: "0.9.20"),
    ],
    targets: [
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3",
                       providers: [.apt(["libsqlite3-dev"])]),
        // Not named CZlib: ZIPFoundation's own zlib module has that name.
        .systemLibrary(name: "CSystemZlib", pkgConfig: "zlib",
                       providers: [.apt(["zlib1g-dev"])]),
        // ISA-L inflates gzip input with less than half the CPU zlib takes (measured in BENCHMARKS.md).
        .systemLibrary(name: "CISAL", pkgConfig: "libisal",
                       providers: [.apt(["libisal-dev"])]),
        // No pkgConfig: its -D flags are refused by SwiftPM; shim.h defines what they would.
        .systemLibrary(name: "CNCursesW", providers: [.apt(["libncurses-dev"])]),
        .target(name: "CasebookStore", dependencies: ["CSQLite"],
                resources: [.embedInCode("schema")]),
        .target(name: "CasebookIO", dependencies: ["CSystemZlib", "CISAL", .product(name: "Crypto", package: "swift-crypto")]),
        .target(name: "CasebookAudit", dependencies: ["CasebookStore", "CasebookIO", .product(name: "Crypto", package: "swift-crypto")]),
        .target(name: "CasebookCases", dependencies: ["CasebookStore", "CasebookAudit"]),
        .target(name: "CasebookQueries", dependencies: ["CasebookStore", "CasebookIO"]),
        .target(name: "CasebookTUI", dependencies: ["CasebookStore", "CasebookIO", "CasebookQueries", "CasebookGraph", "CasebookCases", "CasebookAudit"]),
        .target(name: "CasebookTerminal", dependencies: ["CNCursesW", "CasebookTUI"]),
        .target(name: "CasebookIngest", dependencies: ["CasebookStore", "CasebookIO", "CasebookAudit"]),
        .target(name: "CasebookGenerate", dependencies: ["CasebookIO"]),
        .target(name: "CasebookExport", dependencies: [
            "CasebookStore", "CasebookIO", "CasebookAudit", "CasebookQueries",
            .product(name: "Crypto", package: "swift-crypto"), .product(name: "ZIPFoundation", package: "ZIPFoundation"),
        ]),
        .target(name: "CasebookGraph", dependencies: ["CasebookStore", "CasebookIO", "CasebookAudit"]),
        .executableTarget(name: "casebook", dependencies: [
            "CasebookStore", "CasebookIO", "CasebookAudit", "CasebookCases", "CasebookQueries", "CasebookTUI", "CasebookTerminal", "CasebookIngest", "CasebookGenerate", "CasebookGraph", "CasebookExport",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "casebook-bench", dependencies: ["CasebookStore", "CasebookIO"],
                          path: "bench/Sources/casebook-bench"),
        // libFuzzer target for the record parsers (bench/fuzz-parsers builds it with -sanitize=fuzzer).
        .executableTarget(name: "casebook-fuzz", dependencies: ["CasebookIngest", "CasebookIO"], path: "bench/fuzz/Sources/casebook-fuzz"),
        .testTarget(name: "CasebookStoreTests", dependencies: ["CasebookStore", "CasebookIO"]),
        .testTarget(name: "CasebookTUITests", dependencies: ["CasebookTUI", "CasebookIO", "CasebookQueries", "CasebookCases", "CasebookIngest", "CasebookGraph", "CasebookGenerate", "CasebookStore"],
                    exclude: ["Snapshots"]),
        .testTarget(name: "CasebookCasesTests", dependencies: ["CasebookCases", "CasebookAudit", "CasebookIngest", "CasebookGraph", "CasebookStore"]),
        .testTarget(name: "CasebookIngestTests", dependencies: ["CasebookIngest", "CasebookStore", "CasebookIO"]),
        .testTarget(name: "CasebookGenerateTests", dependencies: ["CasebookGenerate", "CasebookIngest", "CasebookStore"]),
        .testTarget(name: "CasebookGraphTests", dependencies: ["CasebookGraph", "CasebookQueries", "CasebookIngest", "CasebookGenerate", "CasebookStore"]),
        .testTarget(name: "CasebookExportTests", dependencies: ["CasebookExport", "CasebookCases", "CasebookGenerate", "CasebookGraph",
                                                                "CasebookIngest", "CasebookIO", "CasebookStore",
                                                                .product(name: "Crypto", package: "swift-crypto")]),
        .testTarget(name: "CasebookCLITests", dependencies: ["casebook", "CasebookStore", .product(name: "Crypto", package: "swift-crypto")]),
    ]
)
