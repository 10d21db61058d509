import Foundation
@testable import Plan
import Testing
import Capabilities
@testable import Launcher
import OCISpec
@testable import Runtime

/// The checks `crabcan check` and `create` share, without running a container.
@Suite struct ConfigCheckTests {
    @Test func idMappingsMustFitAndNotOverlap() {
        let path = ".linux.uidMappings"
        func problems(_ maps: [IDMapping]) -> [String] {
            ConfigChecks.mappings(maps, path: path, kind: "uid").map(\.description)
        }
        #expect(problems([IDMapping(containerID: 0, hostID: 100_000, size: 65536)]).isEmpty)
        #expect(problems([IDMapping(containerID: 0, hostID: 100_000, size: 10), IDMapping(containerID: 5, hostID: 200_000, size: 10)])
            == [".linux.uidMappings[1].containerID: container uids 5...14 overlap .linux.uidMappings[0] (0...9)"])
        #expect(problems([IDMapping(containerID: 0, hostID: 1000, size: 1), IDMapping(containerID: 1, hostID: 1000, size: 1)])
            == [".linux.uidMappings[1].hostID: host uids 1000...1000 overlap .linux.uidMappings[0] (1000...1000)"])
        #expect(problems([IDMapping(containerID: 4_294_967_295, hostID: 0, size: 1)])
            == [".linux.uidMappings[0].containerID: container uids 4294967295...4294967295 go past 4294967294, the highest uid"])
        // The last usable id is fine: the kernel only refuses (uid_t)-1 and wrap-around.
        #expect(problems([IDMapping(containerID: 0, hostID: 4_294_967_294, size: 1)]).isEmpty)
        #expect(problems([IDMapping(containerID: 0, hostID: 0, size: 0)]) == [".linux.uidMappings[0].size: must be greater than zero"])
        let many = (0..<341).map { IDMapping(containerID: UInt32($0), hostID: UInt32(1000 + $0), size: 1) }
        #expect(problems(many) == [".linux.uidMappings: 341 mappings; the kernel takes at most 340"])
    }

    @Test func userNamespacesNeedMappingsThatCoverTheProcess() {
        func problems(_ linux: Linux, user: User = User()) -> [String] {
            let created = NamespaceSet(linux.namespaces.filter { $0.path == nil }.map(\.type))
            return ConfigChecks.userNamespace(linux: linux, process: OCISpec.Process(user: user, args: ["sh"]),
                                              created: created, joined: []).map(\.description)
        }
        #expect(problems(Linux(namespaces: [Namespace(type: .user)])) == [
            ".linux.uidMappings: a new user namespace needs uid mappings",
            ".linux.gidMappings: a new user namespace needs gid mappings",
        ])
        let maps = [IDMapping(containerID: 0, hostID: 100_000, size: 1000)]
        #expect(problems(Linux(uidMappings: maps)) == [".linux.uidMappings: needs a new user namespace in .linux.namespaces"])
        #expect(problems(Linux(namespaces: [Namespace(type: .user)], uidMappings: maps, gidMappings: maps),
                         user: User(uid: 1000, gid: 5, additionalGids: [999, 2000])) == [
            ".process.user.uid: 1000 is not mapped by .linux.uidMappings",
            ".process.user.additionalGids[1]: 2000 is not mapped by .linux.gidMappings",
        ])
    }

    @Test func destinationsThatClimbOutOfTheRoot() {
        for path in ["/..", "/../etc", "/a/../../b", "/a/./../.."] { #expect(ConfigChecks.climbsAboveRoot(path), "\(path)") }
        for path in ["/", "/a/..", "/a/b/../c", "/./a", "/..a", "/.../x", "a/../b", "", "//a//..//"] { #expect(!ConfigChecks.climbsAboveRoot(path), "\(path)") }
        for path in ["..", "a/../..", "/a/../..x/../.."] { #expect(ConfigChecks.climbsAboveRoot(path), "\(path)") }
    }

    /// The program is looked for as the init will look for it, inside the rootfs: a symlink there that points
    /// at a host path is followed inside, never onto the host.
    @Test func programIsLookedForInTheRootfs() throws {
        let dir = NSTemporaryDirectory() + "crabcan-check-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let rootfs = dir + "/rootfs", tools = dir + "/tools"
        let fm = FileManager.default
        for sub in ["/bin", "/usr", "/opt", "/mnt/tools"] { try fm.createDirectory(atPath: rootfs + sub, withIntermediateDirectories: true) }
        try fm.createDirectory(atPath: tools, withIntermediateDirectories: true)
        _ = fm.createFile(atPath: rootfs + "/bin/tool", contents: Data(), attributes: [.posixPermissions: 0o755])
        _ = fm.createFile(atPath: rootfs + "/bin/data", contents: Data(), attributes: [.posixPermissions: 0o644])
        _ = fm.createFile(atPath: tools + "/helper", contents: Data(), attributes: [.posixPermissions: 0o755])
        try fm.createSymbolicLink(atPath: rootfs + "/usr/bin", withDestinationPath: "/bin")
        // On the host /bin/sh exists; in this rootfs it does not.
        try fm.createSymbolicLink(atPath: rootfs + "/bin/hostsh", withDestinationPath: "/../../../bin/sh")

        func look(_ args: [String], path: String = "/usr/bin", cwd: String = "/",
                  mounts: [ContainerPlan.PlannedMount] = []) -> String? {
            let process = OCISpec.Process(args: args, env: ["PATH=" + path], cwd: cwd)
            return ConfigChecks.program(process, rootfs: rootfs, mounts: mounts, searchPath: path)?.description
        }
        #expect(look(["tool"]) == nil, "found through the rootfs's own /usr/bin -> /bin")
        #expect(look(["/usr/bin/tool", "-x"]) == nil)
        #expect(look(["./tool"], cwd: "/bin") == nil)
        #expect(look(["tool"], path: "bin", cwd: "/") == nil, "a relative PATH entry is relative to cwd")
        #expect(look(["hostsh"]) == #".process.args[0]: "hostsh": executable file not found in $PATH (/usr/bin)"#)
        #expect(look(["/bin/hostsh"]) == #".process.args[0]: "/bin/hostsh": no such file or directory in the rootfs"#)
        #expect(look(["data"]) == #".process.args[0]: "/usr/bin/data": permission denied (is not executable)"#)
        #expect(look(["/opt"]) == #".process.args[0]: "/opt": permission denied (is a directory)"#)
        #expect(look([""]) == ".process.args[0]: must not be empty")

        let bind = ContainerPlan.PlannedMount(source: tools, destination: "/mnt/tools", type: "bind",
                                              options: MountOptions(["rbind"], type: "bind"))
        let tmpfs = ContainerPlan.PlannedMount(source: "tmpfs", destination: "/opt", type: "tmpfs", options: MountOptions([], type: "tmpfs"))
        #expect(look(["/mnt/tools/helper"], mounts: [bind]) == nil, "found in the bind mount's source")
        #expect(look(["/mnt/tools/helper"]) == #".process.args[0]: "/mnt/tools/helper": no such file or directory in the rootfs"#)
        #expect(look(["/mnt/tools/missing"], mounts: [bind]) == #".process.args[0]: "/mnt/tools/missing": no such file or directory in the rootfs"#)
        #expect(look(["/opt/app"], mounts: [tmpfs]) == nil, "what a tmpfs will hold is not known before")
    }

    /// Every problem at once, where create used to stop at the first.
    @Test func planCheckCollectsEveryProblem() {
        var spec = Spec.makeDefault(rootless: false)
        spec.root = Root(path: "/")
        spec.process?.args = ["/bin/sh"]
        spec.process?.capabilities?.bounding += ["CAP_A", "CAP_B"]
        spec.process?.rlimits.append(Process.Rlimit(type: "RLIMIT_CORE", hard: 1, soft: 2))
        spec.mounts.append(Mount(destination: "/../x", type: "tmpfs"))
        spec.linux?.sysctl = ["vm.swappiness": "1", "net.core.somaxconn": "1"]
        spec.linux?.namespaces.removeAll { $0.type == .network }
        let check = ContainerPlan.check(spec: spec, bundle: "/", lsm: LSMHost(appArmor: false, seLinux: false))
        #expect(check.plan == nil)
        #expect(check.errors.map(\.description) == [
            #".mounts[7].destination: "/../x" climbs out of the container's root with "..""#,
            #".process.capabilities.bounding[3]: unknown capability "CAP_A""#,
            #".process.capabilities.bounding[4]: unknown capability "CAP_B""#,
            ".process.rlimits[1]: soft limit 2 is above hard limit 1",
            #".linux.sysctl["net.core.somaxconn"]: needs a new network namespace"#,
            #".linux.sysctl["vm.swappiness"]: not a namespaced sysctl; it would change the host"#,
        ])
        spec = Spec.makeDefault(rootless: false)
        spec.root = Root(path: "/")
        spec.process?.args = ["/bin/sh"]
        let clean = ContainerPlan.check(spec: spec, bundle: "/", lsm: LSMHost(appArmor: false, seLinux: false))
        #expect(clean.errors.isEmpty && clean.plan != nil, "\(clean.errors)")
    }

    /// After the decoder refused a field, what later checks say about it (or about an array whose indexes it
    /// shifted) is left out; the rest stays.
    @Test func problemsAboutRefusedFieldsAreLeftOut() {
        #expect(BundleReport.isRelated(".process", ".process.user.uid"))
        #expect(BundleReport.isRelated(".process.user.uid", ".process.user"))
        #expect(BundleReport.isRelated(".mounts[3].destination", ".mounts[1].type"))
        #expect(BundleReport.isRelated(".mounts[1]", ".mounts[1].type"))
        #expect(!BundleReport.isRelated(".mounts[0].destination", ".mounts[1].type"), "before the dropped element: same index")
        #expect(!BundleReport.isRelated(".process.args[0]", ".process.user.uid"))
        #expect(!BundleReport.isRelated(".processes", ".process"))
        #expect(BundleReport.isRelated(".linux.seccomp.syscalls[2].names[0]", ".linux.seccomp.syscalls[1].action"))
    }
}

