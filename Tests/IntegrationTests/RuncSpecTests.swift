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
}
