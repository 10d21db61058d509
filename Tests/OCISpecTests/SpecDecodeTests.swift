import Testing
import JSON
import OCISpec

func decode(_ text: String) throws(SpecProblems) -> Spec {
    try Spec.decode(Array(text.utf8))
}

/// The descriptions of every problem in `text`, or [] when it decodes.
func problems(_ text: String) -> [String] {
    do {
        _ = try Spec.decode(Array(text.utf8))
        return []
    } catch {
        return error.problems.map(\.description)
    }
}

@Suite struct SpecDecodeTests {
    @Test func decodesRuncDefault() throws {
        let spec = try decode(runcDefaultConfig)
        #expect(spec.ociVersion == "1.0.2-dev")
        let process = try #require(spec.process)
        #expect(process.terminal)
        #expect(process.user == User(uid: 0, gid: 0))
        #expect(process.args == ["sh"])
        #expect(process.cwd == "/")
        #expect(process.capabilities?.ambient == ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"])
        #expect(process.capabilities?.inheritable == [])
        #expect(process.rlimits == [Process.Rlimit(type: "RLIMIT_NOFILE", hard: 1024, soft: 1024)])
        #expect(process.noNewPrivileges)
        #expect(spec.root == Root(path: "rootfs", readonly: true))
        #expect(spec.hostname == "runc")
        #expect(spec.mounts.count == 7)
        #expect(spec.mounts[2] == Mount(destination: "/dev/pts", type: "devpts", source: "devpts",
                                        options: ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]))
        let linux = try #require(spec.linux)
        #expect(linux.namespaces.map(\.type) == [.pid, .network, .ipc, .uts, .mount])
        #expect(linux.resources?.devices == [DeviceCgroupRule(allow: false, access: "rwm")])
        #expect(linux.maskedPaths.count == 10)
        #expect(linux.readonlyPaths == ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"])
        #expect(spec.hooks == nil)
        #expect(spec.annotations.isEmpty)
    }

    @Test func decodesEverySectionOfARichConfig() throws {
        let spec = try decode(richConfig)
        #expect(spec.ociVersion == "1.3.0")
        let p = try #require(spec.process)
        #expect(p.consoleSize == Process.ConsoleSize(height: 24, width: 80))
        #expect(p.user == User(uid: 1000, gid: 1000, umask: 18, additionalGids: [5, UInt32.max], username: "u"))
        #expect(p.args == ["/bin/sh", "-c", "echo \"hi\" \\ there"])
        #expect(p.commandLine == "cmd.exe /c")
        #expect(p.env == ["PATH=/bin", "HOME=/root"])
        #expect(p.cwd == "/work")
        #expect(p.capabilities == Process.Capabilities(
            bounding: ["CAP_CHOWN"], effective: ["CAP_KILL"], inheritable: ["CAP_SETUID"],
            permitted: ["CAP_CHOWN", "CAP_KILL"], ambient: ["CAP_NET_RAW"]))
        #expect(p.rlimits == [Process.Rlimit(type: "RLIMIT_NOFILE", hard: UInt64.max, soft: 1024)])
        #expect(p.apparmorProfile == "docker-default")
        #expect(p.oomScoreAdj == -1000)
        #expect(p.selinuxLabel == "system_u:system_r:container_t:s0")
        #expect(p.ioPriority == Process.IOPriority(class: "IOPRIO_CLASS_BE", priority: 4))
        #expect(p.scheduler == Process.Scheduler(
            policy: "SCHED_DEADLINE", nice: -20, priority: 1, flags: ["SCHED_FLAG_RESET_ON_FORK"],
            runtime: 1000, deadline: 2000, period: 3000))
        #expect(p.execCPUAffinity == Process.ExecCPUAffinity(initial: "0-3", final: "1"))

        #expect(spec.root == Root(path: "/var/lib/rootfs", readonly: false))
        #expect(spec.hostname == "box")
        #expect(spec.domainname == "example.org")
        #expect(spec.mounts[0].uidMappings == [IDMapping(containerID: 0, hostID: 100_000, size: 65536)])
        #expect(spec.mounts[0].options == ["rbind", "ro"])
        // runtime-spec still allows a relative destination (relative to "/").
        #expect(spec.mounts[1] == Mount(destination: "relative/ok"))

        let hooks = try #require(spec.hooks)
        #expect(hooks.prestart == [Hook(path: "/usr/bin/old")])
        #expect(hooks.createRuntime == [Hook(path: "/usr/bin/hook", args: ["hook", "create"], env: ["A=1"], timeout: 5)])
        #expect(hooks.createContainer.map(\.path) == ["/cc"])
        #expect(hooks.startContainer.map(\.path) == ["/sc"])
        #expect(hooks.poststart.map(\.path) == ["/ps"])
        #expect(hooks.poststop == [Hook(path: "/pst", timeout: 1)])
        #expect(spec.annotations == ["org.example.key": "value", "empty": ""])

        let linux = try #require(spec.linux)
        #expect(linux.namespaces.count == 8)
        #expect(linux.namespaces[1] == Namespace(type: .network, path: "/var/run/netns/x"))
        #expect(Set(linux.namespaces.map(\.type)) == Set(NamespaceType.allCases))
        #expect(linux.uidMappings == [IDMapping(containerID: 0, hostID: 1000, size: 1)])
        #expect(linux.timeOffsets == ["monotonic": TimeOffset(secs: Int64.min, nanosecs: UInt32.max), "boottime": TimeOffset(secs: 1)])
        #expect(linux.devices == [
            Device(type: "c", path: "/dev/fuse", major: 10, minor: 229, fileMode: 0o666, uid: 0, gid: 0),
            Device(type: "p", path: "/dev/fifo"),
        ])
        #expect(linux.netDevices == ["eth1": Linux.NetDevice(name: "ctr0"), "eth2": Linux.NetDevice()])
        #expect(linux.cgroupsPath == "/crabcan/box")
        #expect(linux.rootfsPropagation == "rslave")
        #expect(linux.sysctl == ["net.ipv4.ip_forward": "1"])
        #expect(linux.maskedPaths == ["/proc/kcore"])
        #expect(linux.readonlyPaths == ["/proc/sys"])
        #expect(linux.mountLabel == "system_u:object_r:container_file_t:s0")
        #expect(linux.personality == Linux.Personality(domain: "LINUX32"))
        #expect(linux.intelRdt == Linux.IntelRdt(closID: "guaranteed", l3CacheSchema: "L3:0=7f0", memBwSchema: "MB:0=20",
                                                 schemata: ["L2:0=ff"], enableMonitoring: true))
        #expect(linux.memoryPolicy == Linux.MemoryPolicy(mode: "MPOL_BIND", nodes: "0-1", flags: ["MPOL_F_STATIC_NODES"]))

        let r = try #require(linux.resources)
        #expect(r.devices[1] == DeviceCgroupRule(allow: true, type: "c", major: 10, minor: 229, access: "rw"))
        #expect(r.memory == Resources.Memory(
            limit: 536_870_912, reservation: 268_435_456, swap: -1, kernel: 0, kernelTCP: 1, swappiness: 60,
            disableOOMKiller: false, useHierarchy: true, checkBeforeUpdate: true))
        #expect(r.cpu == Resources.CPU(
            shares: 1024, quota: -1, burst: 10, period: 100_000, realtimeRuntime: 950_000, realtimePeriod: 1_000_000,
            cpus: "0-1", mems: "0", idle: 1))
        #expect(r.pids == Resources.Pids(limit: -1))
        #expect(r.blockIO?.weight == 500)
        #expect(r.blockIO?.leafWeight == 300)
        #expect(r.blockIO?.weightDevice == [Resources.WeightDevice(major: 8, minor: 0, weight: 600, leafWeight: 65535)])
        #expect(r.blockIO?.throttleReadBpsDevice == [Resources.ThrottleDevice(major: 8, minor: 0, rate: 1_048_576)])
        #expect(r.blockIO?.throttleWriteBpsDevice.first?.rate == 2)
        #expect(r.blockIO?.throttleReadIOPSDevice.first?.rate == 3)
        #expect(r.blockIO?.throttleWriteIOPSDevice.first?.rate == 4)
        #expect(r.hugepageLimits == [Resources.HugepageLimit(pageSize: "2MB", limit: 209_715_200)])
        #expect(r.network == Resources.Network(classID: 1_048_577, priorities: [Resources.InterfacePriority(name: "eth0", priority: 500)]))
        #expect(r.rdma == ["mlx5_1": Resources.Rdma(hcaHandles: 3, hcaObjects: 10000)])
        #expect(r.unified == ["memory.high": "1G", "io.weight": "default 100"])

        let s = try #require(linux.seccomp)
        #expect(s.defaultAction == .errno)
        #expect(s.defaultErrnoRet == 1)
        #expect(s.architectures == ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"])
        #expect(s.flags == ["SECCOMP_FILTER_FLAG_LOG"])
        #expect(s.listenerPath == "/run/seccomp.sock")
        #expect(s.listenerMetadata == "meta")
        #expect(s.syscalls.count == 3)
        #expect(s.syscalls[1].args == [Seccomp.Arg(index: 0, value: UInt64.max, valueTwo: 0, op: .maskedEqual)])
        #expect(s.syscalls[2] == Seccomp.Syscall(names: ["kill"], action: .errno, errnoRet: 38,
                                                 args: [Seccomp.Arg(index: 1, value: 9, op: .equal)]))
    }

    @Test func richConfigRoundTripsThroughEncode() throws {
        let spec = try decode(richConfig)
        for pretty in [false, true] {
            let again = try Spec.decode(spec.encode(pretty: pretty))
            #expect(again == spec)
        }
        // Unknown fields (vm, windows, process.futureField) are not carried over.
        let text = String(decoding: spec.encode(pretty: false), as: UTF8.self)
        #expect(!text.contains("futureField"))
        #expect(!text.contains("hypervisor"))
        #expect(text.contains(#""value":18446744073709551615"#))
        #expect(text.contains(#""secs":-9223372036854775808"#))
    }

    @Test func nullIsTreatedAsAbsent() throws {
        let spec = try decode("""
            {"ociVersion": "1.0.0", "process": null, "root": {"path": "r", "readonly": null}, "hostname": null, "mounts": null,
             "hooks": {"prestart": null}, "annotations": null,
             "linux": {"namespaces": null, "resources": {"memory": {"limit": null}}, "seccomp": null, "sysctl": null}}
            """)
        #expect(spec.process == nil)
        #expect(spec.root == Root(path: "r"))
        #expect(spec.hostname == nil)
        #expect(spec.mounts.isEmpty)
        #expect(spec.hooks == Hooks())
        #expect(spec.annotations.isEmpty)
        #expect(spec.linux?.namespaces.isEmpty == true)
        #expect(spec.linux?.resources?.memory == Resources.Memory())
        #expect(spec.linux?.seccomp == nil)
        // A null required field is a missing one, as in Go.
        #expect(problems(#"{"ociVersion": null, "root": null}"#) == [".ociVersion: required field is missing", ".root: required field is missing"])
    }

    @Test func unknownFieldsAreIgnored() throws {
        let spec = try decode(#"{"ociVersion": "1.1.0", "x": [1, {"y": null}], "root": {"path": "r", "zzz": true}, "linux": {"new": 1}}"#)
        #expect(spec.root == Root(path: "r"))
        #expect(spec.linux == Linux())
    }

    @Test(arguments: ["1.0.0", "1.0.2-dev", "1.1.0-rc.1", "1.2.1", "1.3.0", "1.10.20+dev"])
    func acceptsAnyOneDotX(version: String) throws {
        #expect(try decode(#"{"ociVersion": "\#(version)", "root": {"path": "r"}}"#).ociVersion == version)
    }

    @Test(arguments: ["2.0.0", "abc", "0.9.0", "1", "1.0", "1.x.0", "", "1.0.0garbage", "v1.0.0"])
    func refusesOtherVersions(version: String) {
        #expect(problems(#"{"ociVersion": "\#(version)", "root": {"path": "r"}}"#) == [
            ".ociVersion: unsupported ociVersion \"\(version)\" (crabcan supports 1.x)",
        ])
    }
}