/// `crabcan spec` flags, as the config they produce.
@Suite struct SpecFlagsTests {
    let here = FileManager.default.currentDirectoryPath

    func spec(_ edit: (inout SpecOptions) -> Void) throws -> Spec {
        var options = SpecOptions()
        options.hostname = "fixed"
        edit(&options)
        return try Runtime.makeSpec(bundle: here + "/bundle", options: options)
    }

    func refusal(_ edit: (inout SpecOptions) -> Void) -> String {
        do {
            _ = try spec(edit)
            return "accepted"
        } catch {
            return "\(error)"
        }
    }

    @Test func withoutFlagsItIsTheDefaultSpecWithARandomReadableHostname() throws {
        var options = SpecOptions()
        let spec = try Runtime.makeSpec(bundle: ".", options: options)
        let hostname = try #require(spec.hostname)
        #expect(hostname.split(separator: "-").count == 3, "\(hostname)")
        #expect(hostname.split(separator: "-").last.flatMap { Int($0) }.map { (0...999).contains($0) } == true)
        var expected = Spec.makeDefault(rootless: false)
        expected.hostname = hostname
        #expect(spec == expected)
        options.hostname = "box"
        #expect(try Runtime.makeSpec(bundle: ".", options: options).hostname == "box")
        let names = Set((0..<20).map { _ in HostnameGenerator.random() })
        #expect(names.count > 1)
    }

