import Foundation
import Testing

/// The config `runc spec` writes (runc 1.1.5, captured once into Tests/Golden/runc-spec.json; runc is Apache-2.0)
/// run the way runc's users run it: what crabcan prints must be exactly what the container printed.
extension CrabcanCLI {
    static let runcSpecGolden = Paths.repo + "/Tests/Golden/runc-spec.json"

    /// A bundle holding runc's config with this sandbox's rootfs, `args`, and no terminal (a test has none).
    static func runcSpecBundle(_ box: Sandbox, _ args: [String], name: String = "runc-spec",
                               edit: (inout [String: Any]) -> Void = { _ in }) throws -> String {
        let bundle = box.dir + "/" + name
        try FileManager.default.createDirectory(atPath: bundle, withIntermediateDirectories: true)
        let data = try Data(contentsOf: URL(fileURLWithPath: runcSpecGolden))
        var config = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        var process = try #require(config["process"] as? [String: Any])
        process["terminal"] = false
        process["args"] = args
        config["process"] = process
        config["root"] = ["path": box.rootfs, "readonly": true]
        edit(&config)
        try JSONSerialization.data(withJSONObject: config, options: [.prettyPrinted, .sortedKeys])
            .write(to: URL(fileURLWithPath: bundle + "/config.json"))
        return bundle
    }

    /// Every `runc spec` config lists three ambient capabilities that are not inheritable (so the kernel makes
    /// them no-ops): runc says nothing, and crabcan's stdout and stderr hold the container's output alone, for
    /// `run` and for `exec`; with --debug the note is still not shown (check shows it).
    @Test func aRuncSpecConfigRunsWithNothingButTheContainersOutput() throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        let bundle = try Self.runcSpecBundle(box, ["sh", "-c", "echo out; echo err >&2; exit 3"])
        let run = box.crabcan(["run", "--bundle", bundle, box.id("runc-spec-run")])
        #expect(run.status == 3 && run.stdout == "out\n" && run.stderr == "err\n", "\(run)")

        let sleeper = try Self.runcSpecBundle(box, ["sleep", "100"], name: "sleeper")
        let id = box.id("runc-spec-exec")
        let detached = box.crabcan(["run", "--detach", "--bundle", sleeper, id])
        #expect(detached.status == 0 && detached.stdout.isEmpty && detached.stderr.isEmpty, "\(detached)")
        let exec = box.crabcan(["exec", id, "sh", "-c", "echo exec-out; echo exec-err >&2"])
        #expect(exec.status == 0 && exec.stdout == "exec-out\n" && exec.stderr == "exec-err\n", "\(exec)")
        let debug = box.crabcan(["--debug", "exec", id, "true"])
        #expect(debug.status == 0 && !debug.stderr.contains("ambient"), "\(debug)")
        let check = box.crabcan(["check", "--bundle", sleeper])
        #expect(check.stdoutLines.filter { $0.contains("ambient capability") }.count == 3, "\(check)")
        #expect(box.crabcan(["delete", "--force", id]).status == 0)
    }

    /// `crabcan spec` without flags writes what scripts written for runc expect of `runc spec`: a terminal for the
    /// interactive `sh` and runc's namespaces (no cgroup namespace a caller appending its own would duplicate);
    /// `$RUNTIME spec && $RUNTIME create --console-socket S ID` (runc's own integration tests) works.
    @Test func specWithoutFlagsHasRuncsDefaultsScriptsDependOn() throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        let dir = box.dir + "/spec"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let spec = box.crabcan(["spec"], cwd: dir)
        #expect(spec.status == 0 && spec.stdout.isEmpty && spec.stderr.isEmpty, "\(spec)")
        var config = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/config.json"))) as? [String: Any])
        let runc = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: Self.runcSpecGolden))) as? [String: Any])
        func field(_ config: [String: Any], _ section: String, _ key: String) -> Any? { (config[section] as? [String: Any])?[key] }
        #expect(field(config, "process", "terminal") as? Bool == true)
        #expect(field(config, "process", "args") as? [String] == ["sh"])
        #expect(field(config, "process", "args") as? [String] == field(runc, "process", "args") as? [String])
        let types = { (config: [String: Any]) in (field(config, "linux", "namespaces") as? [[String: Any]])?.compactMap { $0["type"] as? String } }
        #expect(types(config) == types(runc), "\(String(describing: types(config)))")
        // crabcan's safety additions stay: its seccomp profile and no-new-privileges.
        #expect(field(config, "linux", "seccomp") != nil && field(config, "process", "noNewPrivileges") as? Bool == true)

        // runc's pattern: the config as written (terminal, sh) with a console socket; the shell gets typed input.
        config["root"] = ["path": box.rootfs, "readonly": true]
        try JSONSerialization.data(withJSONObject: config).write(to: URL(fileURLWithPath: dir + "/config.json"))
        let receiver = try startConsoleReceiver(box, typing: "echo from-''sh; echo E''ND; exit 5\n")
        defer { if receiver.process.isRunning { receiver.process.signal(SIGKILL) } }
        let id = box.id("runc-pattern")
        let create = box.crabcan(["create", "--console-socket", receiver.socket, id], cwd: dir)
        #expect(create.status == 0 && create.stdout.isEmpty && create.stderr.isEmpty, "\(create)")
        #expect(box.crabcan(["start", id]).status == 0)
        _ = receiver.process.wait(timeout: 20)
        #expect((try Self.readReport(receiver.report)["output"] as? String)?.contains("from-sh") == true)
        #expect(box.waitForStatus(id, "stopped"))
        #expect(box.crabcan(["delete", id]).status == 0)

        // A caller appending its own cgroup namespace (as scripts for runc 1.1 do) gets no duplicate.
        var process = config["process"] as! [String: Any]
        process["terminal"] = false
        process["args"] = ["readlink", "/proc/self/ns/cgroup"]
        config["process"] = process
        var linux = config["linux"] as! [String: Any]
        linux["namespaces"] = (linux["namespaces"] as! [[String: Any]]) + [["type": "cgroup"]]
        config["linux"] = linux
        try JSONSerialization.data(withJSONObject: config).write(to: URL(fileURLWithPath: dir + "/config.json"))
        let run = box.crabcan(["run", "--bundle", dir, box.id("own-cgroupns")])
        #expect(run.status == 0 && run.stderr.isEmpty, "\(run)")
        // The container got the cgroup namespace it asked for (a new one, not the runtime's).
        let hostNS = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/ns/cgroup")) ?? "?"
        #expect(run.stdoutLines.count == 1 && run.stdoutLines.first?.hasPrefix("cgroup:[") == true && run.stdoutLines.first != hostNS, "\(run)")
    }
}
