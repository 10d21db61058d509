import Foundation
import Testing

/// Issue 5: time namespaces with `linux.timeOffsets` (boottime shows in /proc/uptime, both offsets in
/// /proc/self/timens_offsets), joined by `exec` and by path. Skipped where the kernel has none.
extension CrabcanCLI {
    static let haveTimeNamespaces = FileManager.default.fileExists(atPath: "/proc/self/ns/time")
    static let yearSeconds = 365 * 86400

    static func withTimeNamespace(_ config: inout [String: Any], boottime: Int = yearSeconds, monotonic: Int = 3600) {
        var linux = config["linux"] as! [String: Any]
        linux["namespaces"] = (linux["namespaces"] as! [[String: Any]]) + [["type": "time"]]
        linux["timeOffsets"] = ["boottime": ["secs": boottime, "nanosecs": 0], "monotonic": ["secs": monotonic]]
        config["linux"] = linux
    }

    static func hostUptime() throws -> Double {
        let text = try String(contentsOfFile: "/proc/uptime", encoding: .utf8)
        return Double(text.split(separator: " ")[0])!
    }

    /// The first number of a /proc/uptime line.
    static func uptime(_ line: String?) -> Double? { line.flatMap { $0.split(separator: " ").first }.flatMap { Double($0) } }

    @Test(.enabled(if: CrabcanCLI.haveTimeNamespaces))
    func timeNamespaceShowsItsOffsets() throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        let bundle = try box.bundle(["sh", "-c", "cat /proc/uptime; cat /proc/self/timens_offsets"]) { Self.withTimeNamespace(&$0) }
        let before = try Self.hostUptime()
        let result = box.crabcan(["run", "--bundle", bundle, box.id("timens")])
        let after = try Self.hostUptime()
        #expect(result.status == 0, "\(result)")
        let seen = try #require(Self.uptime(result.stdoutLines.first), "\(result)")
        let offset = Double(Self.yearSeconds)
        #expect(seen >= before + offset && seen <= after + offset + 1, "host \(before)...\(after), container \(seen)")
        let offsets = result.stdoutLines.dropFirst().map { $0.split(separator: " ").map(String.init) }
        #expect(offsets.contains(["monotonic", "3600", "0"]) && offsets.contains(["boottime", "\(Self.yearSeconds)", "0"]),
                "\(result)")
    }

    /// `exec` joins the init's time namespace (setns into one moves the caller itself), and another container
    /// joins it by path.
    @Test(.enabled(if: CrabcanCLI.haveTimeNamespaces))
    func timeNamespaceIsJoinedByExecAndByPath() throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        let id = box.id("timens-owner")
        let owner = try box.bundle(["sleep", "100"], name: "owner") { Self.withTimeNamespace(&$0, boottime: 2 * Self.yearSeconds) }
        #expect(box.crabcan(["run", "--detach", "--bundle", owner, id]).status == 0)
        let pid = try #require(box.pid(id))
        let timeNamespace = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/ns/time")
        let offset = Double(2 * Self.yearSeconds)

        let exec = box.crabcan(["exec", id, "sh", "-c", "cat /proc/uptime; readlink /proc/self/ns/time"])
        #expect(exec.status == 0, "\(exec)")
        #expect(exec.stdoutLines.last == timeNamespace, "\(exec)")
        #expect((Self.uptime(exec.stdoutLines.first) ?? 0) >= (try Self.hostUptime()) + offset - 1, "\(exec)")

        let joiner = try box.bundle(["sh", "-c", "cat /proc/uptime; readlink /proc/self/ns/time"], name: "joiner") {
            var linux = $0["linux"] as! [String: Any]
            linux["namespaces"] = (linux["namespaces"] as! [[String: Any]]) + [["type": "time", "path": "/proc/\(pid)/ns/time"]]
            $0["linux"] = linux
        }
        let joined = box.crabcan(["run", "--bundle", joiner, box.id("timens-joiner")])
        #expect(joined.status == 0, "\(joined)")
        #expect(joined.stdoutLines.last == timeNamespace, "\(joined)")
        #expect((Self.uptime(joined.stdoutLines.first) ?? 0) >= (try Self.hostUptime()) + offset - 1, "\(joined)")
        #expect(box.crabcan(["delete", "--force", id]).status == 0)
    }

    /// In a user namespace the time namespace belongs to it, and an offset still applies.
    @Test(.enabled(if: CrabcanCLI.haveTimeNamespaces))
    func timeNamespaceInsideAUserNamespace() throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        try Self.chownRootfs(box)
        let bundle = try box.bundle(["sh", "-c", "cat /proc/uptime; id -u"]) {
            Self.withUserNamespace(&$0)
            Self.withTimeNamespace(&$0)
        }
        let result = box.crabcan(["run", "--bundle", bundle, box.id("timens-userns")])
        #expect(result.status == 0, "\(result)")
        #expect((Self.uptime(result.stdoutLines.first) ?? 0) >= (try Self.hostUptime()) + Double(Self.yearSeconds) - 1, "\(result)")
        #expect(result.stdoutLines.last == "0", "\(result)")
    }

    @Test func timeOffsetsWithoutATimeNamespaceAreRefused() throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        let id = box.id("timens-bad")
        let bundle = try box.bundle(["true"]) {
            var linux = $0["linux"] as! [String: Any]
            linux["timeOffsets"] = ["boottime": ["secs": 10]]
            $0["linux"] = linux
        }
        let result = box.crabcan(["create", "--bundle", bundle, id])
        #expect(result.status == 1, "\(result)")
        #expect(result.stderrLines.count == 1 && result.stderr.contains(".linux.timeOffsets: needs a new time namespace"),
                "\(result)")
        #expect(!box.stateDirExists(id))
    }
}