    @Test func processFlags() throws {
        let s = try spec {
            $0.args = ["/bin/sh", "-c", "id"]
            $0.user = "1000:100"
            $0.cwd = "/tmp"
            $0.env = ["FOO=bar", "PATH=/bin", "EMPTY="]
            $0.terminal = true
        }
        let p = try #require(s.process)
        #expect(p.args == ["/bin/sh", "-c", "id"])
        #expect(p.user == User(uid: 1000, gid: 100))
        #expect(p.cwd == "/tmp")
        #expect(p.env == ["TERM=xterm", "FOO=bar", "PATH=/bin", "EMPTY="])
        #expect(p.terminal)
        #expect(try spec { $0.user = "7" }.process?.user == User(uid: 7, gid: 0))
        #expect(refusal { $0.user = "bob" } == #"--user: expected UID[:GID] (numbers), got "bob""#)
        #expect(refusal { $0.user = "1:2:3" } == #"--user: expected UID[:GID] (numbers), got "1:2:3""#)
        #expect(refusal { $0.cwd = "tmp" } == #"--cwd: expected an absolute path, got "tmp""#)
        #expect(refusal { $0.env = ["=x"] } == #"--env: expected K=V, got "=x""#)
        #expect(refusal { $0.hostname = String(repeating: "h", count: 65) }.hasPrefix("--hostname:"))
    }

    @Test func resourceFlags() throws {
        let s = try spec {
            $0.memory = 64 << 20
            $0.pids = 20
            $0.cpuShares = 512
        }
        let r = try #require(s.linux?.resources)
        #expect(r.memory == Resources.Memory(limit: 64 << 20))
        #expect(r.pids == Resources.Pids(limit: 20))
        #expect(r.cpu == Resources.CPU(shares: 512))
        #expect(r.devices == [DeviceCgroupRule(allow: false, access: "rwm")], "the default deny-all stays")
    }

