import Cgroups
import Glibc
import OCISpec
import Sys
import Testing

/// cgroup v2 device rules as an eBPF program: built from the rules, loaded by the kernel's verifier, attached
/// to a real cgroup2 directory, and obeyed by a shell moved into it.
@Suite(.serialized)
struct DeviceProgramTests {
    @Test func ruleOrderDecidesLikeTheV1Files() {
        let denyAll = DeviceCgroupRule(allow: false, type: "a", access: "rwm")
        let allowNull = DeviceCgroupRule(allow: true, type: "c", major: 1, minor: 3, access: "rwm")
        // Rules before the last deny-all do not matter, as they would not in devices.list.
        let early = DeviceProgram(rules: [allowNull, denyAll])
        let plain = DeviceProgram(rules: [denyAll])
        #expect(early == plain)
        // Each rule is a block: its tests, then verdict + exit; the program ends with the default.
        let one = DeviceProgram(rules: [denyAll, allowNull])
        #expect(one.instructions.count == plain.instructions.count + 5)
        #expect(one.instructions.last == 0x95)                        // exit
        #expect(one.instructions[one.instructions.count - 2] == 0xB7)  // r0 = 0: deny by default
    }

    static let cgroupRoot = "/sys/fs/cgroup/unified"

    /// Runs a shell in a new cgroup under the unified hierarchy with `rules` attached; returns what it printed.
    func probe(_ rules: [DeviceCgroupRule], _ script: String) throws -> [String] {
        let dir = Self.cgroupRoot + "/crabcan-devtest-\(getpid())"
        let manager = CgroupManager(CgroupSet(version: .v2, paths: ["": dir]))
        try Files.mkdir(dir)  // not manager.create(): that would enable controllers in the host's cgroup2 root
        defer { try? manager.destroy() }
        try manager.apply(Resources(devices: rules))
        let out = "/tmp/crabcan-devtest-\(getpid()).out"
        defer { unlink(out) }
        let full = "echo $$ > \(dir)/cgroup.procs || exit 9; { \(script); } > \(out) 2>/dev/null"
        var pid: pid_t = 0
        let argv: [UnsafeMutablePointer<CChar>?] = [strdup("/bin/sh"), strdup("-c"), strdup(full), nil]
        defer { for p in argv { free(p) } }
        let rc = posix_spawn(&pid, "/bin/sh", nil, nil, argv, environ)
        if rc != 0 { throw SysError("posix_spawn", path: "/bin/sh", errno: rc) }
        let status = try Processes.wait(pid).status
        #expect(status == .exited(0), "probe shell: \(String(describing: status))")
        return try Files.readText(out).split(separator: "\n").map(String.init)
    }

    static let checks = """
    cat /dev/null && echo null-read=ok || echo null-read=denied
    head -c1 /dev/zero >/dev/null && echo zero-read=ok || echo zero-read=denied
    (echo x > /dev/zero) && echo zero-write=ok || echo zero-write=denied
    head -c1 /dev/full >/dev/null && echo full-read=ok || echo full-read=denied
    """

    @Test(.enabled(if: getuid() == 0 && Mounts.isCgroup2(DeviceProgramTests.cgroupRoot)))
    func kernelEnforcesTheProgram() throws {
        let rules = [
            DeviceCgroupRule(allow: false, type: "a", access: "rwm"),
            DeviceCgroupRule(allow: true, type: "c", major: 1, minor: 3, access: "rwm"),
            DeviceCgroupRule(allow: true, type: "c", major: 1, minor: 5, access: "r"),
        ]
        #expect(try probe(rules, Self.checks) == ["null-read=ok", "zero-read=ok", "zero-write=denied", "full-read=denied"])
        // Without a deny-all the cgroup allows what it is not told to deny (a v1 child inherits allow-all).
        let denyFull = [DeviceCgroupRule(allow: false, type: "c", major: 1, minor: 7, access: "rwm"),
                        DeviceCgroupRule(allow: false, type: "c", major: 1, minor: 5, access: "w")]
        #expect(try probe(denyFull, Self.checks) == ["null-read=ok", "zero-read=ok", "zero-write=denied", "full-read=denied"])
    }

    /// A container's real rule set (the default spec's deny-all, then runc's default allows) is long enough that
    /// the verifier's trace overflowed the 4 KiB log the load used to pass: ENOSPC made every v2 create fail.
    @Test(.enabled(if: getuid() == 0 && Mounts.isCgroup2(DeviceProgramTests.cgroupRoot)))
    func defaultRulesLoadAndEnforce() throws {
        let rules = DeviceRules.effective(Linux(resources: Resources(devices: [DeviceCgroupRule(allow: false, access: "rwm")]))).devices
        #expect(rules.count > 10)
        let node = "/tmp/crabcan-devtest-kmsg-\(getpid())"
        defer { unlink(node) }
        let script = Self.checks + """

        mknod \(node) c 1 11 && echo mknod=ok || echo mknod=denied
        (: < \(node)) && echo kmsg-open=ok || echo kmsg-open=denied
        """
        #expect(try probe(rules, script) == ["null-read=ok", "zero-read=ok", "zero-write=ok", "full-read=ok",
                                             "mknod=ok", "kmsg-open=denied"])
    }

    /// The load runs without a log; a refused program is loaded again with one, and the error says what the verifier said.
    @Test(.enabled(if: getuid() == 0))
    func refusedProgramReportsTheVerifier() throws {
        let noExit: [UInt64] = [0xB7]  // r0 = 0, then nothing
        do {
            _ = try BPF.loadDeviceProgram(noExit)
            Issue.record("the verifier accepted a program without exit")
        } catch {
            #expect(error.errno == EINVAL)
            #expect("\(error)".contains("last insn is not an exit or jmp"), "\(error)")
        }
    }
}
