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
    /// The rest of runc's recursive options: `rrw` clears a submount's read-only flag in the container's copy,
    /// `rrelatime`/`rnodiratime` and `rstrictatime` set the atime mode of the bind and of every submount.
    @Test func recursiveReadWriteAndAtimeOptionsReachSubmounts() throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        let source = box.dir + "/tree"
        try FileManager.default.createDirectory(atPath: source + "/sub", withIntermediateDirectories: true)
        let mount = Command.run("/bin/mount", ["-t", "tmpfs", "-o", "size=1m,noatime", "crabcan-rrw", source + "/sub"])
        try #require(mount.status == 0, "\(mount)")
        defer { Command.run("/bin/umount", ["-l", source + "/sub"]) }
        // Read-only on this mount only (the tmpfs itself stays writable): what rrw must undo in the copy.
        let readOnly = Command.run("/bin/mount", ["-o", "remount,bind,ro", source + "/sub"])
        try #require(readOnly.status == 0, "\(readOnly)")
        let script = """
            touch /plain/sub/x 2>&1; touch /rw/sub/y && echo rw-sub-writable
            awk '$5 ~ "^/(plain|rw|atime|strict)" { split($6, o, ","); s = $5 ":"; \
            for (i in o) if (o[i] ~ /^(ro|rw|noatime|relatime|nodiratime)$/) f[o[i]] = 1; \
            n = split("ro rw noatime relatime nodiratime", k, " "); \
            for (i = 1; i <= n; i++) if (k[i] in f) s = s " " k[i]; delete f; print s }' /proc/self/mountinfo
            """
        let bundle = try box.bundle(["sh", "-c", script]) {
            var mounts = $0["mounts"] as! [[String: Any]]
            mounts.append(["destination": "/plain", "type": "bind", "source": source, "options": ["rbind"]])
            mounts.append(["destination": "/rw", "type": "bind", "source": source, "options": ["rbind", "rrw"]])
            mounts.append(["destination": "/atime", "type": "bind", "source": source, "options": ["rbind", "rrelatime", "rnodiratime"]])
            mounts.append(["destination": "/strict", "type": "bind", "source": source, "options": ["rbind", "rstrictatime"]])
            $0["mounts"] = mounts
        }
        let result = box.crabcan(["run", "--bundle", bundle, box.id("rrw")])
        #expect(result.status == 0, "\(result)")
        #expect(result.stdoutLines == [
            "touch: /plain/sub/x: Read-only file system", "rw-sub-writable",
            "/plain: rw relatime", "/plain/sub: ro noatime", "/rw: rw relatime", "/rw/sub: rw noatime",
            "/atime: rw relatime nodiratime", "/atime/sub: ro relatime nodiratime", "/strict: rw", "/strict/sub: ro",
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
        // checkpoint/restore take runc's flags (help lists them); CRIU itself is tested in `make test-criu` (issue 17).
        let checkpoint = Command.run(Paths.binary, ["checkpoint", "-h"])
        #expect(checkpoint.status == 0 && checkpoint.stdoutLines.first == "NAME:", "\(checkpoint)")
        #expect(checkpoint.stdoutLines.contains("   crabcan checkpoint [command options] <container-id>"), "\(checkpoint)")
        #expect(["   --image-path value ", "   --leave-running ", "   --tcp-established ", "   --pre-dump ", "   --manage-cgroups-mode value "]
            .allSatisfy { flag in checkpoint.stdoutLines.contains { $0.hasPrefix(flag) } }, "\(checkpoint)")
        let restore = Command.run(Paths.binary, ["restore", "--help"])
        #expect(restore.status == 0 && restore.stdoutLines.contains { $0.hasPrefix("   --bundle value, -b value ") }, "\(restore)")
        let main = Command.run(Paths.binary, ["-h"])
        #expect(main.stdoutLines.contains { $0.hasPrefix("   checkpoint ") } && main.stdoutLines.contains { $0.hasPrefix("   restore ") }, "\(main)")
        // The commands runc has, in runc's order (crabcan adds `check`).
        func commandColumn(_ help: Result) -> [String] {
            let lines = help.stdoutLines
            guard let start = lines.firstIndex(of: "COMMANDS:") else { return [] }
            return lines[(start + 1)...].prefix { $0.hasPrefix("   ") }.map { String($0.dropFirst(3).prefix { $0 != " " && $0 != "," }) }
        }
        let ours = commandColumn(main).filter { $0 != "check" }
        #expect(ours == ["checkpoint", "create", "delete", "events", "exec", "kill", "list", "pause", "ps", "restore", "resume",
                         "run", "spec", "start", "state", "update", "features", "help"], "\(main)")
        if let runc = Tools.find("runc") { #expect(commandColumn(Command.run(runc, ["-h"])) == ours, "runc's order") }
        let refused = Command.run(Paths.binary, ["--root", NSTemporaryDirectory() + "crabcan-it-nocheckpoint", "checkpoint", "--leave-running", "some-id"])
        #expect(refused.status == 1 && refused.stdout.isEmpty && refused.stderr == "crabcan: container some-id does not exist\n",
                "\(refused)")
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
    /// In a user namespace a bind source is a copy made by the parent (above). A copy of a shared mount stays in its
    /// source's peer group, so a mount the config nests under the bind reached the host, and stayed there after
    /// the container was gone (found by the cgroup2 guest, whose / is shared; nothing on this host is, so the
    /// source here is a shared tmpfs of the test's own). It must stay in the container.
    @Test func userNamespaceMountsNestedUnderABindStayInTheContainer() throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        try Self.chownRootfs(box)
        let shared = box.dir + "/shared"
        defer { Tools.unmountAll(under: shared) }
        try Tools.mountSharedTmpfs(shared, source: "crabcan-it-shared")
        // (The mapped root may not make the mount point in a directory of the host's root.)
        try FileManager.default.createDirectory(atPath: shared + "/src/nested", withIntermediateDirectories: true)
        let marker = "crabcan-it-nested-" + box.id("m")
        let bundle = try box.bundle(["sh", "-c", "grep -c \(marker) /proc/self/mountinfo"]) {
            Self.withUserNamespace(&$0)
            var mounts = $0["mounts"] as! [[String: Any]]
            mounts.append(["destination": "/mnt/src", "type": "bind", "source": shared + "/src", "options": ["rbind"]])
            mounts.append(["destination": "/mnt/src/nested", "type": "tmpfs", "source": marker, "options": ["size=12k"]])
            $0["mounts"] = mounts
        }
        let result = box.crabcan(["run", "--bundle", bundle, box.id("userns-nested")])
        #expect(result.status == 0 && result.stdoutLines == ["1"], "\(result)")
        #expect(!Tools.read("/proc/self/mountinfo").contains(marker), "the nested mount reached the host")
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

