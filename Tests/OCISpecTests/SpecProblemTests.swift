import Testing
import JSON
import OCISpec

/// A config whose `fragment` is spliced into an otherwise valid document, and the problems it must produce.
struct ProblemCase: Sendable, CustomTestStringConvertible {
    var fragment: String
    var expected: [String]
    init(_ fragment: String, _ expected: String...) {
        self.fragment = fragment
        self.expected = expected
    }
    var testDescription: String { fragment }

    /// Adds the required root unless the case is about root.
    var document: String {
        fragment.hasPrefix(#""root""#)
            ? #"{"ociVersion": "1.2.0", \#(fragment)}"#
            : #"{"ociVersion": "1.2.0", "root": {"path": "rootfs"}, \#(fragment)}"#
    }
}

private let process = #""user": {"uid": 0, "gid": 0}, "cwd": "/""#

let problemCases: [ProblemCase] = [
    ProblemCase(#""process": {\#(process), "args": "sh"}"#, ".process.args: expected array of strings"),
    ProblemCase(#""process": {\#(process), "args": ["sh", 1]}"#, ".process.args[1]: expected string"),
    ProblemCase(#""process": {\#(process), "args": []}"#, ".process.args: must not be empty"),
    ProblemCase(#""process": {"user": {"uid": 0, "gid": 0}, "args": ["sh"]}"#, ".process.cwd: required field is missing"),
    ProblemCase(#""process": {"cwd": "/", "args": ["sh"]}"#, ".process.user: required field is missing"),
    ProblemCase(#""process": {"cwd": "/", "user": {}}"#,
                ".process.user.uid: required field is missing", ".process.user.gid: required field is missing",
                ".process.args: required field is missing"),
    ProblemCase(#""process": {"user": {"uid": 0, "gid": 0}, "args": ["sh"], "cwd": "work"}"#,
                #".process.cwd: expected an absolute path, got "work""#),
    ProblemCase(#""process": {\#(process), "args": ["sh"], "env": ["A=1", "B", "=x", "C="]}"#,
                #".process.env[1]: expected KEY=value, got "B""#, #".process.env[2]: expected KEY=value, got "=x""#),
    ProblemCase(#""process": {"cwd": "/", "args": ["sh"], "user": {"uid": -1, "gid": 0}}"#,
                ".process.user.uid: expected integer in 0...4294967295"),
    ProblemCase(#""process": {"cwd": "/", "args": ["sh"], "user": {"uid": "0", "gid": 4294967296}}"#,
                ".process.user.uid: expected integer in 0...4294967295", ".process.user.gid: expected integer in 0...4294967295"),
    ProblemCase(#""process": {"cwd": "/", "args": ["sh"], "user": {"uid": 0, "gid": 0, "additionalGids": [1, 2.5]}}"#,
                ".process.user.additionalGids[1]: expected integer in 0...4294967295"),
    ProblemCase(#""process": {\#(process), "args": ["sh"], "terminal": "yes"}"#, ".process.terminal: expected boolean"),
    ProblemCase(#""process": {\#(process), "args": ["sh"], "consoleSize": {"height": 1, "width": -1}}"#,
                ".process.consoleSize.width: expected integer in 0...4294967295"),
    ProblemCase(#""process": {\#(process), "args": ["sh"], "rlimits": [{"type": "NOFILE", "hard": 1, "soft": 1}]}"#,
                #".process.rlimits[0].type: unknown rlimit "NOFILE""#),
    ProblemCase(#""process": {\#(process), "args": ["sh"], "rlimits": [{"type": "RLIMIT_CORE", "hard": 1, "soft": 1}, {"type": "RLIMIT_CORE", "hard": 2, "soft": 2}]}"#,
                #".process.rlimits[1].type: duplicate rlimit "RLIMIT_CORE""#),
    ProblemCase(#""process": {\#(process), "args": ["sh"], "rlimits": [{"type": "RLIMIT_NPROC", "hard": -1}]}"#,
                ".process.rlimits[0].hard: expected integer in 0...18446744073709551615",
                ".process.rlimits[0].soft: required field is missing"),
    ProblemCase(#""process": {\#(process), "args": ["sh"], "capabilities": {"bounding": "CAP_KILL"}}"#,
                ".process.capabilities.bounding: expected array of strings"),
    ProblemCase(#""process": {\#(process), "args": ["sh"], "capabilities": {"effective": ["CAP_KILL", "KILL", "cap_chown"]}}"#,
                #".process.capabilities.effective[1]: unknown capability "KILL""#,
                #".process.capabilities.effective[2]: unknown capability "cap_chown""#),
    ProblemCase(#""process": {\#(process), "args": ["sh"], "oomScoreAdj": "high"}"#,
                ".process.oomScoreAdj: expected integer in -1000...1000"),
    ProblemCase(#""process": {\#(process), "args": ["sh"], "oomScoreAdj": 1001}"#, ".process.oomScoreAdj: expected integer in -1000...1000"),
    ProblemCase(#""process": {\#(process), "args": ["sh"], "ioPriority": {"class": "IOPRIO_CLASS_NONE", "priority": 1}}"#,
                #".process.ioPriority.class: unknown value "IOPRIO_CLASS_NONE" (expected one of "IOPRIO_CLASS_RT", "IOPRIO_CLASS_BE", "IOPRIO_CLASS_IDLE")"#),
    ProblemCase(#""process": {\#(process), "args": ["sh"], "ioPriority": {"class": "IOPRIO_CLASS_RT", "priority": 8}}"#,
                ".process.ioPriority.priority: expected integer in 0...7"),
    ProblemCase(#""process": {\#(process), "args": ["sh"], "scheduler": {"policy": "SCHED_FAST", "flags": ["SCHED_FLAG_RECLAIM", "X"]}}"#,
                #".process.scheduler.policy: unknown value "SCHED_FAST" (expected one of "SCHED_OTHER", "SCHED_FIFO", "SCHED_RR", "SCHED_BATCH", "SCHED_ISO", "SCHED_IDLE", "SCHED_DEADLINE")"#,
                #".process.scheduler.flags[1]: unknown value "X" (expected one of "SCHED_FLAG_RESET_ON_FORK", "SCHED_FLAG_RECLAIM", "SCHED_FLAG_DL_OVERRUN", "SCHED_FLAG_KEEP_POLICY", "SCHED_FLAG_KEEP_PARAMS", "SCHED_FLAG_UTIL_CLAMP_MIN", "SCHED_FLAG_UTIL_CLAMP_MAX")"#),
    ProblemCase(#""process": {\#(process), "args": ["sh"], "scheduler": {"nice": 1}}"#,
                ".process.scheduler.policy: required field is missing"),
    ProblemCase(#""root": "rootfs""#, ".root: expected object"),
    ProblemCase(#""root": {"path": ""}"#, ".root.path: must not be empty"),
    ProblemCase(#""root": {"readonly": true}"#, ".root.path: required field is missing"),
    ProblemCase(#""hostname": 7"#, ".hostname: expected string"),
    ProblemCase(#""mounts": [{"destination": "/a"}, {"type": "bind"}]"#, ".mounts[1].destination: required field is missing"),
    ProblemCase(#""mounts": [{"destination": "/a", "options": "ro"}]"#, ".mounts[0].options: expected array of strings"),
    ProblemCase(#""mounts": {"destination": "/a"}"#, ".mounts: expected array"),
    ProblemCase(#""hooks": {"prestart": [{"args": ["x"]}]}"#, ".hooks.prestart[0].path: required field is missing"),
    ProblemCase(#""hooks": {"poststop": [{"path": "/h", "timeout": 0}]}"#, ".hooks.poststop[0].timeout: must be greater than zero"),
    ProblemCase(#""hooks": {"createRuntime": [{"path": "hook.sh"}]}"#, #".hooks.createRuntime[0].path: expected an absolute path, got "hook.sh""#),
    ProblemCase(#""annotations": {"a": 1}"#, ".annotations.a: expected string"),
    ProblemCase(#""annotations": {"io.k8s/x": true}"#, #".annotations["io.k8s/x"]: expected string"#),
    ProblemCase(#""linux": {"namespaces": [{"type": "pid"}, 5]}"#, ".linux.namespaces[1]: expected object"),
    ProblemCase(#""linux": {"namespaces": [{"type": "pid"}, {"type": "net"}, {"type": "foo"}]}"#,
                #".linux.namespaces[1].type: unknown namespace type "net""#,
                #".linux.namespaces[2].type: unknown namespace type "foo""#),
    ProblemCase(#""linux": {"namespaces": [{"type": "pid"}, {"type": "mount"}, {"type": "pid", "path": "/proc/1/ns/pid"}]}"#,
                #".linux.namespaces[2].type: duplicate namespace type "pid""#),
    ProblemCase(#""linux": {"namespaces": [{"type": "network", "path": "netns/x"}]}"#,
                #".linux.namespaces[0].path: expected an absolute path, got "netns/x""#),
    // Strings that pass are taken without a reader of their own; the others keep their index in the path.
    ProblemCase(#""linux": {"maskedPaths": ["/a", 3, "b", "/c", null], "seccomp": {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read", "", 7], "action": "SCMP_ACT_ERRNO"}]}}"#,
                ".linux.seccomp.syscalls[0].names[1]: must not be empty", ".linux.seccomp.syscalls[0].names[2]: expected string",
                ".linux.maskedPaths[1]: expected string", #".linux.maskedPaths[2]: expected an absolute path, got "b""#,
                ".linux.maskedPaths[4]: expected string"),
    ProblemCase(#""linux": {"maskedPaths": ["/ok", "proc/kcore"], "readonlyPaths": [""]}"#,
                #".linux.maskedPaths[1]: expected an absolute path, got "proc/kcore""#,
                #".linux.readonlyPaths[0]: expected an absolute path, got """#),
    ProblemCase(#""linux": {"rootfsPropagation": "recursive"}"#,
                #".linux.rootfsPropagation: unknown value "recursive" (expected one of "private", "shared", "slave", "unbindable", "rprivate", "rshared", "rslave", "runbindable")"#),
    ProblemCase(#""linux": {"namespaces": [{"path": "/x"}]}"#, ".linux.namespaces[0].type: required field is missing"),
    ProblemCase(#""linux": {"uidMappings": [{"containerID": 0, "hostID": 1000}]}"#,
                ".linux.uidMappings[0].size: required field is missing"),
    ProblemCase(#""linux": {"timeOffsets": {"realtime": {"secs": 1}, "boottime": {"nanosecs": -1}}}"#,
                #".linux.timeOffsets.realtime: unknown clock "realtime""#,
                ".linux.timeOffsets.boottime.nanosecs: expected integer in 0...4294967295"),
    ProblemCase(#""linux": {"devices": [{"type": "x", "path": "/dev/x"}]}"#,
                #".linux.devices[0].type: unknown device type "x""#),
    ProblemCase(#""linux": {"devices": [{"type": "c", "path": "dev/null", "major": 1, "minor": 3}]}"#,
                #".linux.devices[0].path: expected an absolute path, got "dev/null""#),
    ProblemCase(#""linux": {"devices": [{"type": "b", "path": "/dev/sda", "minor": 0}]}"#,
                ".linux.devices[0].major: required field is missing"),
    ProblemCase(#""linux": {"sysctl": {"net.ipv4.ip_forward": 1}}"#, #".linux.sysctl["net.ipv4.ip_forward"]: expected string"#),
    ProblemCase(#""linux": {"maskedPaths": [null]}"#, ".linux.maskedPaths[0]: expected string"),
    ProblemCase(#""linux": {"resources": {"devices": [{"access": "rwm"}]}}"#, ".linux.resources.devices[0].allow: required field is missing"),
    ProblemCase(#""linux": {"resources": {"devices": [{"allow": true, "type": "x", "access": "rwx"}]}}"#,
                #".linux.resources.devices[0].type: unknown device cgroup type "x""#),
    ProblemCase(#""linux": {"resources": {"devices": [{"allow": true, "type": "c", "access": 7}]}}"#,
                ".linux.resources.devices[0].access: expected string"),
    ProblemCase(#""linux": {"resources": {"memory": {"limit": "1G"}}}"#,
                ".linux.resources.memory.limit: expected integer in -9223372036854775808...9223372036854775807"),
    ProblemCase(#""linux": {"resources": {"memory": {"swappiness": -1}}}"#,
                ".linux.resources.memory.swappiness: expected integer in 0...18446744073709551615"),
    ProblemCase(#""linux": {"resources": {"cpu": {"shares": 1.5, "cpus": 0}}}"#,
                ".linux.resources.cpu.shares: expected integer in 0...18446744073709551615", ".linux.resources.cpu.cpus: expected string"),
    ProblemCase(#""linux": {"resources": {"pids": {}}}"#, ".linux.resources.pids.limit: required field is missing"),
    ProblemCase(#""linux": {"resources": {"blockIO": {"weight": 70000}}}"#, ".linux.resources.blockIO.weight: expected integer in 0...65535"),
    ProblemCase(#""linux": {"resources": {"blockIO": {"throttleReadBpsDevice": [{"major": 8, "minor": 0}]}}}"#,
                ".linux.resources.blockIO.throttleReadBpsDevice[0].rate: required field is missing"),
    ProblemCase(#""linux": {"resources": {"hugepageLimits": [{"limit": 1}]}}"#,
                ".linux.resources.hugepageLimits[0].pageSize: required field is missing"),
    ProblemCase(#""linux": {"resources": {"hugepageLimits": [{"pageSize": "2M", "limit": 1}, {"pageSize": "64KB", "limit": 1}]}}"#,
                #".linux.resources.hugepageLimits[0].pageSize: expected a page size like "2MB", got "2M""#),
    ProblemCase(#""linux": {"resources": {"network": {"priorities": [{"name": "eth0", "priority": -5}]}}}"#,
                ".linux.resources.network.priorities[0].priority: expected integer in 0...4294967295"),
    ProblemCase(#""linux": {"resources": {"rdma": {"mlx": {"hcaHandles": "3"}}}}"#,
                ".linux.resources.rdma.mlx.hcaHandles: expected integer in 0...4294967295"),
    ProblemCase(#""linux": {"resources": {"unified": {"memory.max": 5}}}"#, #".linux.resources.unified["memory.max"]: expected string"#),
    ProblemCase(#""linux": {"seccomp": {"syscalls": []}}"#, ".linux.seccomp.defaultAction: required field is missing"),
    ProblemCase(#""linux": {"seccomp": {"defaultAction": "SCMP_ACT_FOO"}}"#,
                #".linux.seccomp.defaultAction: unknown seccomp action "SCMP_ACT_FOO""#),
    ProblemCase(#""linux": {"seccomp": {"defaultAction": "SCMP_ACT_LOG", "architectures": ["SCMP_ARCH_X86_64", "x86_64"], "flags": ["SECCOMP_FILTER_FLAG_NOPE"], "listenerPath": "seccomp.sock"}}"#,
                #".linux.seccomp.architectures[1]: unknown seccomp architecture "x86_64""#,
                #".linux.seccomp.flags[0]: unknown value "SECCOMP_FILTER_FLAG_NOPE" (expected one of "SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW", "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV")"#,
                #".linux.seccomp.listenerPath: expected an absolute path, got "seccomp.sock""#),
    ProblemCase(#""linux": {"seccomp": {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read", ""], "action": "SCMP_ACT_KILL", "args": [{"index": 6, "value": 0, "op": "SCMP_CMP_EQ"}]}]}}"#,
                ".linux.seccomp.syscalls[0].names[1]: must not be empty",
                ".linux.seccomp.syscalls[0].args[0].index: expected integer in 0...5"),
    ProblemCase(#""linux": {"seccomp": {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": [], "action": "SCMP_ACT_KILL"}]}}"#,
                ".linux.seccomp.syscalls[0].names: must not be empty"),
    ProblemCase(#""linux": {"seccomp": {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["x"]}]}}"#,
                ".linux.seccomp.syscalls[0].action: required field is missing"),
    ProblemCase(#""linux": {"seccomp": {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["x"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 0, "value": 18446744073709551616, "op": "SCMP_CMP_XX"}]}]}}"#,
                ".linux.seccomp.syscalls[0].args[0].value: expected integer in 0...18446744073709551615",
                #".linux.seccomp.syscalls[0].args[0].op: unknown seccomp operator "SCMP_CMP_XX""#),
    ProblemCase(#""linux": {"seccomp": {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["x"], "action": "SCMP_ACT_ERRNO", "args": [{"value": 1, "op": "SCMP_CMP_EQ"}]}]}}"#,
                ".linux.seccomp.syscalls[0].args[0].index: required field is missing"),
    ProblemCase(#""linux": {"personality": {"flags": []}}"#, ".linux.personality.domain: required field is missing"),
    ProblemCase(#""linux": {"personality": {"domain": "LINUX64"}}"#,
                #".linux.personality.domain: unknown value "LINUX64" (expected one of "LINUX", "LINUX32")"#),
    ProblemCase(#""linux": {"intelRdt": {"closID": 1}}"#, ".linux.intelRdt.closID: expected string"),
    ProblemCase(#""linux": {"netDevices": {"eth0": {"name": 1}}}"#, ".linux.netDevices.eth0.name: expected string"),
    ProblemCase(#""linux": {"memoryPolicy": {"nodes": "0"}}"#, ".linux.memoryPolicy.mode: required field is missing"),
    ProblemCase(#""linux": {"memoryPolicy": {"mode": "MPOL_BIND", "flags": ["MPOL_F_STATIC_NODES", "F"]}}"#,
                #".linux.memoryPolicy.flags[1]: unknown value "F" (expected one of "MPOL_F_NUMA_BALANCING", "MPOL_F_RELATIVE_NODES", "MPOL_F_STATIC_NODES")"#),
    ProblemCase(#""linux": []"#, ".linux: expected object"),
]

@Suite struct SpecProblemTests {
    @Test(arguments: problemCases)
    func wrongTypesAndMissingFieldsHaveExactPathAndMessage(_ c: ProblemCase) {
        #expect(problems(c.document) == c.expected)
    }

    @Test func theBaseOfTheCasesIsValid() throws {
        _ = try decode(#"{"ociVersion": "1.2.0", "root": {"path": "rootfs"}, "process": {\#(process), "args": ["sh"]}}"#)
        // And root is the one top-level field besides ociVersion that is required.
        #expect(problems(#"{"ociVersion": "1.2.0", "process": {\#(process), "args": ["sh"]}}"#) == [".root: required field is missing"])
    }

    @Test func documentLevelProblems() {
        #expect(problems("[]") == ["expected object"])
        #expect(problems("{}") == [".ociVersion: required field is missing", ".root: required field is missing"])
        #expect(problems(#"{"ociVersion": 1, "root": {"path": "r"}}"#) == [".ociVersion: expected string"])
        #expect(problems("") == ["invalid JSON: parse error: premature EOF"])
        #expect(problems(#"{"ociVersion": "1.0.0",}"#).count == 1)
    }

    @Test func collectsEveryProblemWithPositions() throws {
        let text = """
            {
              "ociVersion": "2.0.0",
              "process": {"args": "sh", "user": {"uid": -1}},
              "root": {"path": ""},
              "mounts": [{"destination": "/ok"}, {"source": "x"}],
              "linux": {
                "namespaces": [{"type": "pid"}, {"type": "pid"}, {"type": "bogus"}],
                "devices": [{"type": "q", "path": "rel"}]
              }
            }
            """
        do {
            _ = try Spec.decode(Array(text.utf8))
            Issue.record("decoded an invalid config")
        } catch {
            #expect(error.problems.map(\.description) == [
                #".ociVersion: unsupported ociVersion "2.0.0" (crabcan supports 1.x)"#,
                ".process.user.uid: expected integer in 0...4294967295",
                ".process.user.gid: required field is missing",
                ".process.args: expected array of strings",
                ".process.cwd: required field is missing",
                ".root.path: must not be empty",
                ".mounts[1].destination: required field is missing",
                #".linux.namespaces[1].type: duplicate namespace type "pid""#,
                #".linux.namespaces[2].type: unknown namespace type "bogus""#,
                #".linux.devices[0].type: unknown device type "q""#,
                #".linux.devices[0].path: expected an absolute path, got "rel""#,
            ])
            #expect(error.description == #".ociVersion: unsupported ociVersion "2.0.0" (crabcan supports 1.x)"#)
            #expect(error.problems[0].position == JSONPosition(line: 2, column: 17))
            #expect(error.problems[1].position == JSONPosition(line: 3, column: 45))
            // A missing field points at the object that lacks it.
            #expect(error.problems[2].position == JSONPosition(line: 3, column: 37))
            #expect(error.problems[4].position == JSONPosition(line: 3, column: 14))
            #expect(error.problems[7].position == JSONPosition(line: 7, column: 46))
            #expect(error.problems[8].position == JSONPosition(line: 7, column: 63))
        }
    }

    @Test func syntaxErrorsCarryTheirPosition() {
        do {
            _ = try Spec.decode(Array("{\n  \"ociVersion\": \"1.0.0\"\n  \"x\": 1\n}".utf8))
            Issue.record("decoded invalid JSON")
        } catch {
            #expect(error.problems.count == 1)
            #expect(error.problems[0].path == "")
            #expect(error.problems[0].message.hasPrefix("invalid JSON: parse error"))
            #expect(error.problems[0].position?.line == 3)
        }
    }
}

@Suite struct SpecFuzzTests {
    /// Mutated configs must either decode (and then survive encode → decode unchanged) or list problems; never trap.
    @Test func mutatedConfigsNeverCrash() throws {
        var state: UInt64 = 0x2545_F491_4F6C_DD1D
        func next() -> Int {
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            return Int(truncatingIfNeeded: state & 0x7FFF_FFFF)
        }
        let seed = Array(richConfig.utf8)
        let pieces = [#"null"#, #"-1"#, #"18446744073709551616"#, #""""#, #"[]"#, #"{}"#, #"1.5"#, #"true"#, #""x""#, "-9223372036854775809"]
        var decoded = 0
        var refused = 0
        for _ in 0..<1500 {
            var bytes = seed
            for _ in 0..<(1 + next() % 3) {
                // Replace a value-looking span after a ':' or '[' with a piece of trouble.
                let start = next() % bytes.count
                guard let colon = bytes[start...].firstIndex(where: { $0 == UInt8(ascii: ":") || $0 == UInt8(ascii: "[") }) else { continue }
                var end = colon + 1
                while end < bytes.count, ![UInt8(ascii: ","), UInt8(ascii: "}"), UInt8(ascii: "]")].contains(bytes[end]) { end += 1 }
                bytes.replaceSubrange((colon + 1)..<end, with: Array(pieces[next() % pieces.count].utf8))
            }
            do {
                let spec = try Spec.decode(bytes)
                decoded += 1
                #expect(try Spec.decode(spec.encode(pretty: false)) == spec)
            } catch {
                refused += 1
                #expect(!error.problems.isEmpty)
                #expect(error.problems.allSatisfy { !$0.description.contains("\n") })
            }
        }
        #expect(decoded + refused == 1500)
        #expect(refused > 0)
    }
}
