import Foundation
import Testing

/// Integration tests drive the built `crabcan` binary across separate invocations on real bundles.
/// Everything lives in this one serialized suite (extended by theme in the other files): host mountinfo and
/// process checks must not interleave. Needs root (real namespaces); skipped otherwise.
@Suite(.serialized, .enabled(if: getuid() == 0, "needs root"))
struct CrabcanCLI {}

// MARK: - Paths

enum Paths {
    /// <repo>, derived from this file: <repo>/Tests/IntegrationTests/Support.swift.
    static let repo: String = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    static let binary: String = {
        if let path = ProcessInfo.processInfo.environment["CRABCAN_BIN"], !path.isEmpty { return path }
        return repo + "/.build/debug/crabcan"
    }()

    static let busyboxBundle = repo + "/bundles/busybox"
    static let validator = repo + "/spec-schema/validate.py"

    /// bundles/busybox/rootfs, built with scripts/mkrootfs.sh when missing (once per test run).
    static let sharedRootfs: String = {
        let rootfs = busyboxBundle + "/rootfs"
        if !FileManager.default.isExecutableFile(atPath: rootfs + "/bin/busybox") {
            _ = Command.run("/bin/bash", [repo + "/scripts/mkrootfs.sh", rootfs], timeout: 120)
        }
        return rootfs
    }()
}

// MARK: - Running commands

/// The outcome of one finished command.
struct Result: CustomStringConvertible {
    var status: Int32          // exit code, or 128 + signal when killed by a signal
    var signaled: Bool
    var stdout: String
    var stderr: String
    var timedOut: Bool

    var stderrLines: [String] { stderr.split(separator: "\n", omittingEmptySubsequences: true).map(String.init) }
    var stdoutLines: [String] { stdout.split(separator: "\n", omittingEmptySubsequences: true).map(String.init) }

    var description: String {
        "status=\(status)\(signaled ? " (signal)" : "")\(timedOut ? " TIMED OUT" : "")\nstdout: \(stdout)\nstderr: \(stderr)"
    }
}

/// A started process whose stdout/stderr go to files (not pipes: a detached container keeps them open).
final class Command {
    let process = Process()
    let outPath: String
    let errPath: String
    private let scratch: String

    init(_ executable: String, _ arguments: [String], cwd: String? = nil, stdin: Data? = nil) throws {
        scratch = NSTemporaryDirectory() + "crabcan-it-io-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        outPath = scratch + "/stdout"
        errPath = scratch + "/stderr"
        _ = FileManager.default.createFile(atPath: outPath, contents: nil)
        _ = FileManager.default.createFile(atPath: errPath, contents: nil)
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let cwd { process.currentDirectoryURL = URL(fileURLWithPath: cwd) }
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: outPath))
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: errPath))
        if let stdin {
            let inPath = scratch + "/stdin"
            _ = FileManager.default.createFile(atPath: inPath, contents: stdin)
            process.standardInput = FileHandle(forReadingAtPath: inPath)
        } else {
            process.standardInput = FileHandle.nullDevice
        }
        try process.run()
    }

    var pid: pid_t { process.processIdentifier }
    var isRunning: Bool { process.isRunning }
    var stdoutSoFar: String { (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? "" }

    func signal(_ signal: Int32) { _ = kill(pid, signal) }

    /// Waits up to `timeout` seconds, then SIGKILLs it (the result says `timedOut`).
    func wait(timeout: Double = 20) -> Result {
        let deadline = Date().addingTimeInterval(timeout)
        var timedOut = false
        while process.isRunning {
            if Date() > deadline {
                timedOut = true
                _ = kill(pid, SIGKILL)
                break
            }
            usleep(5_000)
        }
        process.waitUntilExit()
        let signaled = process.terminationReason == .uncaughtSignal
        let status = signaled ? 128 + process.terminationStatus : process.terminationStatus
        let result = Result(status: status, signaled: signaled,
                            stdout: (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? "",
                            stderr: (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? "",
                            timedOut: timedOut)
        return result
    }

    deinit {
        if process.isRunning {  // a test that stopped early: never leave it behind
            _ = kill(pid, SIGKILL)
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(atPath: scratch)
    }

    /// Runs to completion (or the timeout).
    @discardableResult
    static func run(_ executable: String, _ arguments: [String], cwd: String? = nil, stdin: Data? = nil,
                    timeout: Double = 20) -> Result {
        do {
            return try Command(executable, arguments, cwd: cwd, stdin: stdin).wait(timeout: timeout)
        } catch {
            return Result(status: -1, signaled: false, stdout: "", stderr: "cannot start \(executable): \(error)",
                          timedOut: false)
        }
    }
}

/// Polls `condition` every 10 ms for up to `timeout` seconds (container operations take milliseconds).
@discardableResult
func eventually(timeout: Double = 5, _ condition: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if condition() { return true }
        usleep(10_000)
    }
    return condition()
}

// MARK: - Host inspection

enum Host {
    /// Read to the end: /proc files say size 0, and a one-shot read missed the later mounts once a host had more
    /// than a page of them.
    static func mountinfo() -> String {
        guard let handle = FileHandle(forReadingAtPath: "/proc/self/mountinfo") else { return "" }
        defer { try? handle.close() }
        return String(decoding: (try? handle.readToEnd()) ?? Data(), as: UTF8.self)
    }

    static func pids() -> [pid_t] {
        ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).compactMap { pid_t($0) }
    }

    /// The one-letter state from /proc/<pid>/stat, nil when there is no such process.
    static func processState(_ pid: pid_t) -> Character? {
        guard pid > 0, let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return nil }
        return stat[close...].dropFirst(2).first
    }

    /// Alive: exists and is not a zombie (a zombie is dead; whoever inherited it reaps it).
    static func isAlive(_ pid: pid_t) -> Bool {
        guard let state = processState(pid) else { return false }
        return state != "Z" && state != "X"
    }

    static func cmdline(_ pid: pid_t) -> [String] {
        guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return [] }
        return data.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
    }

    /// Live processes whose root mount is `rootfs` (a container on that rootfs), or whose command line
    /// mentions `id` (a container init still running crabcan's code).
    static func processes(usingRootfs rootfs: String, orMentioning id: String) -> [pid_t] {
        let me = getpid()
        return pids().filter { pid in
            guard pid != me, isAlive(pid) else { return false }
            if cmdline(pid).contains(where: { $0 == id }) { return true }
            guard let info = try? String(contentsOfFile: "/proc/\(pid)/mountinfo", encoding: .utf8) else { return false }
            return info.split(separator: "\n").contains { line in
                let fields = line.split(separator: " ")
                return fields.count > 4 && fields[3] == rootfs && fields[4] == "/"
            }
        }
    }
}