extension CrabcanCLI {
    /// Issue 18's compatibility test: the config `runc spec` writes (Tests/Golden/runc-spec.json) through
    /// create/state/start/exec/ps/pause/resume/update/events/kill/delete/list with the calls and flags runc's
    /// users make (containerd's go-runc, podman's conmon, scripts), one transcript line per call: exit code and
    /// exact stdout, or the fields of the JSON it printed that a caller reads. With runc installed (Debian's,
    /// `make test` installs it), runc 1.1.5 plays the same script on the same bundle and must give the same transcript.
    static func runcUsersScript(_ tool: (([String]) -> Result), id: String, box: Sandbox, strays: inout [String]) -> [String] {
        var lines: [String] = []
        func call(_ label: String, _ arguments: [String], quietOnSuccess: Bool = true) -> Result {
            let result = tool(arguments)
            if result.status == 0 && quietOnSuccess && !result.stderr.isEmpty { strays.append("\(label): stderr \(result.stderr)") }
            return result
        }
        func json(_ result: Result) -> [String: Any] {
            (try? JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]) ?? [:]
        }
        func state(_ label: String) {
            let result = call(label, ["state", id])
            lines.append("\(label): \(result.status) \(json(result)["status"] as? String ?? "-")")
        }
        let pidFile = box.dir + "/\(id).pid"
        let create = call("create", ["create", "--bundle", box.dir + "/compat", "--pid-file", pidFile, id])
        lines.append("create: \(create.status) \(create.stdout.debugDescription)")
        let created = json(call("state", ["state", id]))
        let pidText = (try? String(contentsOfFile: pidFile, encoding: .utf8)) ?? ""
        lines.append("state: \(created["status"] as? String ?? "-") pid-file-matches=\(Int(pidText) == created["pid"] as? Int) bundle=\(created["bundle"] as? String == box.dir + "/compat")")
        let start = call("start", ["start", id])
        lines.append("start: \(start.status) \(start.stdout.debugDescription)")
        state("state-running")
        let list = call("list", ["list", "-q"])
        lines.append("list -q: \(list.status) lists-id=\(list.stdoutLines.contains(id))")
        let exec = call("exec", ["exec", id, "sh", "-c", "echo exec-out; exit 5"])
        lines.append("exec: \(exec.status) \(exec.stdout.debugDescription)")
        let env = call("exec-env", ["exec", "--env", "FOO=bar", "--cwd", "/tmp", "--user", "1000:1000", id, "sh", "-c", "echo $FOO $(pwd) $(id -u)"])
        lines.append("exec --env --cwd --user: \(env.status) \(env.stdout.debugDescription)")
        let detached = call("exec-detach", ["exec", "--detach", id, "sleep", "30"])
        lines.append("exec --detach: \(detached.status) \(detached.stdout.debugDescription)")
        _ = eventually { ((try? JSONSerialization.jsonObject(with: Data(tool(["ps", "--format", "json", id]).stdout.utf8))) as? [Int])?.count == 2 }
        let ps = call("ps-json", ["ps", "--format", "json", id])
        lines.append("ps --format json: \(ps.status) count=\(((try? JSONSerialization.jsonObject(with: Data(ps.stdout.utf8))) as? [Int])?.count ?? -1)")
        let table = call("ps", ["ps", id])
        lines.append("ps: \(table.status) \(table.stdoutLines.first?.split(separator: " ").joined(separator: " ") ?? "-") rows=\(table.stdoutLines.count - 1)")
        let passthrough = call("ps -e -x", ["ps", id, "-e", "-x"])
        lines.append("ps -e -x: \(passthrough.status) \(passthrough.stdoutLines.first?.split(separator: " ").joined(separator: " ") ?? "-") rows=\(passthrough.stdoutLines.count - 1)")
        let pause = call("pause", ["pause", id])
        lines.append("pause: \(pause.status) \(pause.stdout.debugDescription)")
        state("state-paused")
        let resume = call("resume", ["resume", id])
        lines.append("resume: \(resume.status) \(resume.stdout.debugDescription)")
        state("state-resumed")
        let update = call("update", ["update", "--pids-limit", "50", "--memory", "104857600", id])
        let pid = Int32(pidText) ?? -1
        lines.append("update: \(update.status) \(update.stdout.debugDescription) pids.max=\(Tools.cgroupFile(pid: pid, controller: "pids", file: "pids.max")) memory=\(Tools.cgroupFile(pid: pid, controller: "memory", file: "memory.limit_in_bytes"))")
        let events = json(call("events", ["events", "--stats", id]))
        let pids = (events["data"] as? [String: Any])?["pids"] as? [String: Any]
        lines.append("events --stats: type=\(events["type"] as? String ?? "-") id=\(events["id"] as? String == id) pids.current=\(pids?["current"] as? Int ?? -1) pids.limit=\(pids?["limit"] as? Int ?? -1)")
        let probe = call("kill 0", ["kill", id, "0"])
        lines.append("kill 0: \(probe.status) \(probe.stdout.debugDescription)")
        let kill = call("kill KILL", ["kill", id, "KILL"])
        lines.append("kill KILL: \(kill.status) \(kill.stdout.debugDescription)")
        _ = eventually { json(tool(["state", id]))["status"] as? String == "stopped" }
        state("state-stopped")
        let again = call("kill TERM", ["kill", id, "TERM"], quietOnSuccess: false)
        lines.append("kill TERM (stopped): \(again.status) says-not-running=\(again.stderr.contains("container not running"))")
        let delete = call("delete", ["delete", id])
        lines.append("delete: \(delete.status) \(delete.stdout.debugDescription)")
        let gone = call("state-gone", ["state", id], quietOnSuccess: false)
        lines.append("state (deleted): \(gone.status) \(gone.stdout.debugDescription)")
        return lines
    }

    @Test(.enabled(if: getuid() == 0, "needs root")) func runcSpecConfigThroughRuncsUsersCallsSideBySide() throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        let cgroup = "crabcan-it-compat-" + box.id("cg")
        _ = try Self.runcSpecBundle(box, ["sleep", "1000"], name: "compat") {
            var linux = $0["linux"] as! [String: Any]
            linux["cgroupsPath"] = "/" + cgroup
            $0["linux"] = linux
        }
        let expected = [
            "create: 0 \"\"", "state: created pid-file-matches=true bundle=true", "start: 0 \"\"", "state-running: 0 running",
            "list -q: 0 lists-id=true", "exec: 5 \"exec-out\\n\"", "exec --env --cwd --user: 0 \"bar /tmp 1000\\n\"",
            "exec --detach: 0 \"\"", "ps --format json: 0 count=2", "ps: 0 UID PID PPID C STIME TTY TIME CMD rows=2",
            "ps -e -x: 0 PID TTY STAT TIME COMMAND rows=2", "pause: 0 \"\"", "state-paused: 0 paused", "resume: 0 \"\"",
            "state-resumed: 0 running", "update: 0 \"\" pids.max=50 memory=104857600",
            "events --stats: type=stats id=true pids.current=2 pids.limit=50", "kill 0: 0 \"\"", "kill KILL: 0 \"\"",
            "state-stopped: 0 stopped", "kill TERM (stopped): 1 says-not-running=true", "delete: 0 \"\"", "state (deleted): 1 \"\"",
        ]
        var strays: [String] = []
        let id = box.id("compat")
        let ours = Self.runcUsersScript({ box.crabcan($0, timeout: 30) }, id: id, box: box, strays: &strays)
        #expect(ours == expected, "crabcan:\n\(ours.joined(separator: "\n"))")
        #expect(strays.isEmpty, "crabcan: \(strays)")
        box.expectGone(id, "crabcan")

        guard let runc = Tools.find("runc") else { return }
        var runcStrays: [String] = []
        let runcID = box.id("compat-runc")
        let runcRoot = box.dir + "/runc-root"
        defer { Command.run(runc, ["--root", runcRoot, "delete", "--force", runcID]) }
        let theirs = Self.runcUsersScript({ Command.run(runc, ["--root", runcRoot] + $0, timeout: 30) }, id: runcID, box: box, strays: &runcStrays)
        #expect(theirs == ours, "runc:\n\(theirs.joined(separator: "\n"))\ncrabcan:\n\(ours.joined(separator: "\n"))")
        #expect(runcStrays.isEmpty, "runc: \(runcStrays)")
        let left = HostSnapshot.cgroupMounts.map { "\($0)/\(cgroup)" }.filter { FileManager.default.fileExists(atPath: $0) }
        #expect(left.isEmpty, "\(left)")
    }
}

