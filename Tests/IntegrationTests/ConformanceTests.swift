import Foundation
import Testing

/// Issue 12: configs the runtime-tools validation suite writes, run at crabcan's own level (what the container saw).
extension CrabcanCLI {
    /// A `sleep` in new mount and uts namespaces of its own, made by util-linux unshare outside any container.
    static func namespaceHolder() throws -> Command {
        let holder = try Command("/usr/bin/unshare", ["--mount", "--uts", "--propagation", "private", "/bin/sleep", "100"])
        _ = eventually { Host.cmdline(holder.pid).first == "/bin/sleep" }
        return holder
    }

    static func link(_ path: String) -> String { (try? FileManager.default.destinationOfSymbolicLink(atPath: path)) ?? "?" }

    /// 12.3 (file linux_ns_path): a mount and a uts namespace given by path are joined; the hostname is set there.
    @Test func mountAndUTSNamespacesAreJoinedByPathWithTheHostname() throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        let holder = try Self.namespaceHolder()
        defer { holder.signal(SIGKILL); _ = holder.wait() }
        let ns = { (type: String) in "/proc/\(holder.pid)/ns/\(type)" }
        let hostHostname = Command.run("/usr/bin/hostname", []).stdout
        let bundle = try box.bundle(["sh", "-c", "hostname; readlink /proc/self/ns/mnt; readlink /proc/self/ns/uts"]) {
            var linux = $0["linux"] as! [String: Any]
            linux["namespaces"] = [["type": "mount", "path": ns("mnt")], ["type": "uts", "path": ns("uts")],
                                   ["type": "pid"], ["type": "ipc"]]
            $0["linux"] = linux
            $0["hostname"] = "joined-uts"
        }
        let result = box.crabcan(["run", "--bundle", bundle, box.id("nsjoin")])
        #expect(result.status == 0, "\(result)")
        #expect(result.stdoutLines == ["joined-uts", Self.link(ns("mnt")), Self.link(ns("uts"))], "\(result)")
        // The holder's namespace took the name; the host's did not.
        #expect(Command.run("/usr/bin/nsenter", ["-t", "\(holder.pid)", "-u", "hostname"]).stdoutLines == ["joined-uts"])
        #expect(Command.run("/usr/bin/hostname", []).stdout == hostHostname)
    }

    /// Joining the runtime's own uts or mount namespace would rename the host or pivot its root: refused.
    @Test func theRuntimesOwnUTSAndMountNamespacesAreRefused() throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        let hostHostname = Command.run("/usr/bin/hostname", []).stdout
        for (type, link) in [("uts", "uts"), ("mount", "mnt")] {
            let own = "/proc/\(getpid())/ns/\(link)"
            let bundle = try box.bundle(["true"], name: "own-\(type)") {
                var linux = $0["linux"] as! [String: Any]
                linux["namespaces"] = [["type": "mount"], ["type": "uts"], ["type": "pid"]].map {
                    $0["type"] == type ? ["type": type, "path": own] : $0
                }
                $0["linux"] = linux
                $0["hostname"] = "must-not-be-set"
            }
            let result = box.crabcan(["run", "--bundle", bundle, box.id("own-\(type)")])
            #expect(result.status == 1)
            let index = type == "mount" ? 0 : 1
            #expect(result.stderr.contains(".linux.namespaces[\(index)].path: \(own) is the runtime's own \(type) namespace"), "\(result)")
        }
        #expect(Command.run("/usr/bin/hostname", []).stdout == hostHostname)
        // Without a hostname the runtime's own uts namespace may be joined: containerd's CRI does so for a
        // host-network pod, and runc runs it. The container sees the host's name.
        let bundle = try box.bundle(["hostname"], name: "own-uts-plain") {
            var linux = $0["linux"] as! [String: Any]
            linux["namespaces"] = [["type": "mount"], ["type": "uts", "path": "/proc/\(getpid())/ns/uts"], ["type": "pid"]]
            $0["linux"] = linux
            $0.removeValue(forKey: "hostname")
        }
        let plain = box.crabcan(["run", "--bundle", bundle, box.id("own-uts-plain")])
        #expect(plain.status == 0 && plain.stdout == hostHostname, "\(plain)")
    }

    /// 12.6 (file linux_mount_label): without SELinux a mount label alone is dropped with a warning, the container
    /// runs and no mount carries a context; with a process label the config is still refused (docs/conformance.md).
    @Test(.enabled(if: !((try? String(contentsOfFile: "/proc/filesystems", encoding: .utf8))?.contains("selinuxfs") ?? true),
                   "the host has SELinux"))
    func mountLabelWithoutSELinuxIsIgnoredWithAWarning() throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        let label = "system_u:object_r:svirt_sandbox_file_t:s0:c715,c811"
        let bundle = try box.bundle(["sh", "-c", "echo ran; grep -c context= /proc/self/mountinfo"]) {
            var linux = $0["linux"] as! [String: Any]
            linux["mountLabel"] = label
            $0["linux"] = linux
        }
        let log = box.dir + "/log"
        let result = box.crabcan(["--log", log, "run", "--bundle", bundle, box.id("mountlabel")])
        #expect(result.stdoutLines == ["ran", "0"], "\(result)")
        let warned = ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "") + result.stderr
        // (The log quotes the message, so its inner quotes are escaped there.)
        #expect(warned.contains(".linux.mountLabel: SELinux is not enabled on this host; mount label") && warned.contains("ignored"), "\(warned)")
        let labeled = try box.bundle(["true"], name: "with-process-label") {
            var linux = $0["linux"] as! [String: Any]
            linux["mountLabel"] = label
            $0["linux"] = linux
            var process = $0["process"] as! [String: Any]
            process["selinuxLabel"] = "system_u:system_r:svirt_lxc_net_t:s0:c715,c811"
            $0["process"] = process
        }
        let refused = box.crabcan(["run", "--bundle", labeled, box.id("processlabel")])
        #expect(refused.status == 1)
        #expect(refused.stderr.contains(".process.selinuxLabel: SELinux is not enabled on this host"), "\(refused)")
    }
}

