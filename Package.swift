// swift-tools-version:6.0
// crabcan: an OCI container runtime. Layering (dependencies point downward only):
//   crabcan (CLI) → Runtime → Launcher → Plan, StateStore → OCISpec → JSON (CYajl) → Sys
//                   Runtime → Checkpoint (CRIU's RPC) → Sys
//                             Plan → Seccomp (CSeccomp), Capabilities (CCap) → Sys → CShim
//                             Cgroups → DBus → Sys (the systemd cgroup driver)
// The release binary is linked fully static by the Makefile (startup is a product feature).
import PackageDescription

// The implicitly imported _StringProcessing (regex engine, Unicode tables) and _Concurrency (with libdispatch)
// modules are left out of every crabcan module: nothing uses them, and linked in they cost start-up pages
// (docs/performance.md). Substring search is Sys's `containsText`. Generic type metadata is fetched through
// accessor functions rather than by mangled name: the runtime's demangler was ~10% of an `exec`'s samples.
// Copies and destroys of large structs and their Optionals are lowered field by field (the frontend's older
// TypeInfo lowering, not type-layout lowering): type-layout lowering sent `Optional<Linux>`'s destroy, and 18 more
// like it, through that Optional's value witnesses, whose metadata every process then made at run time
// (`check`: 1.18 M -> 1.10 M instructions, a smaller binary; docs/performance.md, session 19).
let lean: [SwiftSetting] = [.unsafeFlags([
    "-Xfrontend", "-disable-implicit-string-processing-module-import",
    "-Xfrontend", "-disable-implicit-concurrency-module-import",
    "-Xfrontend", "-disable-concrete-type-metadata-mangled-name-accessors",
    "-Xfrontend", "-disable-type-layout",
])]

let package = Package(
    name: "crabcan",
    products: [
        .executable(name: "crabcan", targets: ["crabcan"]),
    ],
    targets: [
        // C: system libraries and the one shim for what Swift cannot import (variadic calls, macros, _GNU_SOURCE).
        .systemLibrary(name: "CYajl", pkgConfig: "yajl", providers: [.apt(["libyajl-dev"])]),
        .systemLibrary(name: "CSeccomp", pkgConfig: "libseccomp", providers: [.apt(["libseccomp-dev"])]),
        .systemLibrary(name: "CCap", pkgConfig: "libcap", providers: [.apt(["libcap-dev"])]),
        .target(name: "CShim"),

        // The only Swift module with raw syscalls and unsafe pointers.
        .target(name: "Sys", dependencies: ["CShim"], swiftSettings: lean),
        // yajl-backed JSON reader (with JSON paths and source positions) and writer (escaping through Sys.jsonEscape).
        .target(name: "JSON", dependencies: ["CYajl", "Sys"], swiftSettings: lean),
        // runtime-spec wire types: config.json, state, features; decode with JSON-path errors, encode.
        .target(name: "OCISpec", dependencies: ["JSON", "Sys"], swiftSettings: lean),
        // <root>/<id>/: state.json, exec.fifo, lock.
        .target(name: "StateStore", dependencies: ["Sys", "JSON", "OCISpec"], swiftSettings: lean),
        // Everything decided before clone: a config checked once into a ContainerPlan or ExecPlan, every problem
        // collected with its JSON path (what `check` prints and `create` refuses).
        .target(name: "Plan", dependencies: ["Sys", "JSON", "OCISpec", "Seccomp", "Capabilities", "Cgroups"], swiftSettings: lean),
        // clone, the parent/child sync protocol, and what the child does by step until execve; it only acts on a Plan.
        .target(name: "Launcher", dependencies: ["Sys", "JSON", "OCISpec", "Plan", "Seccomp", "Capabilities", "Cgroups"], swiftSettings: lean),
        // Seccomp filters from linux.seccomp, through libseccomp.
        .target(name: "Seccomp", dependencies: ["CSeccomp", "JSON", "OCISpec", "Sys"], swiftSettings: lean),
        // Process privileges: capabilities (libcap), rlimits, oom_score_adj, sysctl, personality.
        .target(name: "Capabilities", dependencies: ["CCap", "CShim", "JSON", "OCISpec", "Sys"], swiftSettings: lean),
        // A minimal blocking D-Bus client (marshalling, auth, calls, signals) and systemd's Manager calls.
        .target(name: "DBus", dependencies: ["Sys"], swiftSettings: lean),
        .target(name: "Cgroups", dependencies: ["Sys", "JSON", "OCISpec", "DBus"], swiftSettings: lean),
        // CRIU's RPC (a minimal protobuf coder for rpc.proto) and the `criu swrk` client: checkpoint/restore.
        .target(name: "Checkpoint", dependencies: ["Sys"], swiftSettings: lean),
        // The container facade: one function per subcommand.
        .target(name: "Runtime", dependencies: ["Sys", "JSON", "OCISpec", "StateStore", "Plan", "Launcher", "Cgroups", "DBus", "Seccomp", "Capabilities", "Checkpoint"], swiftSettings: lean),
        // Thin CLI.
        .executableTarget(name: "crabcan", dependencies: ["Runtime", "Sys"], swiftSettings: lean),

        .testTarget(name: "SysTests", dependencies: ["Sys"]),
        .testTarget(name: "JSONTests", dependencies: ["JSON", "Sys"]),
        .testTarget(name: "PlanTests", dependencies: ["Plan", "OCISpec", "Sys", "Capabilities", "Cgroups"]),
        .testTarget(name: "LauncherTests", dependencies: ["Launcher", "Plan", "OCISpec", "Sys"]),
        .testTarget(name: "OCISpecTests", dependencies: ["OCISpec", "JSON", "Sys"]),
        .testTarget(name: "RuntimeTests", dependencies: ["Runtime", "Plan", "Launcher", "StateStore", "Sys", "OCISpec", "JSON", "Capabilities", "Seccomp"]),
        .testTarget(name: "CgroupTests", dependencies: ["Cgroups", "Sys", "JSON", "OCISpec", "DBus"]),
        .testTarget(name: "DBusTests", dependencies: ["DBus"]),
        .testTarget(name: "SecurityTests", dependencies: ["Seccomp", "Capabilities", "OCISpec", "Sys", "CShim"]),
        .testTarget(name: "CheckpointTests", dependencies: ["Checkpoint"]),
        .testTarget(name: "IntegrationTests", dependencies: []),
    ]
)

// `make fuzz` only (CRABCAN_FUZZ=1, its own --scratch-path): libFuzzer targets over everything that reads outside
// input, built with -sanitize=fuzzer,address. Left out of every other build, where it would have no main.
if Context.environment["CRABCAN_FUZZ"] != nil {
    package.targets.append(.executableTarget(
        name: "crabcan-fuzz",
        dependencies: ["JSON", "OCISpec", "StateStore", "Plan", "Launcher", "Cgroups", "DBus", "Runtime", "Sys"],
        path: "Sources/Fuzz",
        // libFuzzer brings main(); the Swift side only exports LLVMFuzzerTestOneInput.
        swiftSettings: [.unsafeFlags(["-parse-as-library"])],
        // gold dies with an internal error on the sanitized objects; lld (in the toolchain) links them.
        linkerSettings: [.unsafeFlags(["-use-ld=lld"])]))
}