    @Test func capabilityFlags() throws {
        let caps = try #require(try spec { $0.capAdd = ["net_raw", "CAP_SYS_TIME"]; $0.capDrop = ["KILL"] }.process?.capabilities)
        #expect(caps.bounding == ["CAP_NET_BIND_SERVICE", "CAP_NET_RAW", "CAP_SYS_TIME", "CAP_AUDIT_WRITE"])
        #expect(caps.effective == caps.bounding && caps.permitted == caps.bounding)
        #expect(caps.inheritable.isEmpty && caps.ambient.isEmpty, "root keeps them without ambient")
        let none = try #require(try spec { $0.capDrop = ["ALL"] }.process?.capabilities)
        #expect(none.bounding.isEmpty && none.effective.isEmpty)
        let user = try #require(try spec { $0.user = "1000"; $0.capDrop = ["all"]; $0.capAdd = ["NET_ADMIN"] }.process?.capabilities)
        #expect(user.bounding == ["CAP_NET_ADMIN"] && user.ambient == ["CAP_NET_ADMIN"] && user.inheritable == ["CAP_NET_ADMIN"])
        let all = try #require(try spec { $0.capAdd = ["ALL"] }.process?.capabilities)
        #expect(all.bounding == ProcessPrivilegesNames.all)
        #expect(refusal { $0.capAdd = ["CAP_FLY"] } == #"--cap-add: unknown capability "CAP_FLY""#)
    }

    @Test func mountRootAndNamespaceFlags() throws {
        let s = try spec {
            $0.rootfs = "bundle/rootfs"
            $0.binds = ["/tmp:/mnt/tmp:ro", "/etc/hostname:/etc/host-name", "/var:/v:rw"]
            $0.readonly = false
            $0.net = "host"
            $0.seccomp = "unconfined"
        }
        #expect(s.root == Root(path: "rootfs", readonly: false), "inside the bundle: relative")
        #expect(s.mounts.suffix(3) == [
            Mount(destination: "/mnt/tmp", type: "bind", source: "/tmp", options: ["rbind", "rprivate", "ro"]),
            Mount(destination: "/etc/host-name", type: "bind", source: "/etc/hostname", options: ["rbind", "rprivate"]),
            Mount(destination: "/v", type: "bind", source: "/var", options: ["rbind", "rprivate"]),
        ])
        #expect(s.linux?.namespaces.contains { $0.type == .network } == false)
        #expect(s.linux?.seccomp == nil)
        #expect(try spec { $0.rootfs = "/srv/rootfs" }.root == Root(path: "/srv/rootfs", readonly: true))
        #expect(try spec { $0.rootfs = "elsewhere/../rootfs2" }.root?.path == here + "/rootfs2")
        #expect(try spec { $0.readonly = true }.root?.readonly == true)
        let none = try spec { $0.rootless = true; $0.net = "none" }
        #expect(none.linux?.namespaces.filter { $0.type == .network }.count == 1)
        #expect(try spec { $0.seccomp = "default" }.linux?.seccomp == .defaultProfile)
        #expect(refusal { $0.net = "bridge" } == #"--net: expected host or none, got "bridge""#)
        #expect(refusal { $0.binds = ["/nonexistent-crabcan:/x"] } == "--bind: /nonexistent-crabcan does not exist")
        #expect(refusal { $0.binds = ["/tmp:x"] } == #"--bind: the destination must be absolute, got "x""#)
        #expect(refusal { $0.binds = ["/tmp"] } == #"--bind: expected SRC:DST[:ro], got "/tmp""#)
        #expect(refusal { $0.seccomp = "/nonexistent-profile.json" }.hasPrefix("--seccomp: cannot read /nonexistent-profile.json"))
    }

    @Test func seccompProfileFromAFileNamesItsProblemsByPosition() throws {
        let dir = NSTemporaryDirectory() + "crabcan-seccomp-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let good = dir + "/good.json", bad = dir + "/bad.json"
        try #"{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_ERRNO"}]}"#
            .write(toFile: good, atomically: true, encoding: .utf8)
        try "{\"defaultAction\": \"SCMP_ACT_ALLOW\",\n \"syscalls\": [{\"names\": [\"mkdir\"], \"action\": \"SCMP_ACT_NOPE\"}]}"
            .write(toFile: bad, atomically: true, encoding: .utf8)
        let profile = try #require(try spec { $0.seccomp = good }.linux?.seccomp)
        #expect(profile == Seccomp(defaultAction: .allow, syscalls: [Seccomp.Syscall(names: ["mkdir"], action: .errno)]))
        #expect(refusal { $0.seccomp = bad } == "--seccomp: \(bad):2:46: .syscalls[0].action: unknown seccomp action \"SCMP_ACT_NOPE\"")
    }
}

/// Every capability crabcan knows, in kernel order (what `--cap-add ALL` grants).
enum ProcessPrivilegesNames {
    static let all = [
        "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL", "CAP_SETGID",
        "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN",
        "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT",
        "CAP_SYS_PTRACE", "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE", "CAP_SYS_RESOURCE",
        "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE", "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL",
        "CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND",
        "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE",
    ]
}
