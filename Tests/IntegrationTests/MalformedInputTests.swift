import Foundation
import Testing

/// Issue 8: what `make fuzz` found, and input built to break error lines, through the CLI: one clear error line,
/// a failing exit status, and the container (when there is one) as it was.
extension CrabcanCLI {
    static let fuzzRegressions: [String] = {
        let dir = Paths.repo + "/Tests/FuzzCorpus/resources"
        return ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).sorted().map { dir + "/" + $0 }
    }()

    @Test func fuzzRegressionsAreOneErrorLineThroughUpdate() throws {
        #expect(!Self.fuzzRegressions.isEmpty)
        let box = try Sandbox()
        defer { box.cleanup() }
        let id = box.id("malformed")
        let bundle = try box.bundle(["sleep", "30"])
        #expect(box.crabcan(["create", "--bundle", bundle, id]).status == 0)
        for file in Self.fuzzRegressions {
            let result = box.crabcan(["update", "-r", file, id])
            #expect(isOneLineError(result), "\(file): \(result)")
        }
        #expect(box.status(id) == "created")
    }

    /// Control characters in config values and in a process.json end up quoted, never as a second line.
    @Test func controlCharactersInInputStayOnOneErrorLine() throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        let id = box.id("ctl")
        let bad = try box.bundle(["true"], name: "bad") { config in
            var linux = config["linux"] as! [String: Any]
            linux["rootfsPropagation"] = "rshared\nrslave"
            config["linux"] = linux
        }
        let create = box.crabcan(["create", "--bundle", bad, id])
        #expect(isOneLineError(create) && create.stderr.contains(#""rshared\nrslave""#), "\(create)")
        #expect(box.rootEntries().isEmpty)

        let bundle = try box.bundle(["sleep", "30"])
        #expect(box.crabcan(["create", "--bundle", bundle, id]).status == 0)
        let process = box.dir + "/process.json"
        try #"{"user": {"uid": 0, "gid": 0}, "args": ["sh"], "cwd": "rel\native", "env": ["A\r=1"]}"#
            .write(toFile: process, atomically: true, encoding: .utf8)
        let exec = box.crabcan(["exec", "--process", process, id])
        #expect(exec.status != 0 && !exec.signaled && exec.stderrLines.count == 1, "\(exec)")
        let kill = box.crabcan(["kill", id, "SIG\nKILL"])
        #expect(isOneLineError(kill), "\(kill)")
        #expect(box.status(id) == "created")
    }
}
