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

extension CrabcanCLI {
    /// `kill [--all] ID 0` asks whether the container is alive (containerd sends it): accepted, as runc.
    /// `run --keep` leaves the stopped container for `state` and `delete`.
    @Test func signalZeroAndRunKeep() throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        let id = box.id("sig0")
        #expect(box.crabcan(["run", "--detach", "--bundle", try box.bundle(["sleep", "100"]), id]).status == 0)
        for arguments in [["kill", id, "0"], ["kill", "--all", id, "0"]] {
            let kill = box.crabcan(arguments)
            #expect(kill.status == 0 && kill.stdout.isEmpty && kill.stderr.isEmpty, "\(arguments): \(kill)")
        }
        #expect(box.status(id) == "running")
        #expect(box.crabcan(["delete", "--force", id]).status == 0)
        #expect(box.crabcan(["kill", id, "0"]).status == 1, "a container that is gone")

        let kept = box.id("keep")
        let run = box.crabcan(["run", "--keep", "--bundle", try box.bundle(["sh", "-c", "exit 4"], name: "keep"), kept])
        #expect(run.status == 4 && run.stderr.isEmpty, "\(run)")
        #expect(box.status(kept) == "stopped", "\(String(describing: box.state(kept)))")
        #expect(!HostSnapshot.cgroupDirs(kept).isEmpty, "its cgroups stay until delete")
        #expect(box.crabcan(["delete", kept]).status == 0)
        #expect(!box.stateDirExists(kept) && HostSnapshot.cgroupDirs(kept).isEmpty)
    }

    /// `ps ID` prints `ps -ef`'s table for the container's processes only; options after the id go to the host's
    /// `ps` (runc runs it and keeps the header and the rows whose PID is the container's).
    @Test func psPrintsTheHostPsTableForTheContainersProcesses() throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        try #require(Tools.find("ps") != nil, "procps is installed by make test")
        let id = box.id("ps")
        #expect(box.crabcan(["run", "--detach", "--bundle", try box.bundle(["sh", "-c", "sleep 101 & exec sleep 102"]), id]).status == 0)
        let pids = try #require(try JSONSerialization.jsonObject(with: Data(box.crabcan(["ps", "--format", "json", id]).stdout.utf8)) as? [Int])
        #expect(eventually { (try? JSONSerialization.jsonObject(with: Data(box.crabcan(["ps", "-f", "json", id]).stdout.utf8)) as? [Int])?.count == 2 })

        let table = box.crabcan(["ps", id])
        #expect(table.status == 0 && table.stderr.isEmpty, "\(table)")
        #expect(table.stdoutLines.first?.split(separator: " ") == ["UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"], "\(table)")
        let rows = table.stdoutLines.dropFirst().map { $0.split(separator: " ", omittingEmptySubsequences: true) }
        #expect(rows.count == 2, "\(table)")
        #expect(Set(rows.compactMap { Int($0[1]) }).isSuperset(of: pids), "\(table)")
        #expect(Set(rows.map { $0.suffix(2).joined(separator: " ") }) == ["sleep 101", "sleep 102"], "\(table)")

        let custom = box.crabcan(["ps", id, "-o", "pid,comm"])
        #expect(custom.stdoutLines.first?.split(separator: " ") == ["PID", "COMMAND"], "\(custom)")
        #expect(custom.stdoutLines.dropFirst().map { String($0.split(separator: " ").last ?? "") } == ["sleep", "sleep"], "\(custom)")
        let extra = box.crabcan(["ps", id, "-e", "-x"])
        #expect(extra.status == 0 && extra.stdoutLines.count == 3, "\(extra)")
        #expect(extra.stdoutLines.first?.split(separator: " ") == ["PID", "TTY", "STAT", "TIME", "COMMAND"], "\(extra)")
    }

    /// `crabcan -h`, `crabcan help`, `crabcan COMMAND -h` and `crabcan help COMMAND`: runc's layout, exit 0.
    @Test func helpHasRuncsLayout() throws {
        for arguments in [["-h"], ["--help"], ["help"], []] {
            let help = Command.run(Paths.binary, arguments)
            #expect(help.status == 0 && help.stderr.isEmpty, "\(arguments): \(help)")
            let sections = help.stdoutLines.filter { $0.hasSuffix(":") && $0 == $0.uppercased() }
            #expect(sections == ["NAME:", "USAGE:", "VERSION:", "COMMANDS:", "GLOBAL OPTIONS:"], "\(arguments): \(help)")
            #expect(help.stdoutLines.contains("   crabcan [global options] command [command options] [arguments...]"))
            #expect(help.stdoutLines.contains { $0.hasPrefix("   kill ") && $0.count > 12 }, "\(help)")
            #expect(help.stdoutLines.contains { $0.hasPrefix("   --root value ") }, "\(help)")
        }
        for arguments in [["kill", "-h"], ["help", "kill"], ["kill", "--help"]] {
            let help = Command.run(Paths.binary, arguments)
            #expect(help.status == 0, "\(help)")
            #expect(help.stdoutLines.first == "NAME:", "\(help)")
            #expect(help.stdoutLines.contains("   crabcan kill [command options] <container-id> [signal]"), "\(help)")
            #expect(help.stdoutLines.contains("   --all, -a  send the specified signal to all processes inside the container"), "\(help)")
        }
        let start = Command.run(Paths.binary, ["start", "-h"])
        #expect(start.stdoutLines.contains("   crabcan start <container-id>") && !start.stdout.contains("OPTIONS:"), "\(start)")
        let exec = Command.run(Paths.binary, ["exec", "-h"])
        #expect(exec.stdoutLines.contains { $0.hasPrefix("   --env value, -e value ") }, "\(exec)")
    }
}

