import Foundation
import Testing

/// Where crabcan must behave as runc does (issue 18): device access, recursive mount options, deleting a paused
/// container, the CLI details scripts depend on. Each test checks what the container or the caller saw.
extension CrabcanCLI {
    /// `linux.devices` makes nodes; only `linux.resources.devices` (and the default devices) grant access. With a
    /// deny-all and /dev/kmsg listed, opening it fails with EPERM inside; an explicit allow opens it for writing
    /// (an open for writing logs nothing). A fifo in `linux.devices` has no cgroup rule and is simply made.
    @Test func linuxDevicesGrantNoAccessByThemselves() throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        let script = "(: > /dev/kmsg) 2>&1; head -c 1 /dev/kmsg 2>&1; stat -c '%F %a' /dev/fifo1; echo done"
        func bundle(_ rules: [[String: Any]], name: String) throws -> String {
            try box.bundle(["sh", "-c", script], name: name) {
                var linux = $0["linux"] as! [String: Any]
                linux["devices"] = [["path": "/dev/kmsg", "type": "c", "major": 1, "minor": 11, "fileMode": 0o666],
                                    ["path": "/dev/fifo1", "type": "p", "fileMode": 0o640]]
                linux["resources"] = ["devices": rules]
                $0["linux"] = linux
            }
        }
        let denied = box.crabcan(["run", "--bundle", try bundle([["allow": false, "access": "rwm"]], name: "deny"),
                                  box.id("dev-deny")])
        #expect(denied.status == 0, "\(denied)")
        #expect(denied.stdoutLines == ["sh: can't create /dev/kmsg: Operation not permitted",
                                       "head: /dev/kmsg: Operation not permitted", "fifo 640", "done"], "\(denied)")
        // The same node with the config's own allow: the device cgroup, not the node, made the difference.
        let allowed = box.crabcan(["run", "--bundle",
                                   try bundle([["allow": false, "access": "rwm"],
                                               ["allow": true, "type": "c", "major": 1, "minor": 11, "access": "w"]],
                                              name: "allow"),
                                   box.id("dev-allow")])
        #expect(allowed.status == 0, "\(allowed)")
        #expect(allowed.stdoutLines.first == "head: /dev/kmsg: Operation not permitted", "read stays denied: \(allowed)")
        #expect(allowed.stdoutLines.dropFirst() == ["fifo 640", "done"], "\(allowed)")
    }
}

extension CrabcanCLI {
    /// `rbind,rro` makes the bind and every mount under it read-only (mount_setattr AT_RECURSIVE, as runc ≥ 1.1);
    /// the other recursive options reach the submount too, as mountinfo shows inside.
    @Test func recursiveMountOptionsReachSubmounts() throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        let source = box.dir + "/tree"
        try FileManager.default.createDirectory(atPath: source + "/sub", withIntermediateDirectories: true)
        let mount = Command.run("/bin/mount", ["-t", "tmpfs", "-o", "size=1m", "crabcan-rro", source + "/sub"])
        try #require(mount.status == 0, "\(mount)")
        defer { Command.run("/bin/umount", ["-l", source + "/sub"]) }
        let script = """
            touch /ro/a 2>&1; touch /ro/sub/b 2>&1; touch /flags/c /flags/sub/d && echo writable
            awk '$5 ~ "^/(ro|flags)" { split($6, o, ","); s = $5 ":"; \
            for (i in o) if (o[i] ~ /^(ro|rw|nosuid|nodev|noexec|noatime|nosymfollow)$/) f[o[i]] = 1; \
            n = split("ro rw nosuid nodev noexec noatime nosymfollow", k, " "); \
            for (i = 1; i <= n; i++) if (k[i] in f) s = s " " k[i]; delete f; print s }' /proc/self/mountinfo
            """
        let bundle = try box.bundle(["sh", "-c", script]) {
            var mounts = $0["mounts"] as! [[String: Any]]
            mounts.append(["destination": "/ro", "type": "bind", "source": source, "options": ["rbind", "rro"]])
            mounts.append(["destination": "/flags", "type": "bind", "source": source,
                           "options": ["rbind", "rnosuid", "rnodev", "rnoexec", "rnoatime", "rnosymfollow"]])
            $0["mounts"] = mounts
        }
        let result = box.crabcan(["run", "--bundle", bundle, box.id("rro")])
        #expect(result.status == 0, "\(result)")
        #expect(result.stdoutLines == [
            "touch: /ro/a: Read-only file system", "touch: /ro/sub/b: Read-only file system", "writable",
            "/ro: ro", "/ro/sub: ro",
            "/flags: rw nosuid nodev noexec noatime nosymfollow", "/flags/sub: rw nosuid nodev noexec noatime nosymfollow",
        ], "\(result)")
    }
}

extension CrabcanCLI {
    /// A frozen task cannot die until thawed (v1 freezer): `delete --force` of a paused container kills, then
    /// thaws, as runc does (podman rm -f, ctr task delete -f); so does `kill ID KILL`, and only for SIGKILL.
    @Test func pausedContainersDieOnForceDeleteAndKill() throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        let bundle = try box.bundle(["sleep", "1000"])
        let deleted = box.id("paused-delete")
        #expect(box.crabcan(["run", "--detach", "--bundle", bundle, deleted]).status == 0)
        let pid = try #require(box.pid(deleted))
        #expect(box.crabcan(["pause", deleted]).status == 0)
        #expect(box.status(deleted) == "paused")
        let delete = box.crabcan(["delete", "--force", deleted])
        #expect(delete.status == 0 && delete.stderr.isEmpty, "\(delete)")
        #expect(!box.stateDirExists(deleted))
        #expect(eventually { !Host.isAlive(pid) }, "the paused init \(pid) is still alive")
        #expect(HostSnapshot.cgroupDirs(deleted).isEmpty, "cgroups left: \(HostSnapshot.cgroupDirs(deleted))")

        let killed = box.id("paused-kill")
        #expect(box.crabcan(["run", "--detach", "--bundle", bundle, killed]).status == 0)
        #expect(box.crabcan(["pause", killed]).status == 0)
        #expect(box.crabcan(["kill", killed, "TERM"]).status == 0)
        #expect(box.status(killed) == "paused", "a signal other than KILL leaves it paused")
        #expect(box.crabcan(["kill", killed, "KILL"]).status == 0)
        #expect(box.waitForStatus(killed, "stopped"), "\(String(describing: box.state(killed)))")
        #expect(box.crabcan(["delete", killed]).status == 0)
    }
}
