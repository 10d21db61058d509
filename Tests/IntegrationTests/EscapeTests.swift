import Foundation
import Testing

/// Issue 3: the escapes that hit runc, each reproduced against crabcan and shown to fail.
extension CrabcanCLI {
    static let defaultCaps = ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]

    static func withCaps(_ config: inout [String: Any], _ caps: [String]) {
        var process = config["process"] as! [String: Any]
        process["capabilities"] = ["bounding": caps, "effective": caps, "permitted": caps]
        config["process"] = process
    }

    /// CVE-2019-5736: while a container's init is still crabcan (created, not started), a process of another
    /// container in the same pid namespace, with the same uid and capabilities, must not reach crabcan's
    /// binary through /proc/<init>/exe (it could keep an O_PATH fd and rewrite the host binary later).
    @Test func initIsNotReachableThroughProcExe() throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        let victim = box.id("exe-victim")
        let created = try box.bundle(["true"], name: "victim") { Self.withCaps(&$0, Self.defaultCaps) }
        #expect(box.crabcan(["create", "--bundle", created, victim]).status == 0)
        let initPID = try #require(box.pid(victim))
        let attacker = try box.bundle(["sh", "-c", "readlink /proc/1/exe; echo readlink=$?; cat /proc/1/exe > /dev/null; echo cat=$?"],
                                      name: "attacker") {
            Self.withCaps(&$0, Self.defaultCaps)
            var linux = $0["linux"] as! [String: Any]
            linux["namespaces"] = [["type": "pid", "path": "/proc/\(initPID)/ns/pid"], ["type": "mount"], ["type": "ipc"]]
            $0["linux"] = linux
            $0.removeValue(forKey: "hostname")
        }
        let result = box.crabcan(["run", "--bundle", attacker, box.id("exe-attacker")])
        #expect(result.status == 0, "\(result)")
        #expect(!result.stdout.contains("crabcan"), "the attacker saw the runtime binary: \(result)")
        #expect(result.stdoutLines.contains("readlink=1"), "\(result)")
        #expect(result.stdoutLines.contains("cat=1"), "\(result)")
    }

    /// CVE-2024-21626: an fd the caller left open (here 7, a directory of the host) does not reach the container,
    /// and a cwd naming it through /proc/self/fd cannot be entered.
    @Test func hostDescriptorsDoNotLeakAndCannotBeACwd() throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        let listing = try box.bundle(["sh", "-c", "ls /proc/self/fd | tr '\\n' ' '"], name: "list")
        let id = box.id("fdleak")
        let result = Command.run("/bin/sh", ["-c", "exec 7</etc 8</; exec \"$0\" --root \"$1\" run --bundle \"$2\" \"$3\"",
                                             Paths.binary, box.root, listing, id])
        #expect(result.status == 0, "\(result)")
        let fds = result.stdout.split(separator: " ").compactMap { Int($0) }
        #expect(!fds.contains(7) && !fds.contains(8), "host fds leaked: \(result)")
        let escape = try box.bundle(["sh", "-c", "ls /etc/hostname /etc/passwd"], name: "cwd") {
            var process = $0["process"] as! [String: Any]
            process["cwd"] = "/proc/self/fd/7"
            $0["process"] = process
        }
        let escapeID = box.id("fdcwd")
        let attempt = Command.run("/bin/sh", ["-c", "exec 7</etc; exec \"$0\" --root \"$1\" run --bundle \"$2\" \"$3\"",
                                              Paths.binary, box.root, escape, escapeID])
        #expect(attempt.status != 0, "a cwd through a leaked fd was entered: \(attempt)")
        #expect(!box.stateDirExists(escapeID))
    }

    /// CVE-2021-30465: a mount destination that is a symlink (absolute or with ..) in the rootfs is resolved
    /// inside the rootfs; nothing is mounted on the host path it names.
    @Test func symlinkedMountDestinationsStayInsideTheRootfs() throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        let hostTarget = box.dir + "/host-target"
        try FileManager.default.createDirectory(atPath: hostTarget, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: box.rootfs + "/evil", withDestinationPath: hostTarget)
        try FileManager.default.createSymbolicLink(atPath: box.rootfs + "/evil2", withDestinationPath: "../../../../../../" + hostTarget)
        let before = Host.mountinfo()
        let bundle = try box.bundle(["sh", "-c", "grep -c ' tmpfs ' /proc/self/mountinfo >/dev/null; ls -d \(hostTarget) && echo inside-exists"]) {
            var mounts = $0["mounts"] as! [[String: Any]]
            mounts.append(["destination": "/evil", "type": "tmpfs", "source": "tmpfs", "options": ["size=1m"]])
            mounts.append(["destination": "/evil2/sub", "type": "tmpfs", "source": "tmpfs", "options": ["size=1m"]])
            $0["mounts"] = mounts
        }
        let result = box.crabcan(["run", "--bundle", bundle, box.id("symlink")])
        #expect(result.status == 0, "\(result)")
        // Resolved inside: the directories were made under the rootfs, at the symlinks' in-root meaning.
        #expect(FileManager.default.fileExists(atPath: box.rootfs + hostTarget), "not resolved inside the rootfs")
        #expect(Host.mountinfo() == before, "the host's mount table changed")
        #expect((try? FileManager.default.contentsOfDirectory(atPath: hostTarget)) == [], "something was written to the host path")
    }

    /// CVE-2021-30465, the race: while containers are created, a process keeps swapping a directory on the mount
    /// destination's path for a symlink to a host directory. Every mount must still land inside the rootfs: the
    /// container sees its tmpfs (a mount made outside would vanish with the old root), or create fails cleanly.
    @Test func mountDestinationSwappedForASymlinkStaysInside() throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        let outside = box.dir + "/outside"
        try FileManager.default.createDirectory(atPath: outside, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: box.rootfs + "/vol/a", withIntermediateDirectories: true)
        let swap = "cd \(box.rootfs)/vol; while :; do mv a a.real 2>/dev/null; ln -s \(outside) a 2>/dev/null; "
            + "rm -f a; mv a.real a 2>/dev/null; done"
        let swapper = try Command("/bin/sh", ["-c", swap])
        defer { swapper.signal(SIGKILL) }
        let before = Host.mountinfo()
        let bundle = try box.bundle(["sh", "-c", "grep -c size=12k /proc/self/mountinfo"]) {
            var mounts = $0["mounts"] as! [[String: Any]]
            mounts.append(["destination": "/vol/a/mnt", "type": "tmpfs", "source": "tmpfs", "options": ["size=12k"]])
            $0["mounts"] = mounts
        }
        var made = 0
        for _ in 0..<30 {
            let id = box.id("race")
            let result = box.crabcan(["run", "--bundle", bundle, id])
            if result.status == 0 {
                made += 1
                #expect(result.stdoutLines == ["1"], "the tmpfs was not mounted inside the container: \(result)")
            } else {
                #expect(result.stderrLines.count == 1, "\(result)")
            }
            #expect(!box.stateDirExists(id))
        }
        #expect(made > 0, "no container got through the race at all")
        #expect((try FileManager.default.contentsOfDirectory(atPath: outside)).isEmpty, "something was made in the host directory")
        #expect(Host.mountinfo() == before)
    }
}
