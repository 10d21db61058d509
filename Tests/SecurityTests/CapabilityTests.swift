@testable import Capabilities
import Glibc
import OCISpec
import Sys
import Testing

@Suite(.serialized) struct CapabilityTests {
    // MARK: - Validation in the parent

    /// The kernel's last capability comes from libcap's probe now, not /proc: both must say the same.
    @Test func kernelLastCapabilityIsWhatProcSays() throws {
        let text = try Files.readText("/proc/sys/kernel/cap_last_cap")
        let fromProc = try #require(Int32(text.split(separator: "\n").first ?? ""))
        #expect(Names.kernelLastCapability() == fromProc)
    }

    @Test func unknownCapabilityNamesItsPath() {
        let caps = Process.Capabilities(bounding: ["CAP_CHOWN", "CAP_KILL", "CAP_FOO"])
        #expect(throws: PrivilegeError(path: ".process.capabilities.bounding[2]", message: "unknown capability \"CAP_FOO\"")) {
            try ProcessPrivileges(process: Process(args: ["x"], capabilities: caps))
        }
        let error = try? #require(throws: PrivilegeError.self) {
            try ProcessPrivileges(process: Process(args: ["x"], capabilities: Process.Capabilities(ambient: ["cap_chown"])))
        }
        #expect(error?.description == ".process.capabilities.ambient[0]: unknown capability \"cap_chown\"")
    }

    @Test func capabilityAboveKernelIsDroppedWithWarning() throws {
        let caps = Process.Capabilities(bounding: ["CAP_BPF", "CAP_CHECKPOINT_RESTORE"], permitted: ["CAP_CHECKPOINT_RESTORE"])
        let privileges = try ProcessPrivileges(process: Process(args: ["x"], capabilities: caps), lastCapability: 39)
        #expect(privileges.bounding == [39])
        #expect(privileges.permitted == [])
        #expect(privileges.warnings.count == 2)
        #expect(privileges.warnings.allSatisfy { $0.description.contains("CAP_CHECKPOINT_RESTORE") })
    }

    @Test func ambientNeedsPermittedAndInheritable() throws {
        let caps = Process.Capabilities(permitted: ["CAP_KILL"], ambient: ["CAP_KILL"])
        let privileges = try ProcessPrivileges(process: Process(args: ["x"], capabilities: caps))
        #expect(privileges.ambient == [])
        #expect(privileges.warnings.count == 1)
    }

    @Test func rlimitsAreChecked() throws {
        #expect(throws: PrivilegeError(path: ".process.rlimits[1]", message: "soft limit 300 is above hard limit 200")) {
            try ProcessPrivileges(process: Process(args: ["x"], rlimits: [
                Process.Rlimit(type: "RLIMIT_CORE", hard: 0, soft: 0),
                Process.Rlimit(type: "RLIMIT_NOFILE", hard: 200, soft: 300),
            ]))
        }
        #expect(throws: PrivilegeError(path: ".process.rlimits[0].type", message: "unknown rlimit \"RLIMIT_FOO\"")) {
            try ProcessPrivileges(process: Process(args: ["x"], rlimits: [Process.Rlimit(type: "RLIMIT_FOO", hard: 1, soft: 1)]))
        }
        let ok = try ProcessPrivileges(process: Process(args: ["x"], rlimits: [Process.Rlimit(type: "RLIMIT_RTTIME", hard: UInt64.max, soft: 5)]))
        #expect(ok.limits.map(\.resource) == [15])
    }

    @Test func sysctlNeedsItsNamespace() throws {
        func settings(_ key: String, _ namespaces: NamespaceSet) throws(PrivilegeError) -> KernelSettings {
            try KernelSettings(linux: Linux(sysctl: [key: "1"]), newNamespaces: namespaces)
        }
        #expect(throws: PrivilegeError(path: ".linux.sysctl[\"net.ipv4.ip_forward\"]", message: "needs a new network namespace")) {
            try settings("net.ipv4.ip_forward", [.ipc, .uts, .mount])
        }
        #expect(throws: PrivilegeError(path: ".linux.sysctl[\"vm.swappiness\"]", message: "not a namespaced sysctl; it would change the host")) {
            try settings("vm.swappiness", NamespaceSet(NamespaceType.allCases))
        }
        #expect(throws: PrivilegeError.self) { try settings("kernel.shmmax", [.network]) }
        #expect(throws: PrivilegeError.self) { try settings("net..x", [.network]) }
        #expect(throws: PrivilegeError.self) { try settings("net.ipv4/../../x", [.network]) }
        _ = try settings("kernel.shmmax", [.ipc])
        _ = try settings("fs.mqueue.msg_max", [.ipc])
        _ = try settings("net.ipv4.ip_forward", [.network])
        _ = try settings("kernel.hostname", [.uts])
        _ = try KernelSettings(linux: nil, newNamespaces: [])
    }

    @Test func personalityIsDecoded() throws {
        let ok = try KernelSettings(linux: Linux(personality: Linux.Personality(domain: "LINUX32", flags: ["ADDR_NO_RANDOMIZE"])), newNamespaces: [])
        #expect(ok.persona == 0x0040008)
        #expect(throws: PrivilegeError(path: ".linux.personality.flags[0]", message: "unknown personality flag \"NOPE\"")) {
            try KernelSettings(linux: Linux(personality: Linux.Personality(domain: "LINUX", flags: ["NOPE"])), newNamespaces: [])
        }
    }

    // MARK: - Real application, in a forked child

    @Test func appliedAcrossUserSwitchAndExec() throws {
        let one = ["CAP_NET_BIND_SERVICE"]
        let process = Process(
            args: ["x"], capabilities: Process.Capabilities(bounding: one, effective: one, inheritable: one, permitted: one, ambient: one),
            rlimits: [Process.Rlimit(type: "RLIMIT_NOFILE", hard: 200, soft: 100)], oomScoreAdj: 500)
        let privileges = try ProcessPrivileges(process: process)
        #expect(privileges.warnings.isEmpty)

        // In the child itself, after the user switch.
        let inChild = try runInChild { () throws(SysError) -> [UInt8] in
            try privileges.applyBeforeUserSwitch()
            try Processes.setGroups([])
            try Processes.setGID(1000)
            try Processes.setUID(1000)
            try privileges.applyAfterUserSwitch()
            var limit = rlimit()
            getrlimit(__rlimit_resource_t(7), &limit)
            let oom = try Files.readText("/proc/self/oom_score_adj")
            let status = try Files.readText("/proc/self/status")
            return Array("\(status)Rlimit:\t\(limit.rlim_cur) \(limit.rlim_max)\nOom:\t\(oom)".utf8)
        }
        let child = fields(inChild)
        #expect(child["Uid"]?.hasPrefix("1000\t1000\t1000") == true)
        for set in ["CapEff", "CapPrm", "CapInh", "CapAmb", "CapBnd"] {
            #expect(child[set] == "0000000000000400", "\(set)")
        }
        #expect(child["Rlimit"] == "100 200")
        #expect(child["Oom"] == "500")

        // What the exec'd program holds: only the ambient set carries capabilities to a non-root execve.
        let execd = try runInChild(exec: "/bin/cat", ["cat", "/proc/self/status"]) { () throws(SysError) in
            try privileges.applyBeforeUserSwitch()
            try Processes.setGroups([])
            try Processes.setGID(1000)
            try Processes.setUID(1000)
            try privileges.applyAfterUserSwitch()
        }
        let program = fields(execd)
        for set in ["CapEff", "CapPrm", "CapInh", "CapAmb", "CapBnd"] {
            #expect(program[set] == "0000000000000400", "exec'd \(set)")
        }
    }

    @Test func rootWithoutAmbientKeepsConfiguredSets() throws {
        let process = Process(args: ["x"], capabilities: Process.Capabilities(
            bounding: ["CAP_CHOWN", "CAP_KILL", "CAP_SETUID"], effective: ["CAP_KILL"], permitted: ["CAP_KILL", "CAP_CHOWN"]))
        let privileges = try ProcessPrivileges(process: process)
        let out = try runInChild { () throws(SysError) -> [UInt8] in
            try privileges.applyBeforeUserSwitch()
            try privileges.applyAfterUserSwitch()
            return Array(try Files.readText("/proc/self/status").utf8)
        }
        let status = fields(out)
        #expect(status["CapBnd"] == "00000000000000a1")
        #expect(status["CapEff"] == "0000000000000020")
        #expect(status["CapPrm"] == "0000000000000021")
        #expect(status["CapInh"] == "0000000000000000")
        #expect(status["CapAmb"] == "0000000000000000")
    }

    @Test func sysctlAndPersonalityInNewIPCNamespace() throws {
        let linux = Linux(sysctl: ["kernel.shmmax": "12345678", "kernel.msgmax": "4321"],
                          personality: Linux.Personality(domain: "LINUX32"))
        let settings = try KernelSettings(linux: linux, newNamespaces: [.ipc])
        let hostShmmax = try Files.readText("/proc/sys/kernel/shmmax")
        let out = try runInChild { () throws(SysError) -> [UInt8] in
            try Namespaces.unshare(Namespaces.ipc)
            try settings.applySysctl()
            try settings.applyPersonality()
            let shm = try Files.readText("/proc/sys/kernel/shmmax")
            let msg = try Files.readText("/proc/sys/kernel/msgmax")
            let persona = try Files.readText("/proc/self/personality")
            return Array("Shm:\t\(shm)Msg:\t\(msg)Persona:\t\(persona)".utf8)
        }
        let result = fields(out)
        #expect(result["Shm"] == "12345678")
        #expect(result["Msg"] == "4321")
        #expect(result["Persona"] == "00000008")
        #expect(try Files.readText("/proc/sys/kernel/shmmax") == hostShmmax)
    }

    /// A container that bind-mounts another file over a /proc/sys entry must not get the write redirected:
    /// neither a plain file (not procfs) nor another procfs file (caught as a mount crossing).
    @Test(arguments: ["tmpfile", "/proc/sys/kernel/msgmnb"])
    func sysctlRefusesPlantedMounts(_ source: String) throws {
        let settings = try KernelSettings(linux: Linux(sysctl: ["kernel.shmmax": "777"]), newNamespaces: [.ipc])
        let decoy = "/tmp/crabcan-captest-\(Processes.pid)"
        try Files.writeFile(decoy, Array("decoy\n".utf8))
        defer { try? Files.unlink(decoy) }
        let planted = source == "tmpfile" ? decoy : source
        let out = try runInChild { () throws(SysError) -> [UInt8] in
            try Namespaces.unshare(Namespaces.ipc | Namespaces.mount)
            try Mounts.mount(source: nil, target: "/", type: nil, flags: Mounts.recursive | Mounts.private, data: nil)
            let before = try Files.readText(planted)
            try Mounts.mount(source: planted, target: "/proc/sys/kernel/shmmax", type: nil, flags: Mounts.bind, data: nil)
            var result = "Refused:\tno\n"
            do throws(SysError) { try settings.applySysctl() } catch { result = "Refused:\t\(error.errno == EXDEV)\n" }
            let after = try Files.readText(planted)
            return Array((result + "Unchanged:\t\(before == after)\n").utf8)
        }
        let result = fields(out)
        #expect(result["Refused"] == "true")
        #expect(result["Unchanged"] == "true")
    }

    // MARK: - Helpers

    /// `Key:\tvalue` lines, as /proc/self/status prints them.
    func fields(_ bytes: [UInt8]) -> [String: String] {
        var result: [String: String] = [:]
        for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 1)
            if parts.count == 2 { result[String(parts[0])] = trimmed(parts[1]) }
        }
        return result
    }

    private func trimmed(_ text: Substring) -> String {
        var text = text
        while let first = text.first, first == " " || first == "\t" { text.removeFirst() }
        while let last = text.last, last == " " || last == "\t" || last == "\n" { text.removeLast() }
        return String(text)
    }

    /// Forks; the child runs `body` (everything it needs was prepared before the fork: Swift Testing's
    /// process has threads) and either writes its result to a pipe, or, with `exec`, execs with stdout on it.
    /// The parent waits for the child before reading, so a pipe end leaked into some other test's fork
    /// cannot hang the read.
    func runInChild(exec path: String? = nil, _ arguments: [String] = [], _ body: () throws(SysError) -> [UInt8]) throws -> [UInt8] {
        var fds: [Int32] = [-1, -1]
        #expect(pipe(&fds) == 0)
        let reader = FileDescriptor(fds[0]), writer = FileDescriptor(fds[1])
        let pid = try Processes.fork()
        if pid == 0 {
            let bytes: [UInt8]
            do throws(SysError) {
                bytes = try body()
            } catch {
                try? writer.write("Error:\t\(error)\n")
                Processes.exit(1)
            }
            if let path {
                _ = Glibc.dup2(writer.raw, 1)
                _ = Processes.exec(path: path, arguments: arguments, environment: [])
                Processes.exit(127)
            }
            try? writer.write(bytes)
            Processes.exit(0)
        }
        writer.close()
        let status = try reapForkedChild(pid)
        _ = try Channels.poll([Int(reader.raw)], timeoutMilliseconds: 1000)
        let output = try reader.read(count: 65536)
        #expect(status == .exited(0), "\(String(decoding: output, as: UTF8.self))")
        return output
    }

    func runInChild(exec path: String, _ arguments: [String], _ body: () throws(SysError) -> Void) throws -> [UInt8] {
        try runInChild(exec: path, arguments) { () throws(SysError) -> [UInt8] in
            try body()
            return []
        }
    }
}