// MARK: - A test's own bundle, state root and container ids

/// A runtime root as a leak check sees it: what is left there besides what crabcan keeps on purpose for the next
/// container, under names no container id can have: the compiled seccomp filters (<root>/@seccomp,
/// docs/seccomp.md), the detected cgroup mounts (<root>/@cgroup-host, docs/performance.md), and in the default
/// root the template mount namespace (/run/crabcan/@mount-template/mnt, in a private bind of its directory;
/// docs/design.md §2).
enum RuntimeRoot {
    static let seccompCache = "@seccomp"
    static let cgroupHostCache = "@cgroup-host"
    static let mountTemplateName = "@mount-template"
    static let mountTemplate = "/run/crabcan/" + mountTemplateName
    static let mountTemplateFile = mountTemplate + "/mnt"

    static func isKeptOnPurpose(_ name: String) -> Bool {
        name == seccompCache || name == cgroupHostCache || name == mountTemplateName
    }

    static func containerEntries(_ root: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []).filter { !isKeptOnPurpose($0) }
    }
}

/// One test's world: a temp dir holding a private copy of the busybox rootfs, bundles, and a `--root`.
/// `cleanup()` force-deletes every id handed out and removes the temp dir; call it in a `defer`.
final class Sandbox {
    let dir: String
    let root: String
    let rootfs: String
    private var ids: [String] = []
    private static let runTag = String(UUID().uuidString.prefix(8)).lowercased()
    private nonisolated(unsafe) static var counter = 0

    init() throws {
        dir = NSTemporaryDirectory() + "crabcan-it-" + UUID().uuidString
        root = dir + "/state"
        rootfs = dir + "/rootfs"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        let copy = Command.run("/bin/cp", ["-a", Paths.sharedRootfs, rootfs])
        guard copy.status == 0 else { throw SetupError("copying rootfs failed: \(copy)") }
    }

    /// A unique container id (also unique across concurrent test runs).
    func id(_ name: String) -> String {
        Sandbox.counter += 1
        let id = "it-\(name)-\(Sandbox.runTag)-\(Sandbox.counter)"
        ids.append(id)
        return id
    }

    /// A bundle dir with bundles/busybox/config.json, `root.path` = this sandbox's rootfs (absolute).
    func bundle(_ args: [String], readonly: Bool = false, name: String = "bundle",
                edit: (inout [String: Any]) -> Void = { _ in }) throws -> String {
        let bundle = dir + "/" + name
        try FileManager.default.createDirectory(atPath: bundle, withIntermediateDirectories: true)
        let data = try Data(contentsOf: URL(fileURLWithPath: Paths.busyboxBundle + "/config.json"))
        guard var config = try JSONSerialization.jsonObject(with: data) as? [String: Any],
              var process = config["process"] as? [String: Any] else { throw SetupError("bad busybox config.json") }
        process["args"] = args
        config["process"] = process
        config["root"] = ["path": rootfs, "readonly": readonly]
        edit(&config)
        let out = try JSONSerialization.data(withJSONObject: config, options: [.prettyPrinted, .sortedKeys])
        try out.write(to: URL(fileURLWithPath: bundle + "/config.json"))
        return bundle
    }

    /// `crabcan --root <root> <arguments>`, to completion.
    @discardableResult
    func crabcan(_ arguments: [String], cwd: String? = nil, timeout: Double = 20) -> Result {
        Command.run(Paths.binary, ["--root", root] + arguments, cwd: cwd, timeout: timeout)
    }

    /// `crabcan --root <root> <arguments>`, left running.
    func start(_ arguments: [String]) throws -> Command {
        try Command(Paths.binary, ["--root", root] + arguments)
    }

    /// `state ID` parsed, nil when it fails.
    func state(_ id: String) -> [String: Any]? {
        let result = crabcan(["state", id])
        guard result.status == 0, let data = result.stdout.data(using: .utf8) else { return nil }
        return try? JSONSerialization.jsonObject(with: data) as? [String: Any]
    }

    func status(_ id: String) -> String? { state(id)?["status"] as? String }
    func pid(_ id: String) -> pid_t? { (state(id)?["pid"] as? Int).map { pid_t($0) } }

    func waitForStatus(_ id: String, _ status: String, timeout: Double = 5) -> Bool {
        eventually(timeout: timeout) { self.status(id) == status }
    }

    func stateDirExists(_ id: String) -> Bool { FileManager.default.fileExists(atPath: root + "/" + id) }
    func rootEntries() -> [String] { RuntimeRoot.containerEntries(root) }

    func cleanup() {
        for id in ids where stateDirExists(id) { crabcan(["delete", "--force", id]) }
        try? FileManager.default.removeItem(atPath: dir)
    }
}

struct SetupError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