/// 12.7: fields that were read and not applied. The scheduler, I/O priority and memory policy reach the
/// container's process; execCPUAffinity applies to exec (config.md: not to the init); netDevices are moved.
extension CrabcanCLI {
    static func withScheduling(_ config: inout [String: Any]) {
        var process = config["process"] as! [String: Any]
        process["scheduler"] = ["policy": "SCHED_BATCH", "nice": 5]
        process["ioPriority"] = ["class": "IOPRIO_CLASS_BE", "priority": 6]
        process["execCPUAffinity"] = ["initial": "0", "final": "0"]
        config["process"] = process
        var linux = config["linux"] as! [String: Any]
        linux["memoryPolicy"] = ["mode": "MPOL_BIND", "nodes": "0"]
        config["linux"] = linux
    }

    @Test func schedulerIOPriorityAndMemoryPolicyReachTheProcess() throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        let cpus = Command.run("/bin/sh", ["-c", "grep Cpus_allowed_list /proc/self/status"]).stdout
        let bundle = try box.bundle(["sh", "-c", "cut -d' ' -f19,41 /proc/self/stat; ionice; "
                                     + "grep -c ' bind:0 ' /proc/self/numa_maps >/dev/null && echo bound; grep Cpus_allowed_list /proc/self/status"],
                                    edit: Self.withScheduling)
        let log = box.dir + "/sched.log"
        let result = box.crabcan(["--log", log, "run", "--bundle", bundle, box.id("sched")])
        #expect(result.status == 0, "\(result)")
        // nice 5, policy 3 (SCHED_BATCH); best-effort 6; MPOL_BIND to node 0; the init's affinity untouched.
        #expect(result.stdoutLines == ["5 3", "best-effort: prio 6", "bound", cpus.trimmingCharacters(in: .newlines)], "\(result)")
        // Runtime notes go to the log, never to the container's stderr (docs/design.md §4.9).
        #expect(result.stderr.isEmpty, "\(result)")
        let logged = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        #expect(logged.contains(".process.execCPUAffinity: does not apply to the container's init process"), "\(logged)")
    }

    @Test func execTakesItsSchedulerAndCPUAffinity() throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        let id = box.id("exec-sched")
        let bundle = try box.bundle(["sleep", "100"])
        #expect(box.crabcan(["run", "--detach", "--bundle", bundle, id]).status == 0)
        let file = box.dir + "/process.json"
        try #"{"args":["sh","-c","cut -d' ' -f19,41 /proc/self/stat; grep Cpus_allowed_list /proc/self/status"],"cwd":"/","user":{"uid":0,"gid":0},"scheduler":{"policy":"SCHED_IDLE"},"execCPUAffinity":{"initial":"0","final":"0"}}"#
            .write(toFile: file, atomically: true, encoding: .utf8)
        let result = box.crabcan(["exec", "--process", file, id])
        #expect(result.stdoutLines.map { $0.split(whereSeparator: { $0 == " " || $0 == "\t" }).joined(separator: " ") }
                == ["0 5", "Cpus_allowed_list: 0"], "\(result)")
        try #"{"args":["true"],"cwd":"/","user":{"uid":0,"gid":0},"execCPUAffinity":{"final":"0-x"}}"#
            .write(toFile: file, atomically: true, encoding: .utf8)
        let bad = box.crabcan(["exec", "--process", file, id])
        #expect(bad.status == 255 && bad.stderr.contains(".execCPUAffinity.final: invalid list \"0-x\""), "\(bad)")
    }

    /// Refused with their JSON paths by create and by check, never ignored.
    @Test func unappliableSchedulingAndNetDevicesAreRefusedWithTheirPath() throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        let cases: [(String, (inout [String: Any]) -> Void)] = [
            (".linux.netDevices[\"crabcan-nodev0\"]: no network device \"crabcan-nodev0\" in the runtime's network namespace", {
                var linux = $0["linux"] as! [String: Any]
                linux["netDevices"] = ["crabcan-nodev0": ["name": "eth9"]]
                $0["linux"] = linux
            }),
            (".process.scheduler.policy: SCHED_ISO is not implemented by Linux", {
                var process = $0["process"] as! [String: Any]
                process["scheduler"] = ["policy": "SCHED_ISO"]
                $0["process"] = process
            }),
            (".process.scheduler.priority: SCHED_FIFO needs a priority in 1...99, got 0", {
                var process = $0["process"] as! [String: Any]
                process["scheduler"] = ["policy": "SCHED_FIFO"]
                $0["process"] = process
            }),
            (".linux.memoryPolicy.nodes: MPOL_BIND needs nodes", {
                var linux = $0["linux"] as! [String: Any]
                linux["memoryPolicy"] = ["mode": "MPOL_BIND"]
                $0["linux"] = linux
            }),
        ]
        for (index, (message, edit)) in cases.enumerated() {
            let bundle = try box.bundle(["true"], name: "refused-\(index)", edit: edit)
            let id = box.id("refused")
            let result = box.crabcan(["create", "--bundle", bundle, id])
            #expect(result.status == 1 && result.stderr.contains(message), "\(result)")
            #expect(!box.stateDirExists(id))
            let check = Command.run(Paths.binary, ["check", "--bundle", bundle])
            #expect(check.status == 1 && check.stdout.contains(message), "\(check)")
        }
    }
}

