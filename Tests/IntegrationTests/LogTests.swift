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

    /// RFC 3339 with fractional seconds in UTC, as Go's time.Time decodes it.
    static func isRFC3339(_ text: String) -> Bool {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
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
}
