import Foundation
import Testing

/// list, spec, and kill's signal names.
extension CrabcanCLI {
    @Test func listShowsContainers() throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        let bundle = try box.bundle(["sleep", "100"])
        let created = box.id("list-a")
        let running = box.id("list-b")
        try #require(box.crabcan(["create", "--bundle", bundle, created]).status == 0)
        try #require(box.crabcan(["run", "--detach", "--bundle", bundle, running]).status == 0)

        let table = box.crabcan(["list"])
        #expect(table.status == 0, "\(table)")
        #expect(table.stdoutLines.first?.hasPrefix("ID") == true, "\(table)")
        let rows = table.stdoutLines.dropFirst().map { $0.split(separator: " ").map(String.init) }
        #expect(rows.contains { $0.first == created && $0.contains("created") }, "\(table)")
        #expect(rows.contains { $0.first == running && $0.contains("running") }, "\(table)")

        let quiet = box.crabcan(["list", "-q"])
        #expect(Set(quiet.stdoutLines) == [created, running], "\(quiet)")

        let json = box.crabcan(["list", "--format", "json"])
        #expect(json.status == 0, "\(json)")
        let array = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]],
                                 "\(json)")
        var statuses: [String: String] = [:]
        for item in array {
            let id = try #require(item["id"] as? String, "\(item)")
            statuses[id] = try #require(item["status"] as? String, "\(item)")
        }
        #expect(statuses == [created: "created", running: "running"], "\(json)")

        let bad = box.crabcan(["list", "--format", "yaml"])
        #expect(bad.status == 1, "\(bad)")
    }

    @Test func emptyListIsEmptyJSONArray() throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        let json = box.crabcan(["list", "--format", "json"])
        #expect(json.status == 0, "\(json)")
        let array = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [Any]
        #expect(array?.isEmpty == true, "\(json)")
    }

    @Test func specWritesValidConfigThatRuns() throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        let dir = box.dir + "/spec"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let spec = box.crabcan(["spec"], cwd: dir)
        #expect(spec.status == 0, "\(spec)")
        let path = dir + "/config.json"
        let check = Command.run("/usr/bin/python3", [Paths.validator, "config", path])
        #expect(check.status == 0, "default spec fails the schema: \(check)")

        let second = box.crabcan(["spec"], cwd: dir)
        #expect(second.status == 1, "\(second)")
        #expect(second.stderr.contains("exists"), "\(second)")
        let third = box.crabcan(["spec", "--bundle", dir])
        #expect(third.status == 1, "\(third)")

        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        var config = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        var root = try #require(config["root"] as? [String: Any])
        root["path"] = box.rootfs
        config["root"] = root
        var process = try #require(config["process"] as? [String: Any])
        process["args"] = ["true"]
        process["terminal"] = false
        config["process"] = process
        try JSONSerialization.data(withJSONObject: config).write(to: URL(fileURLWithPath: path))
        let id = box.id("spec")
        let run = box.crabcan(["run", "--bundle", dir, id])
        #expect(run.status == 0, "\(run)")
        #expect(!box.stateDirExists(id))
    }

    /// Each TERM spelling reaches the init's trap (one at a time: pending signals coalesce); KILL stops it.
    @Test func killAcceptsSignalNames() throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        let id = box.id("signals")
        let bundle = try box.bundle(["sh", "-c", "trap 'echo got-term' TERM; echo ready; while :; do sleep 0.05; done"])
        let create = try box.start(["create", "--bundle", bundle, id])
        let created = create.wait()
        try #require(created.status == 0, "\(created)")
        // The init inherited create's stdout: its file keeps receiving the container's output.
        func terms() -> Int { create.stdoutSoFar.components(separatedBy: "\n").filter { $0 == "got-term" }.count }
        try #require(box.crabcan(["start", id]).status == 0)
        try #require(eventually { create.stdoutSoFar.contains("ready") }, "the trap was never installed")

        for (index, name) in ["TERM", "SIGTERM", "15", "term"].enumerated() {
            let kill = box.crabcan(["kill", id, name])
            #expect(kill.status == 0, "kill \(name): \(kill)")
            try #require(eventually(timeout: 5) { terms() == index + 1 }, "kill \(name) did not deliver TERM (\(terms()))")
        }
        #expect(box.status(id) == "running")

        let bad = box.crabcan(["kill", id, "FOO"])
        #expect(bad.status == 1, "\(bad)")
        #expect(bad.stderr.contains("FOO"), "\(bad)")
        for name in ["65", "RTMAX-99", "SIGFOO"] {
            #expect(box.crabcan(["kill", id, name]).status == 1, "kill \(name) must be refused")
        }
        #expect(box.status(id) == "running", "a refused kill must not signal")

        let kill = box.crabcan(["kill", id, "KILL"])
        #expect(kill.status == 0, "\(kill)")
        #expect(box.waitForStatus(id, "stopped"))
    }

    /// Start-up opens, stats and reads no link of any file. The Swift runtime's own argv lookup (CommandLine.cpp)
    /// opened and sscanf-parsed /proc/self/maps in every crabcan process, and its crash backtracer's constructor
    /// (Backtrace.cpp) stat'ed eight paths beside the binary for a `swift-backtrace` helper; shim.c defines the
    /// symbols that linked both, so neither is in the binary (docs/performance.md, sessions 18 and 19). glibc's
    /// static start-up read the link /proc/self/exe for $ORIGIN (static_startup.c, session 25). Under a filter
    /// that kills the process at its first open, stat or readlink of a path, the commands that need no file still
    /// answer.
    @Test(.enabled(if: SeccompFixtures.haveGCC, "needs gcc"))
    func startUpOpensNoFileAndStatsNoPath() throws {
        let dir = NSTemporaryDirectory() + "crabcan-it-noopen-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let wrapper = dir + "/deny-syscalls"
        try SeccompFixtures.compile("deny-syscalls", to: wrapper, isStatic: false, libraries: ["-lseccomp"])
        let version = Command.run(wrapper, ["--kill", Self.startUpFileCalls, Paths.binary, "--version"])
        #expect(version.status == 0 && version.stdout.hasPrefix("crabcan version "), "\(version)")
        let help = Command.run(wrapper, ["--kill", Self.startUpFileCalls, Paths.binary, "help", "run"])
        #expect(help.status == 0 && help.stdout.contains("--bundle"), "\(help)")
    }

    /// The calls on a path that a start-up must not make.
    static let startUpFileCalls = "open,openat,stat,lstat,newfstatat,statx,readlink,readlinkat"
}