extension CrabcanCLI {
    /// `--no-pivot` (18.5): the root is the rootfs (the host's / is not listed) and, in a user namespace with
    /// CAP_SYS_ADMIN, what `mount -t proc` and `mount -t sysfs` do is what they do under runc 1.1.5 on the same
    /// bundle (run side by side where runc is installed): the host's procfs and sysfs, detached before the move,
    /// give the kernel's mount_too_revealing check nothing more than runc leaves.
    @Test func noPivotMountsProcAndSysfsAsRuncDoes() throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        try Self.chownRootfs(box)
        let script = "ls / | grep -cx -e work -e opt -e srv; mkdir -p /tmp/p; mount -t proc proc /tmp/p 2>&1 && echo mounted-proc; "
            + "umount /tmp/p 2>/dev/null; mount -t sysfs sysfs /tmp/p 2>&1 && echo mounted-sys; umount /tmp/p 2>/dev/null; true"
        let bundle = try box.bundle(["sh", "-c", script]) {
            Self.withUserNamespace(&$0)
            var process = $0["process"] as! [String: Any]
            let caps = ["CAP_SYS_ADMIN", "CAP_CHOWN", "CAP_DAC_OVERRIDE"]
            process["capabilities"] = ["bounding": caps, "effective": caps, "permitted": caps]
            $0["process"] = process
            // An absolute cgroup of the test's own: runc would put a config without one under the caller's cgroup.
            var linux = $0["linux"] as! [String: Any]
            linux["cgroupsPath"] = "/crabcan-it-nopivot-" + box.id("cg")
            $0["linux"] = linux
        }
        let ours = box.crabcan(["run", "--no-pivot", "--bundle", bundle, box.id("nopivot-proc")])
        #expect(ours.status == 0 && ours.stderr.isEmpty, "\(ours)")
        #expect(ours.stdoutLines.first == "0", "the host's / must not be visible: \(ours)")
        guard let runc = Tools.find("runc") else { return }
        let theirs = Command.run(runc, ["--root", box.dir + "/runc-root", "run", "--no-pivot", "--bundle", bundle, box.id("nopivot-runc")], timeout: 30)
        #expect(theirs.status == ours.status && theirs.stdoutLines == ours.stdoutLines, "runc: \(theirs)\ncrabcan: \(ours)")
    }
}
