// swift-tools-version:6.0
// crabcan: an OCI container runtime. Layering (dependencies point downward only):
//   crabcan (CLI) → Runtime → Launcher, StateStore → OCISpec → JSON → CYajl
//                   Runtime → Checkpoint (CRIU's RPC) → Sys
//                             Launcher → Seccomp (CSeccomp), Capabilities (CCap) → Sys → CShim
//                             Cgroups → DBus → Sys (the systemd cgroup driver)
// The release binary is linked fully static by the Makefile (startup is a product feature).
import PackageDescription

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
        .target(name: "Sys", dependencies: ["CShim"]),
        // yajl-backed JSON reader (with JSON paths and source positions) and writer.
        .target(name: "JSON", dependencies: ["CYajl"]),
        // runtime-spec wire types: config.json, state, features; decode with JSON-path errors, encode.
        .target(name: "OCISpec", dependencies: ["JSON"]),
        // <root>/<id>/: state.json, exec.fifo, lock.
        .target(name: "StateStore", dependencies: ["Sys", "JSON", "OCISpec"]),
        // clone, the parent/child sync protocol, namespaces, rootfs and everything the child does until execve.
        .target(name: "Launcher", dependencies: ["Sys", "JSON", "OCISpec", "Seccomp", "Capabilities", "Cgroups"]),
        // Seccomp filters from linux.seccomp, through libseccomp.
        .target(name: "Seccomp", dependencies: ["CSeccomp", "JSON", "OCISpec", "Sys"]),
        // Process privileges: capabilities (libcap), rlimits, oom_score_adj, sysctl, personality.
        .target(name: "Capabilities", dependencies: ["CCap", "CShim", "JSON", "OCISpec", "Sys"]),
        // A minimal blocking D-Bus client (marshalling, auth, calls, signals) and systemd's Manager calls.
        .target(name: "DBus", dependencies: ["Sys"]),
        .target(name: "Cgroups", dependencies: ["Sys", "JSON", "OCISpec", "DBus"]),
        // CRIU's RPC (a minimal protobuf coder for rpc.proto) and the `criu swrk` client: checkpoint/restore.
        .target(name: "Checkpoint", dependencies: ["Sys"]),
        // The container facade: one function per subcommand.
        .target(name: "Runtime", dependencies: ["Sys", "JSON", "OCISpec", "StateStore", "Launcher", "Cgroups", "DBus", "Seccomp", "Capabilities", "Checkpoint"]),
        // Thin CLI.
        .executableTarget(name: "crabcan", dependencies: ["Runtime", "Sys"]),

        .testTarget(name: "JSONTests", dependencies: ["JSON"]),
        .testTarget(name: "OCISpecTests", dependencies: ["OCISpec", "JSON"]),
        .testTarget(name: "RuntimeTests", dependencies: ["Runtime", "Launcher", "StateStore", "Sys", "OCISpec", "JSON", "Capabilities"]),
        .testTarget(name: "CgroupTests", dependencies: ["Cgroups", "Sys", "OCISpec", "DBus"]),
        .testTarget(name: "DBusTests", dependencies: ["DBus"]),
        .testTarget(name: "SecurityTests", dependencies: ["Seccomp", "Capabilities", "OCISpec", "Sys"]),
        .testTarget(name: "CheckpointTests", dependencies: ["Checkpoint"]),
        .testTarget(name: "IntegrationTests", dependencies: []),
    ]
)

// `make fuzz` only (CRABCAN_FUZZ=1, its own --scratch-path): libFuzzer targets over everything that reads outside
// input, built with -sanitize=fuzzer,address. Left out of every other build, where it would have no main.
if Context.environment["CRABCAN_FUZZ"] != nil {
    package.targets.append(.executableTarget(
        name: "crabcan-fuzz",
        dependencies: ["JSON", "OCISpec", "StateStore", "Launcher", "Cgroups", "Runtime", "Sys"],
        path: "Sources/Fuzz",
        // libFuzzer brings main(); the Swift side only exports LLVMFuzzerTestOneInput.
        swiftSettings: [.unsafeFlags(["-parse-as-library"])],
        // gold dies with an internal error on the sanitized objects; lld (in the toolchain) links them.
        linkerSettings: [.unsafeFlags(["-use-ld=lld"])]))
}
