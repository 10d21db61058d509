import Foundation
import Testing

/// `crabcan check` on the broken bundles of bundles/check (one fault each, `many` with many): exactly the
/// expected lines; and `create` refusing each with the first of them, same JSON path and line:column.
extension CrabcanCLI {
    static let checkBundles: [String] = {
        let dir = Paths.repo + "/bundles/check"
        return ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).sorted()
    }()

    static func checkBundle(_ name: String) -> String {
        _ = Paths.sharedRootfs  // their root.path is ../../busybox/rootfs
        return Paths.repo + "/bundles/check/" + name
    }

    static func expectedLines(_ name: String) throws -> [String] {
        try String(contentsOfFile: checkBundle(name) + "/expected.txt", encoding: .utf8)
            .split(separator: "\n").map(String.init)
    }

    @Test func checkBundlesCoverTheIssue() {
        for name in ["schema-type", "schema-required", "schema-enum", "unknown-capability", "unknown-syscall",
                     "duplicate-namespace", "idmap-overlap", "idmap-range", "mount-escape", "missing-program",
                     "program-not-in-path", "cgroups-path", "sysctl-namespace", "rlimit-order", "userns-no-mappings",
                     "terminal", "many"] {
            #expect(Self.checkBundles.contains(name), "bundles/check/\(name) is missing")
        }
    }

    @Test(arguments: CrabcanCLI.checkBundles)
    func checkPrintsExactlyTheExpectedLines(_ name: String) throws {
        let dir = Self.checkBundle(name)
        let expected = try Self.expectedLines(name)
        let result = Command.run(Paths.binary, ["check"], cwd: dir)
        #expect(result.stdoutLines == expected, "\(result)")
        #expect(result.stderr.isEmpty, "\(result)")
        let errors = expected.contains { $0.contains(": error: ") }
        #expect(result.status == (errors ? 1 : 0), "\(result)")

        // From elsewhere, the file is named as given; the rest is the same.
        let relative = "bundles/check/\(name)"
        let other = Command.run(Paths.binary, ["check", "--bundle", relative], cwd: Paths.repo)
        #expect(other.stdoutLines == expected.map { relative + "/" + $0 }, "\(other)")
    }

    @Test(arguments: CrabcanCLI.checkBundles)
    func jsonFormatSaysTheSame(_ name: String) throws {
        let expected = try Self.expectedLines(name)
        let result = Command.run(Paths.binary, ["check", "--format", "json"], cwd: Self.checkBundle(name))
        let report = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any], "\(result)")
        let problems = try #require(report["problems"] as? [[String: Any]])
        let lines = problems.map { p -> String in
            let at = (p["line"] as? Int).map { ":\($0):\(p["column"] as! Int)" } ?? ""
            let path = (p["path"] as? String ?? "").isEmpty ? "" : "\(p["path"]!): "
            return "config.json\(at): \(p["severity"]!): \(path)\(p["message"]!)"
        }
        #expect(lines == Array(expected.dropLast()), "\(result)")
        let errors = problems.filter { $0["severity"] as? String == "error" }.count
        #expect(report["errors"] as? Int == errors)
        #expect(report["warnings"] as? Int == problems.count - errors)
        #expect(report["valid"] as? Bool == (errors == 0))
        #expect(problems.allSatisfy { ["schema", "semantic"].contains($0["kind"] as? String ?? "") })
        #expect(result.status == (errors == 0 ? 0 : 1))
    }

    /// create runs the same checks: it refuses with check's first error (same path, same line:column), names
    /// how many more there are, and leaves nothing; a bundle with warnings only runs, its stderr empty and the
    /// warnings in the --log file (but check's notes on what changes nothing at run time: ambient capabilities).
    @Test(arguments: CrabcanCLI.checkBundles)
    func createSaysWhatCheckSays(_ name: String) throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        let dir = Self.checkBundle(name)
        let expected = try Self.expectedLines(name).dropLast()
        func located(_ line: String, _ severity: String) -> String {
            dir + "/" + line.replacingOccurrences(of: ": \(severity): ", with: ": ")
        }
        let errors = expected.filter { $0.contains(": error: ") }
        let id = box.id("check-\(name)")
        if let first = errors.first {
            let create = box.crabcan(["create", "--bundle", dir, id])
            #expect(create.status == 1, "\(create)")
            #expect(create.stderrLines.count == 1, "\(create)")
            #expect(create.stderr.hasPrefix("crabcan: " + located(first, "error")), "want \(located(first, "error")): \(create)")
            if errors.count > 1 { #expect(create.stderr.contains("(and \(errors.count - 1) more: crabcan check"), "\(create)") }
            #expect(box.rootEntries().isEmpty, "left in --root: \(box.rootEntries())")
        } else {
            let log = box.dir + "/run.log"
            let run = box.crabcan(["--log", log, "--log-format", "json", "run", "--bundle", dir, id])
            #expect(run.status == 0, "\(run)")
            // A terminal's output comes through the pty `run` relays, with its "\r\n".
            #expect(run.stdout.replacingOccurrences(of: "\r\n", with: "\n") == "ok\n", "\(run)")
            #expect(run.stderr.isEmpty, "\(run)")
            // The console-socket warning is check's alone: `run` in the foreground relays the terminal itself.
            let runWarnings = expected.filter { !$0.contains("--console-socket") && !$0.contains(".ambient[") }
            let empty = ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").isEmpty
            let logged = empty ? [] : try Self.logLines(log)
            #expect(logged.map { $0["level"] as? String } == runWarnings.map { _ in "warning" }, "\(logged)")
            #expect(logged.map { $0["msg"] as? String ?? "" } == runWarnings.map { located($0, "warning") }, "\(logged)")
        }
    }

    /// What spec-schema/config.schema.json refuses in these bundles, check reports in the same words (check
    /// finds more: what a schema cannot see, such as duplicates, the rootfs and the host).
    static var haveSchemaValidator: Bool {
        Command.run("/usr/bin/python3", ["-c", "import jsonschema"]).status == 0
    }

    @Test(.enabled(if: CrabcanCLI.haveSchemaValidator))
    func everySchemaProblemIsReportedByCheck() throws {
        var schemaFound = 0
        for name in Self.checkBundles {
            let file = Self.checkBundle(name) + "/config.json"
            let schema = Command.run("/usr/bin/python3", [Paths.validator, "config", file])
            let check = Command.run(Paths.binary, ["check"], cwd: Self.checkBundle(name))
            let checkLines = Set(check.stdoutLines.compactMap { line -> String? in
                guard let range = line.range(of: ": error: ") else { return nil }
                return String(line[range.upperBound...])
            })
            for line in schema.stdoutLines {
                let problem = String(line.dropFirst(file.count + 2))
                #expect(checkLines.contains(problem), "\(name): the schema says \(problem); check said \(check.stdout)")
                schemaFound += 1
            }
        }
        #expect(schemaFound >= 9, "the schema bundles should give the validator something to find")
    }

    @Test func checkOfAGoodBundleAndOfNoBundle() throws {
        let good = Command.run(Paths.binary, ["check", "--bundle", "bundles/busybox"], cwd: Paths.repo)
        #expect(good.status == 0 && good.stdout == "bundles/busybox/config.json: ok\n", "\(good)")
        let box = try Sandbox()
        defer { box.cleanup() }
        let missing = Command.run(Paths.binary, ["check"], cwd: box.dir)
        #expect(missing.status == 1, "\(missing)")
        #expect(missing.stdoutLines.first?.hasPrefix("config.json: error: cannot read: ") == true, "\(missing)")
        try "{\"ociVersion\": \"1.2.0\",\n  \"root\": }".write(toFile: box.dir + "/config.json", atomically: true, encoding: .utf8)
        let syntax = Command.run(Paths.binary, ["check"], cwd: box.dir)
        #expect(syntax.status == 1, "\(syntax)")
        #expect(syntax.stdoutLines.first?.hasPrefix("config.json:2:") == true && syntax.stdout.contains("error: invalid JSON"), "\(syntax)")
        let format = Command.run(Paths.binary, ["check", "--format", "yaml"], cwd: Paths.busyboxBundle)
        #expect(format.status == 1 && format.stderrLines.count == 1 && format.stdout.isEmpty, "\(format)")
    }

    /// A program under a tmpfs mount cannot be looked for before clone (the tmpfs is empty until then), so this
    /// still fails inside the init, after the mounts: one line, nothing left (the path `/nonexistent` used to take).
    @Test func programThatCheckCannotSeeFailsInTheInitAndLeavesNothing() throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        let mountsBefore = Host.mountinfo()
        let bundle = try box.bundle(["/dev/shm/no-such-program"])
        #expect(box.crabcan(["check"], cwd: bundle).stdout == "config.json: ok\n")
        let id = box.id("in-init")
        let result = box.crabcan(["create", "--bundle", bundle, id])
        #expect(result.status == 1, "\(result)")
        #expect(result.stderrLines.count == 1 && result.stderr.contains("/dev/shm/no-such-program"), "\(result)")
        #expect(!result.stderr.contains("config.json"), "refused by the init, not by the checks: \(result)")
        #expect(box.rootEntries().isEmpty, "left in --root: \(box.rootEntries())")
        #expect(eventually(timeout: 5) { Host.processes(usingRootfs: box.rootfs, orMentioning: id).isEmpty })
        #expect(Host.mountinfo() == mountsBefore, "the host mount table changed")
    }
}
