import Foundation
import Testing

/// Issue 6: `exec` puts a new process into every namespace and cgroup of the container, with the process's
/// own privileges and the container's seccomp profile; its exit status is crabcan's.
extension CrabcanCLI {
    /// A detached container running `sleep`, for exec tests.
    func sleeper(_ box: Sandbox, _ name: String, edit: (inout [String: Any]) -> Void = { _ in }) throws -> String {
        let id = box.id(name)
        let bundle = try box.bundle(["sleep", "600"], name: name, edit: edit)
        let run = box.crabcan(["run", "--detach", "--bundle", bundle, id])
        try #require(run.status == 0, "\(run)")
        return id
    }

    @Test func execJoinsEveryNamespaceAndTheCgroup() throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        let id = try sleeper(box, "exec-ns")
        let initPID = try #require(box.pid(id))
        let types = ["mnt", "pid", "net", "ipc", "uts"]
        let script = types.map { "readlink /proc/self/ns/\($0)" }.joined(separator: "; ") + "; hostname; cat /proc/self/cgroup"
        let result = box.crabcan(["exec", id, "sh", "-c", script])
        #expect(result.status == 0, "\(result)")
        let lines = result.stdoutLines
        for (index, type) in types.enumerated() {
            let host = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(initPID)/ns/\(type)")
            #expect(lines.count > index && lines[index] == host, "\(type): exec saw \(lines), init has \(host)")
        }
        #expect(lines.contains("crabcan"), "hostname of the container: \(result)")
        let initCgroups = try String(contentsOfFile: "/proc/\(initPID)/cgroup", encoding: .utf8)
            .split(separator: "\n").map(String.init)
        for line in initCgroups where !line.hasPrefix("0::") {
            #expect(lines.contains(line), "exec is not in \(line): \(result)")
        }
        // In the container's pid namespace: its pid there is small, and ps there lists sleep as 1.
        let ps = box.crabcan(["exec", id, "sh", "-c", "echo $$; ps -o pid,comm | grep -w sleep"])
        #expect(ps.stdoutLines.last?.trimmingCharacters(in: .whitespaces).hasPrefix("1 ") == true, "\(ps)")
        #expect(Int(ps.stdoutLines.first ?? "") ?? 1000 < 100, "\(ps)")
    }

    /// Issue 15.6: exec takes the config create validated (the state dir's snapshot), not the bundle's current file.
    @Test func execUsesTheConfigOfCreateNotTheBundlesCurrentOne() throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        let id = try sleeper(box, "exec-snapshot") { config in
            var process = config["process"] as! [String: Any]
            process["env"] = ["PATH=/bin:/usr/bin", "ORIGIN=create"]
            config["process"] = process
        }
        let bundle = box.dir + "/exec-snapshot"
        let configFile = bundle + "/config.json"
        let changed = try String(contentsOfFile: configFile, encoding: .utf8).replacingOccurrences(of: "ORIGIN=create", with: "ORIGIN=edited")
        try changed.write(toFile: configFile, atomically: true, encoding: .utf8)
        let edited = box.crabcan(["exec", id, "sh", "-c", "echo $ORIGIN"])
        #expect(edited.status == 0 && edited.stdout == "create\n", "\(edited)")
        try FileManager.default.removeItem(atPath: configFile)
        let removed = box.crabcan(["exec", id, "sh", "-c", "echo $ORIGIN"])
        #expect(removed.status == 0 && removed.stdout == "create\n", "\(removed)")
        #expect(box.crabcan(["delete", "--force", id]).status == 0)
    }

    @Test func execExitStatusAndFailures() throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        let id = try sleeper(box, "exec-status")
        #expect(box.crabcan(["exec", id, "sh", "-c", "exit 7"]).status == 7)
        #expect(box.crabcan(["exec", id, "sh", "-c", "kill -9 $$"]).status == 137)
        let missing = box.crabcan(["exec", id, "no-such-program"])
        #expect(missing.status == 255, "\(missing)")
        #expect(missing.stderrLines.count == 1 && missing.stderr.contains("no-such-program"), "\(missing)")
        #expect(box.crabcan(["pause", id]).status == 0)
        let paused = box.crabcan(["exec", id, "true"])
        #expect(paused.status == 255 && paused.stderr.contains("paused"), "\(paused)")
        #expect(box.crabcan(["resume", id]).status == 0)
        #expect(box.crabcan(["kill", id, "KILL"]).status == 0)
        #expect(box.waitForStatus(id, "stopped"))
        let stopped = box.crabcan(["exec", id, "true"])
        #expect(stopped.status == 255 && stopped.stderr.contains("stopped"), "\(stopped)")
        let unknown = box.crabcan(["exec", "no-such-container", "true"])
        #expect(unknown.status == 255 && unknown.stderrLines.count == 1, "\(unknown)")
    }

    @Test func execFlagsChangeTheProcess() throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        let id = try sleeper(box, "exec-flags") { config in
            Self.withCaps(&config, Self.defaultCaps)
            var process = config["process"] as! [String: Any]
            process["rlimits"] = [["type": "RLIMIT_NOFILE", "hard": 1000, "soft": 900]]
            config["process"] = process
        }
        let result = box.crabcan(["exec", "--user", "1000:1000", "--additional-gids", "44", "--cwd", "/tmp",
                                  "--env", "FOO=bar", "--env", "PATH=/bin", "--no-new-privs", id, "sh", "-c",
                                  "id -u; id -g; id -G; pwd; echo $FOO; echo $PATH; grep NoNewPrivs /proc/self/status; ulimit -n"])
        #expect(result.status == 0, "\(result)")
        let lines = result.stdoutLines.map { $0.replacingOccurrences(of: "\t", with: " ") }
        #expect(lines == ["1000", "1000", "1000 44", "/tmp", "bar", "/bin", "NoNewPrivs: 1", "900"], "\(result)")
        // --cap adds to the bounding, effective and permitted sets.
        let caps = box.crabcan(["exec", "--cap", "CAP_SYS_ADMIN", id, "grep", "CapEff", "/proc/self/status"])
        let value = UInt64(caps.stdout.split(separator: "\t").last?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "", radix: 16) ?? 0
        #expect(value & (1 << 21) != 0, "CAP_SYS_ADMIN not effective: \(caps)")
        let plain = box.crabcan(["exec", id, "grep", "CapEff", "/proc/self/status"])
        let plainValue = UInt64(plain.stdout.split(separator: "\t").last?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "", radix: 16) ?? 1
        #expect(plainValue & (1 << 21) == 0, "\(plain)")
    }

    @Test func execProcessFileAndItsErrors() throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        let id = try sleeper(box, "exec-file")
        let good = box.dir + "/process.json"
        try #"{"args":["sh","-c","echo from-file $A; id -u"],"cwd":"/","env":["A=1"],"user":{"uid":2,"gid":2}}"#
            .write(toFile: good, atomically: true, encoding: .utf8)
        let result = box.crabcan(["exec", "--process", good, id])
        #expect(result.status == 0 && result.stdoutLines == ["from-file 1", "2"], "\(result)")
        let bad = box.dir + "/bad.json"
        try #"{"args":["true"],"cwd":"/","user":{"uid":"zero","gid":0}}"#.write(toFile: bad, atomically: true, encoding: .utf8)
        let failed = box.crabcan(["exec", "--process", bad, id])
        #expect(failed.status == 255, "\(failed)")
        #expect(failed.stderrLines.count == 1 && failed.stderr.contains(".user.uid"), "\(failed)")
    }

    /// A running container whose seccomp profile refuses mkdir with EPERM (errno 1).
    func mkdirRefusingSleeper(_ box: Sandbox, _ name: String) throws -> String {
        try sleeper(box, name) { config in
            var linux = config["linux"] as! [String: Any]
            linux["seccomp"] = ["defaultAction": "SCMP_ACT_ALLOW",
                                "syscalls": [["names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1]]]
            config["linux"] = linux
        }
    }

    @Test func execGetsTheContainersSeccompProfile() throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        let id = try mkdirRefusingSleeper(box, "exec-seccomp")
        let result = box.crabcan(["exec", id, "sh", "-c", "mkdir /tmp/made; echo rc=$?"])
        #expect(result.stdout.contains("rc=1"), "\(result)")
        #expect(!FileManager.default.fileExists(atPath: box.rootfs + "/tmp/made"))
    }

    @Test func execDetachedWritesPidFileAndLeavesNoHostFds() throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        let id = try sleeper(box, "exec-detach")
        let pidFile = box.dir + "/exec.pid"
        let result = Command.run("/bin/sh", ["-c", "exec 7</etc; exec \"$0\" --root \"$1\" exec --detach --pid-file \"$2\" \"$3\" sh -c 'ls /proc/self/fd > /tmp/fds; sleep 30'",
                                             Paths.binary, box.root, pidFile, id])
        #expect(result.status == 0, "\(result)")
        let pid = try #require(pid_t((try? String(contentsOfFile: pidFile, encoding: .utf8)) ?? ""))
        #expect(Host.isAlive(pid))
        let initPID = try #require(box.pid(id))
        let ns = { (p: pid_t) in try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(p)/ns/pid") }
        #expect(ns(pid) != nil && ns(pid) == ns(initPID))
        #expect(eventually { FileManager.default.fileExists(atPath: box.rootfs + "/tmp/fds") })
        _ = eventually { ((try? String(contentsOfFile: box.rootfs + "/tmp/fds", encoding: .utf8)) ?? "").split(separator: "\n").count >= 3 }
        let fds = ((try? String(contentsOfFile: box.rootfs + "/tmp/fds", encoding: .utf8)) ?? "").split(separator: "\n").compactMap { Int($0) }
        #expect(!fds.contains(7), "host fd 7 reached the exec'd process: \(fds)")
        #expect(box.crabcan(["delete", "--force", id]).status == 0)
        #expect(eventually { !Host.isAlive(pid) }, "the exec'd process outlived delete --force")
    }

    /// CVE-2019-5736, exec path: while `crabcan exec` runs its own code inside the container's pid namespace,
    /// a root process of the container looking at every /proc/<pid>/exe never sees the host binary.
    @Test func execIsNotReachableThroughProcExe() throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        let id = box.id("exe-exec")
        let watcher = "while :; do for p in /proc/[0-9]*; do readlink $p/exe; done; done > /tmp/seen 2>/dev/null"
        let bundle = try box.bundle(["sh", "-c", watcher]) { Self.withCaps(&$0, Self.defaultCaps) }
        #expect(box.crabcan(["run", "--detach", "--bundle", bundle, id]).status == 0)
        for _ in 0..<40 { box.crabcan(["exec", id, "true"]) }
        let seen = (try? String(contentsOfFile: box.rootfs + "/tmp/seen", encoding: .utf8)) ?? ""
        #expect(seen.contains("/bin/busybox"), "the watcher did not run")
        #expect(!seen.contains("crabcan"), "a container process reached the runtime binary")
    }
}