/// 12.2 (file linux_ns_itype): a namespace type missing from linux.namespaces is inherited from the runtime,
/// mount included: the container's mounts are made in the runtime's namespace under <state>/rootfs (HostRoot),
/// entered by chroot, and nothing of them is left on the host after delete, a failed create or a killed one.
extension CrabcanCLI {
    static func withoutNamespaces(_ config: inout [String: Any]) {
        var linux = config["linux"] as! [String: Any]
        linux["namespaces"] = [[String: Any]]()
        config["linux"] = linux
        config.removeValue(forKey: "hostname")
    }

    /// Host mounts whose mount point lies under `dir` (the sandbox: its rootfs and its state root).
    static func mountsUnder(_ dir: String) -> [String] {
        Host.mountinfo().split(separator: "\n").map(String.init).filter {
            let fields = $0.split(separator: " ")
            return fields.count > 4 && fields[4].hasPrefix(dir)
        }
    }

    @Test func missingNamespaceTypesAreInheritedMountIncluded() throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        let rootPropagation = Host.mountinfo().split(separator: "\n").first { $0.split(separator: " ")[4] == "/" }
        let id = box.id("inherit")
        let bundle = try box.bundle(["sh", "-c", "for n in mnt pid net uts; do readlink /proc/self/ns/$n; done; "
                                     + "ls /bin/busybox; sleep 100"], edit: Self.withoutNamespaces)
        #expect(box.crabcan(["run", "--detach", "--bundle", bundle, id]).status == 0)
        // While it runs, its mounts are all under its state dir, none elsewhere on the host.
        let during = Self.mountsUnder(box.dir)
        #expect(!during.isEmpty && during.allSatisfy { $0.split(separator: " ")[4].hasPrefix(box.root + "/" + id + "/rootfs") }, "\(during)")
        let exec = box.crabcan(["exec", id, "sh", "-c", "readlink /proc/self/ns/mnt; ls /bin/busybox; pwd"])
        let hostMnt = Self.link("/proc/self/ns/mnt")
        #expect(exec.stdoutLines == [hostMnt, "/bin/busybox", "/"], "\(exec)")
        #expect(box.crabcan(["delete", "--force", id]).status == 0)
        #expect(Self.mountsUnder(box.dir).isEmpty, "\(Self.mountsUnder(box.dir))")
        #expect(Host.mountinfo().split(separator: "\n").first { $0.split(separator: " ")[4] == "/" } == rootPropagation)
        // Run to the end: the container saw the runtime's namespaces and its own root.
        let run = box.crabcan(["run", "--bundle", try box.bundle(["sh", "-c", "for n in mnt pid; do readlink /proc/self/ns/$n; done; ls /bin/busybox"],
                                                                 name: "inherit-run", edit: Self.withoutNamespaces), box.id("inherit-run")])
        #expect(run.stdoutLines == [hostMnt, Self.link("/proc/self/ns/pid"), "/bin/busybox"], "\(run)")
        #expect(Self.mountsUnder(box.dir).isEmpty, "\(Self.mountsUnder(box.dir))")
    }

    @Test func inheritedMountNamespaceLeavesNoMountAfterAFailedOrKilledCreate() throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        let failing = try box.bundle(["true"], name: "failing") {
            Self.withoutNamespaces(&$0)
            $0["mounts"] = ($0["mounts"] as! [[String: Any]]) + [["destination": "/mnt", "type": "nosuchfs", "source": "none"]]
        }
        let id = box.id("inherit-fail")
        let failed = box.crabcan(["create", "--bundle", failing, id])
        #expect(failed.status == 1 && failed.stderr.contains("/mnt"), "\(failed)")
        #expect(!box.stateDirExists(id))
        #expect(Self.mountsUnder(box.dir).isEmpty, "\(Self.mountsUnder(box.dir))")

        let killed = box.id("inherit-killed")
        let bundle = try box.bundle(["sleep", "30"], name: "killed", edit: Self.withoutNamespaces)
        let create = box.crabcan(fault: "mid-mount", ["create", "--bundle", bundle, killed])
        #expect(diedAtFault(create), "\(create)")
        #expect(box.crabcan(["delete", "--force", killed]).status == 0)
        #expect(!box.stateDirExists(killed))
        #expect(Self.mountsUnder(box.dir).isEmpty, "\(Self.mountsUnder(box.dir))")
    }
}

