import Foundation
import Testing

/// Issue 6: `--log FILE --log-format json` writes one JSON object a line with level, msg and time (what
/// containerd's shim decodes for the error it reports); errors also go to stderr; warnings only to the file.
extension CrabcanCLI {
    static func logLines(_ path: String) throws -> [[String: Any]] {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text.hasSuffix("\n"), "every entry ends its line: \(text)")
        return try text.split(separator: "\n").map { line in
            try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "not a JSON object: \(line)")
        }
    }

    /// RFC 3339 in whole seconds, UTC: logrus's time format (time.RFC3339), as runc writes it.
    static func isRFC3339(_ text: String) -> Bool {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        guard let date = formatter.date(from: text) else { return false }
        return abs(date.timeIntervalSinceNow) < 60
    }

    @Test func jsonLogHoldsTheErrorAlsoPrintedOnStderr() throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        let log = box.dir + "/log.json"
        let result = box.crabcan(["--log", log, "--log-format", "json", "state", "no-such-container"])
        #expect(result.status == 1)
        #expect(result.stderr == "crabcan: container \"no-such-container\" does not exist\n", "\(result)")
        let lines = try Self.logLines(log)
        try #require(lines.count == 1, "\(lines)")
        #expect(Set(lines[0].keys) == ["level", "msg", "time"])
        #expect(lines[0]["level"] as? String == "error")
        #expect(lines[0]["msg"] as? String == "container \"no-such-container\" does not exist")
        #expect(Self.isRFC3339(lines[0]["time"] as? String ?? ""), "\(lines[0])")
    }

    /// A command or flag crabcan does not know is an error the shim must see too (containerd calls runtimes
    /// with commands a runtime may lack).
    @Test func jsonLogHoldsUsageErrors() throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        let log = box.dir + "/log.json"
        #expect(box.crabcan(["--log", log, "--log-format", "json", "no-such-command"]).status == 1)
        #expect(box.crabcan(["--log", log, "--log-format", "json", "state", "--no-such-flag", "x"]).status == 1)
        let lines = try Self.logLines(log)
        #expect(lines.map { $0["level"] as? String } == ["error", "error"], "\(lines)")
        #expect((lines.first?["msg"] as? String)?.contains("no-such-command") == true, "\(lines)")
        #expect((lines.last?["msg"] as? String)?.contains("no-such-flag") == true, "\(lines)")
    }

    /// Messages with quotes, backslashes, newlines and control characters stay one valid JSON line each.
    @Test func jsonLogEscapesMessages() throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        let log = box.dir + "/log.json"
        let id = "odd\"id\\with\nnewline\u{1}"
        #expect(box.crabcan(["--log", log, "--log-format", "json", "state", id]).status == 1)
        let lines = try Self.logLines(log)
        try #require(lines.count == 1, "\(lines)")
        #expect((lines[0]["msg"] as? String)?.contains(id) == true, "\(lines)")
    }

    /// Warnings go to the log file only: callers parse the combined output of state/ps (go-runc), and a
    /// successful create with a warning (an unknown syscall skipped) must print nothing on stderr.
    @Test func warningsGoToTheLogFileNotStderr() throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        let log = box.dir + "/log.json"
        let id = box.id("logwarn")
        let bundle = try box.bundle(["true"]) { config in
            var linux = config["linux"] as! [String: Any]
            linux["seccomp"] = ["defaultAction": "SCMP_ACT_ALLOW",
                                "syscalls": [["names": ["no_such_syscall_at_all"], "action": "SCMP_ACT_ERRNO"]]]
            config["linux"] = linux
        }
        let create = box.crabcan(["--log", log, "--log-format", "json", "create", "--bundle", bundle, id])
        #expect(create.status == 0 && create.stderr.isEmpty, "\(create)")
        let lines = try Self.logLines(log)
        #expect(lines.contains { $0["level"] as? String == "warning" && ($0["msg"] as? String)?.contains("no_such_syscall_at_all") == true }, "\(lines)")
        // Without --log stderr stays empty too (conmon gives the runtime the container's stderr); --debug shows it
        // there, in runc's text log format.
        let plain = box.crabcan(["create", "--bundle", bundle, box.id("logwarn2")])
        #expect(plain.status == 0 && plain.stderr.isEmpty, "\(plain)")
        let debug = box.crabcan(["--debug", "create", "--bundle", bundle, box.id("logwarn3")])
        #expect(debug.status == 0, "\(debug)")
        #expect(debug.stderrLines.contains { $0.hasPrefix("time=\"") && $0.contains(" level=warning msg=\"")
            && $0.contains("no_such_syscall_at_all") }, "\(debug)")
    }

    /// Issue 15 (sync protocol): the init cannot print a warning (its stderr is the container's); it sends one to
    /// the parent, which logs it. With keyctl refused (Docker's default profile does; so does a kernel without
    /// keyrings) the init goes on without a session keyring, as runc, and the log says so.
    @Test(.enabled(if: SeccompFixtures.haveGCC && getuid() == 0, "needs gcc and root"))
    func childWarningsReachTheLog() throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        let wrapper = box.dir + "/deny-syscalls"
        try SeccompFixtures.compile("deny-syscalls", to: wrapper, isStatic: false, libraries: ["-lseccomp"])
        let log = box.dir + "/log.json"
        let id = box.id("keyless")
        let bundle = try box.bundle(["sh", "-c", "echo ran"])
        let run = Command.run(wrapper, ["keyctl", Paths.binary, "--root", box.root, "--log", log, "--log-format", "json", "run", "--bundle", bundle, id],
                              timeout: 30)
        #expect(run.status == 0 && run.stdout == "ran\n" && run.stderr.isEmpty, "\(run)")
        let lines = try Self.logLines(log)
        #expect(lines.contains { $0["level"] as? String == "warning" && ($0["msg"] as? String)?.contains("no session keyring _ses.\(id)") == true
            && ($0["msg"] as? String)?.contains("ENOSYS") == true }, "\(lines)")
    }

    /// A failed set-up names the init's stage in the debug log (the error line itself stays runc's form).
    @Test(.enabled(if: getuid() == 0, "needs root"))
    func childFailureNamesItsStage() throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        let log = box.dir + "/log.json"
        let id = box.id("stage")
        let bundle = try box.bundle(["true"]) { config in
            var mounts = config["mounts"] as! [[String: Any]]
            mounts.append(["destination": "/nofs", "type": "no-such-filesystem", "source": "none"])
            config["mounts"] = mounts
        }
        let create = box.crabcan(["--debug", "--log", log, "--log-format", "json", "create", "--bundle", bundle, id])
        #expect(create.status == 1 && create.stderrLines.count == 1 && create.stderr.contains("no-such-filesystem"), "\(create)")
        let lines = try Self.logLines(log)
        #expect(lines.contains { ($0["msg"] as? String)?.contains("the init failed at rootfs, errno 19") == true }, "\(lines)")
        #expect(!FileManager.default.fileExists(atPath: box.root + "/" + id))
    }

    /// Issue 14: `--debug` says where each command's time went, step by step, the init's own stages inside
    /// `init`; the steps add up to no more than the total.
    @Test(.enabled(if: getuid() == 0, "needs root"))
    func debugTracesEveryStep() throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        let id = box.id("trace")
        let bundle = try box.bundle(["sleep", "30"])
        func traced(_ arguments: [String], _ command: String) throws -> String {
            let log = box.dir + "/\(command).json"
            let result = box.crabcan(["--debug", "--log", log, "--log-format", "json"] + arguments)
            #expect(result.status == 0, "\(result)")
            let line = try Self.logLines(log).compactMap { $0["msg"] as? String }.first { $0.hasPrefix("\(command) \(id) took ") }
            return try #require(line, "no trace of \(command)")
        }
        let create = try traced(["create", "--bundle", bundle, id], "create")
        for step in ["check ", "cgroups ", "clone ", "init ", "(isolating ", "placement ", "rootfs ", "privileges ", "state ", "commit "] {
            #expect(create.contains(step), "\(step) missing: \(create)")
        }
        // "create ID took T ms: a x, b y (inner...), ..." — the outer steps sum to at most T (rounding: 0.01 each).
        let total = try #require(Double(create.split(separator: " ")[3]))
        let outer = create.split(separator: ":", maxSplits: 1)[1].replacing(/\([^)]*\)/, with: "")
        let sum = outer.split(separator: ",").compactMap { Double($0.split(separator: " ").last ?? "") }.reduce(0, +)
        #expect(sum <= total + 0.2, "\(sum) > \(total): \(create)")
        #expect(try traced(["start", id], "start").contains("release "))
        #expect(try traced(["exec", id, "true"], "exec").contains("(isolating "))
        #expect(try traced(["delete", "--force", id], "delete").contains("cgroups "))
    }

    @Test func debugLinesAreJSONToo() throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        let log = box.dir + "/log.json"
        let id = box.id("logdebug")
        let bundle = try box.bundle(["true"])
        let run = box.crabcan(["--debug", "--log", log, "--log-format", "json", "run", "--bundle", bundle, id])
        #expect(run.status == 0 && run.stderr.isEmpty, "\(run)")
        let lines = try Self.logLines(log)
        #expect(!lines.isEmpty && lines.allSatisfy { $0["level"] as? String == "debug" && Self.isRFC3339($0["time"] as? String ?? "") }, "\(lines)")
    }

    @Test func textLogLinesLookLikeRuncs() throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        let log = box.dir + "/log.txt"
        #expect(box.crabcan(["--log", log, "state", "missing-one"]).status == 1)
        let text = try String(contentsOfFile: log, encoding: .utf8)
        #expect(text.hasPrefix("time=\"") && text.hasSuffix(" level=error msg=\"container \\\"missing-one\\\" does not exist\"\n"), "\(text)")
    }

    /// One logrus TextFormatter line (runc 1.1.5 not on a terminal): time, level, msg unless empty, then other
    /// fields (func and file under --debug, the data fields runc adds); a value is bare or Go-quoted.
    static let logrusText = try! NSRegularExpression(pattern:
        #"^time="\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ" level=(debug|info|warning|error)(?: msg=(?:"(?:[^"\\]|\\.)*"|[A-Za-z0-9._/@^+-]+))?((?: [a-z]+=(?:"(?:[^"\\]|\\.)*"|[A-Za-z0-9._/@^+-]*))*)$"#)

    static func textLogLevel(_ line: String) -> (level: String, extra: String)? {
        let range = NSRange(line.startIndex..., in: line)
        guard let match = logrusText.firstMatch(in: line, range: range),
              let level = Range(match.range(at: 1), in: line), let extra = Range(match.range(at: 2), in: line) else { return nil }
        return (String(line[level]), String(line[extra]))
    }

    /// One logrus JSONFormatter line: keys sorted as Go's encoding/json writes a map, time in whole seconds.
    static func jsonLogKeysSorted(_ line: String) throws -> [String: Any]? {
        let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
        let keys = try NSRegularExpression(pattern: #"(?:^\{|,)"([a-z]+)":"#)
            .matches(in: line, range: NSRange(line.startIndex..., in: line))
            .compactMap { Range($0.range(at: 1), in: line).map { String(line[$0]) } }
        guard let object, keys == keys.sorted(), Set(keys) == Set(object.keys),
              ["level", "msg", "time"].allSatisfy(object.keys.contains), isRFC3339(object["time"] as? String ?? "") else { return nil }
        return object
    }

    /// `--debug` on stderr (no --log): every line is a logrus text line, runc's layout, with func and file; the
    /// same with --log-format json; runc 1.1.5's own lines, where it is installed, parse with the same patterns.
    @Test func debugLinesParseAsRuncsInBothFormats() throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        // An absolute cgroup of the test's own: runc would put a config without one under the caller's cgroup.
        let bundle = try box.bundle(["true"]) {
            var linux = $0["linux"] as! [String: Any]
            linux["cgroupsPath"] = "/crabcan-it-log-" + box.id("cg")
            $0["linux"] = linux
        }
        let text = box.crabcan(["--debug", "run", "--bundle", bundle, box.id("dbgtext")])
        #expect(text.status == 0, "\(text)")
        #expect(!text.stderrLines.isEmpty, "\(text)")
        for line in text.stderrLines {
            let parsed = Self.textLogLevel(line)
            #expect(parsed?.level == "debug" && parsed?.extra.hasPrefix(" func=\"") == true && parsed?.extra.contains(" file=\"") == true,
                    "not runc's --debug text line: \(line)")
        }
        let json = box.crabcan(["--debug", "--log-format", "json", "run", "--bundle", bundle, box.id("dbgjson")])
        #expect(json.status == 0 && !json.stderrLines.isEmpty, "\(json)")
        for line in json.stderrLines {
            let object = try Self.jsonLogKeysSorted(line)
            #expect(object?["level"] as? String == "debug" && object?["func"] != nil && object?["file"] != nil,
                    "not runc's --debug JSON line: \(line)")
        }
        // An error under --debug: the same line layout as runc's, level=error.
        let missing = box.crabcan(["--debug", "state", "no-such-container"])
        #expect(missing.status == 1 && missing.stderrLines.count == 1 && Self.textLogLevel(missing.stderrLines[0])?.level == "error",
                "\(missing)")

        guard let runc = Tools.find("runc") else { return }
        let runcRoot = box.dir + "/runc-root"
        let runcText = Command.run(runc, ["--root", runcRoot, "--debug", "run", "--bundle", bundle, box.id("runc-dbgtext")], timeout: 30)
        #expect(runcText.status == 0 && !runcText.stderrLines.isEmpty, "\(runcText)")
        for line in runcText.stderrLines { #expect(Self.textLogLevel(line) != nil, "runc's own line does not parse: \(line)") }
        let runcJSON = Command.run(runc, ["--root", runcRoot, "--debug", "--log-format", "json", "run", "--bundle", bundle,
                                          box.id("runc-dbgjson")], timeout: 30)
        #expect(runcJSON.status == 0 && !runcJSON.stderrLines.isEmpty, "\(runcJSON)")
        for line in runcJSON.stderrLines { #expect(try Self.jsonLogKeysSorted(line) != nil, "runc's own line does not parse: \(line)") }
        let runcMissing = Command.run(runc, ["--root", runcRoot, "--debug", "state", "no-such-container"])
        #expect(runcMissing.stderrLines.count == 1 && Self.textLogLevel(runcMissing.stderrLines[0])?.level == "error", "\(runcMissing)")
    }

    /// `--log FILE` in both formats without --debug: no func/file, as runc; an unknown format is runc's error.
    @Test func logFileLinesHaveNoCallerWithoutDebug() throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        let text = box.dir + "/log.txt", json = box.dir + "/log.json"
        #expect(box.crabcan(["--log", text, "state", "gone"]).status == 1)
        #expect(box.crabcan(["--log", json, "--log-format", "json", "state", "gone"]).status == 1)
        let textLine = try String(contentsOfFile: text, encoding: .utf8).split(separator: "\n").map(String.init)
        #expect(textLine.count == 1 && Self.textLogLevel(textLine[0])?.level == "error" && Self.textLogLevel(textLine[0])?.extra == "",
                "\(textLine)")
        let jsonLine = try String(contentsOfFile: json, encoding: .utf8).split(separator: "\n").map(String.init)
        #expect(jsonLine.count == 1, "\(jsonLine)")
        #expect(try jsonLine.first.flatMap { try Self.jsonLogKeysSorted($0) }.map { Set($0.keys) } == ["level", "msg", "time"], "\(jsonLine)")
        let bad = box.crabcan(["--log-format", "xml", "list"])
        #expect(bad.status == 1 && bad.stderr.contains("invalid log-format: xml"), "\(bad)")
    }
}