extension CrabcanCLI {
    /// A read-only /dev (tmpfs with `ro`) gets its nodes, /dev/pts and /dev/shm first and goes read-only after, as
    /// runc's finalizeRootfs; so does any read-only tmpfs that later mounts sit in.
    @Test func readOnlyTmpfsAndDevAreFilledBeforeTheyGoReadOnly() throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        let source = box.dir + "/src"
        try FileManager.default.createDirectory(atPath: source, withIntermediateDirectories: true)
        try "seen\n".write(toFile: source + "/file", atomically: true, encoding: .utf8)
        let script = """
            touch /dev/x 2>&1; touch /data/x 2>&1; echo ok > /dev/null && echo null-ok; test -c /dev/pts/ptmx && echo pts-ok
            cat /data/sub/file; echo shm > /dev/shm/f && cat /dev/shm/f
            awk '$5 == "/dev" || $5 == "/data" { split($6, o, ","); print $5, o[1] }' /proc/self/mountinfo
            """
        let bundle = try box.bundle(["sh", "-c", script]) {
            var mounts = $0["mounts"] as! [[String: Any]]
            for index in mounts.indices where mounts[index]["destination"] as? String == "/dev" {
                mounts[index]["options"] = (mounts[index]["options"] as! [String]) + ["ro"]
            }
            mounts.append(["destination": "/data", "type": "tmpfs", "source": "tmpfs", "options": ["ro", "size=1m"]])
            mounts.append(["destination": "/data/sub", "type": "bind", "source": source, "options": ["rbind", "ro"]])
            $0["mounts"] = mounts
        }
        let result = box.crabcan(["run", "--bundle", bundle, box.id("ro-dev")])
        #expect(result.status == 0, "\(result)")
        #expect(result.stdoutLines == ["touch: /dev/x: Read-only file system", "touch: /data/x: Read-only file system",
                                       "null-ok", "pts-ok", "seen", "shm", "/dev ro", "/data ro"], "\(result)")
    }
}

extension CrabcanCLI {
    /// In a user namespace, a bind source inside a directory only the host's root may enter (0700) is opened
    /// before the init becomes the mapped root (runc's mount fds): the container sees the files.
    @Test func userNamespaceBindSourcesBeyondTheMappedRootsReach() throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        try Self.chownRootfs(box)
        let secret = box.dir + "/root-only"
        try FileManager.default.createDirectory(atPath: secret + "/data", withIntermediateDirectories: true)
        try "reached\n".write(toFile: secret + "/data/file", atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o700], ofItemAtPath: secret)
        let bundle = try box.bundle(["sh", "-c", "cat /mnt/data/file; cat /mnt/file"]) {
            Self.withUserNamespace(&$0)
            var mounts = $0["mounts"] as! [[String: Any]]
            mounts.append(["destination": "/mnt/data", "type": "bind", "source": secret + "/data", "options": ["rbind", "ro"]])
            mounts.append(["destination": "/mnt/file", "type": "bind", "source": secret + "/data/file", "options": ["bind"]])
            $0["mounts"] = mounts
        }
        let result = box.crabcan(["run", "--bundle", bundle, box.id("userns-bind")])
        #expect(result.status == 0 && result.stdoutLines == ["reached", "reached"] && result.stderr.isEmpty, "\(result)")
    }
}

extension CrabcanCLI {
    /// A device rule's access `"rwa"` runs as runc runs it: r, w and m are kept, other letters ignored (the
    /// write open succeeds); `check` notes it.
    @Test func deviceAccessLettersBeyondRWMAreIgnoredAsRuncDoes() throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        let bundle = try box.bundle(["sh", "-c", "(: > /dev/kmsg) 2>&1 && echo write-open-ok"]) {
            var linux = $0["linux"] as! [String: Any]
            linux["devices"] = [["path": "/dev/kmsg", "type": "c", "major": 1, "minor": 11, "fileMode": 0o666]]
            linux["resources"] = ["devices": [["allow": false, "access": "rwm"],
                                              ["allow": true, "type": "c", "major": 1, "minor": 11, "access": "rwa"]]]
            $0["linux"] = linux
        }
        let run = box.crabcan(["run", "--bundle", bundle, box.id("rwa")])
        #expect(run.status == 0 && run.stdoutLines == ["write-open-ok"] && run.stderr.isEmpty, "\(run)")
        let check = box.crabcan(["check", "--bundle", bundle])
        #expect(check.status == 0, "\(check)")
        #expect(check.stdout.contains(#".linux.resources.devices[1].access: letters other than r, w, m are ignored (as runc does): "rwa" is "rw""#), "\(check)")
    }
}