/// File `start` (not ok 7): config.md makes `process` optional; create succeeds, start MUST fail (runtime.md),
/// and the container is then stopped and deletable.
extension CrabcanCLI {
    @Test func configWithoutProcessIsCreatedAndItsStartFails() throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        let bundle = try box.bundle(["true"]) { $0.removeValue(forKey: "process") }
        let id = box.id("noprocess")
        let log = box.dir + "/noprocess.log"
        let create = box.crabcan(["--log", log, "create", "--bundle", bundle, id])
        #expect(create.status == 0 && create.stderr.isEmpty, "\(create)")
        let logged = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        #expect(logged.contains(".process: absent: the container can be created, not started"), "\(logged)")
        #expect(box.status(id) == "created")
        let start = box.crabcan(["start", id])
        #expect(start.status == 1 && start.stderrLines == ["crabcan: cannot start a container without process in its config.json"], "\(start)")
        #expect(box.waitForStatus(id, "stopped"))
        #expect(box.crabcan(["delete", id]).status == 0)
        #expect(!box.stateDirExists(id))
    }
}

extension CrabcanCLI {
    /// 12.7, linux.netDevices: a host device (one end of a veth pair made here) moves into the container's
    /// network namespace under its new name, leaves the host's, and goes when the container's namespace goes.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/sbin/ip"), "no ip(8)"))
    func netDeviceMovesIntoTheContainerWithItsNewName() throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        let host = "crabnd\(getpid() % 100000)"
        let made = Command.run("/usr/sbin/ip", ["link", "add", host, "type", "veth", "peer", "name", host + "p"])
        try #require(made.status == 0, "veth: \(made)")
        defer { Command.run("/usr/sbin/ip", ["link", "del", host]) }
        let id = box.id("netdev")
        let bundle = try box.bundle(["sh", "-c", "ls /sys/class/net; sleep 100"]) {
            var linux = $0["linux"] as! [String: Any]
            linux["netDevices"] = [host: ["name": "eth9"]]
            $0["linux"] = linux
        }
        #expect(box.crabcan(["run", "--detach", "--bundle", bundle, id]).status == 0)
        let inside = box.crabcan(["exec", id, "ls", "/sys/class/net"])
        #expect(inside.stdoutLines.sorted() == ["eth9", "lo"], "\(inside)")
        #expect(Command.run("/usr/sbin/ip", ["link", "show", host]).status != 0, "still on the host")
        #expect(box.crabcan(["delete", "--force", id]).status == 0)
        // A veth dies with the namespace it is in, and takes its peer with it.
        #expect(eventually { Command.run("/usr/sbin/ip", ["link", "show", host + "p"]).status != 0 })
    }
}
