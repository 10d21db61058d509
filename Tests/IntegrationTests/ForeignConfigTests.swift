import Foundation
import Testing

/// Issue 12: the config.json that podman 4.3, containerd 1.6 (ctr) and Docker 20.10 write for a plain run, a
/// read-only/cap-drop/user run and a tty run, captured once from their bundles (scripts/capture-foreign-configs.sh,
/// scrubbed by scripts/scrub-foreign-config.py into Tests/Golden/foreign/), each run with busybox to the end under
/// crabcan with noNewPrivileges true and false: the container's exit status, its uid/gid/groups, whether its root
/// is writable, its capability sets, NoNewPrivs and seccomp mode are what the config asks, and nothing is left.
extension CrabcanCLI {
    static let foreignDir = Paths.repo + "/Tests/Golden/foreign"
    static let foreignConfigs: [String] = ((try? FileManager.default.contentsOfDirectory(atPath: foreignDir)) ?? [])
        .filter { $0.hasSuffix(".json") }.map { String($0.dropLast(5)) }.sorted()

    /// capability(7) numbers, CAP_CHOWN (0) .. CAP_CHECKPOINT_RESTORE (40).
    static let capabilityNumbers: [String: Int] = Dictionary(uniqueKeysWithValues: [
        "CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID", "KILL", "SETGID", "SETUID", "SETPCAP",
        "LINUX_IMMUTABLE", "NET_BIND_SERVICE", "NET_BROADCAST", "NET_ADMIN", "NET_RAW", "IPC_LOCK", "IPC_OWNER",
        "SYS_MODULE", "SYS_RAWIO", "SYS_CHROOT", "SYS_PTRACE", "SYS_PACCT", "SYS_ADMIN", "SYS_BOOT", "SYS_NICE",
        "SYS_RESOURCE", "SYS_TIME", "SYS_TTY_CONFIG", "MKNOD", "LEASE", "AUDIT_WRITE", "AUDIT_CONTROL", "SETFCAP",
        "MAC_OVERRIDE", "MAC_ADMIN", "SYSLOG", "WAKE_ALARM", "BLOCK_SUSPEND", "AUDIT_READ", "PERFMON", "BPF",
        "CHECKPOINT_RESTORE",
    ].enumerated().map { ("CAP_" + $0.element, $0.offset) })

    /// /proc/self/status's hex form of a capability list.
    static func capabilityMask(_ names: [String]?) -> String {
        let mask = (names ?? []).reduce(UInt64(0)) { $0 | (1 << UInt64(capabilityNumbers[$1] ?? 63)) }
        let hex = String(mask, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }

    /// The captured config with this sandbox's rootfs, files and directories of its own for the client's state
    /// mounts, a cgroup of the test's own (always absolute: a relative one would sit under the test runner's
    /// cgroup), `args` and noNewPrivileges as given.
    static func foreignBundle(_ box: Sandbox, _ name: String, noNewPrivileges: Bool, args: [String],
                              cgroup: String) throws -> (bundle: String, config: [String: Any]) {
        let data = try Data(contentsOf: URL(fileURLWithPath: foreignDir + "/\(name).json"))
        var config = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let bundle = box.dir + "/\(name)-\(noNewPrivileges)"
        let state = bundle + "-state"
        try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: true)
        var root = try #require(config["root"] as? [String: Any])
        root["path"] = box.rootfs
        config["root"] = root
        var mounts = try #require(config["mounts"] as? [[String: Any]])
        for index in mounts.indices {
            switch mounts[index]["source"] as? String {
            case "@FILE@":
                let file = state + "/file\(index)"
                try "127.0.0.1 localhost\n".write(toFile: file, atomically: true, encoding: .utf8)
                mounts[index]["source"] = file
            case "@DIR@":
                let dir = state + "/dir\(index)"
                try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
                mounts[index]["source"] = dir
            default: break
            }
        }
        config["mounts"] = mounts
        var linux = try #require(config["linux"] as? [String: Any])
        linux["cgroupsPath"] = "/" + cgroup
        config["linux"] = linux
        var process = try #require(config["process"] as? [String: Any])
        process["args"] = args
        process["noNewPrivileges"] = noNewPrivileges
        config["process"] = process
        try FileManager.default.createDirectory(atPath: bundle, withIntermediateDirectories: true)
        try JSONSerialization.data(withJSONObject: config, options: [.prettyPrinted, .sortedKeys])
            .write(to: URL(fileURLWithPath: bundle + "/config.json"))
        return (bundle, config)
    }

    @Test(.enabled(if: getuid() == 0, "needs root"), arguments: foreignConfigs, [true, false])
    func foreignConfigRunsBusyboxAsItAsks(name: String, noNewPrivileges: Bool) throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        let id = box.id("foreign")
        let cgroup = "crabcan-it-foreign-" + id
        let probe = "id -u; id -g; touch /probe 2>/dev/null && echo rw || echo ro; grep -E '^(Groups|Cap(Inh|Prm|Eff|Bnd|Amb)|NoNewPrivs|Seccomp):' /proc/self/status; exit 7"
        let (bundle, config) = try Self.foreignBundle(box, name, noNewPrivileges: noNewPrivileges, args: ["sh", "-c", probe],
                                                      cgroup: cgroup)
        let process = try #require(config["process"] as? [String: Any])
        let user = try #require(process["user"] as? [String: Any])
        let caps = process["capabilities"] as? [String: [String]] ?? [:]
        let hasSeccomp = (config["linux"] as? [String: Any])?["seccomp"] != nil
        let before = HostSnapshot.take(root: box.root, ids: [id])

        let run = box.crabcan(["run", "--bundle", bundle, id], timeout: 30)
        #expect(run.status == 7, "\(name): \(run)")
        #expect(run.stderr.isEmpty, "\(name): nothing but the container's output: \(run)")
        // A terminal writes "\r\n".
        let lines = run.stdout.replacingOccurrences(of: "\r\n", with: "\n").split(separator: "\n").map(String.init)
        var seen: [String: String] = [:]
        for line in lines.dropFirst(3) {
            let parts = line.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            if parts.count == 2 { seen[parts[0]] = parts[1] } else if parts.count == 1 { seen[parts[0]] = "" }
        }
        #expect(lines.prefix(2) == ["\(user["uid"] as? Int ?? -1)", "\(user["gid"] as? Int ?? -1)"], "\(name): \(lines)")
        let readonly = (config["root"] as? [String: Any])?["readonly"] as? Bool ?? false
        #expect(lines.count > 2 && lines[2] == (readonly ? "ro" : "rw"), "\(name): root.readonly \(readonly): \(lines)")
        let groups = Set(((user["additionalGids"] as? [Int]) ?? []).map(String.init))
        #expect(Set((seen["Groups"] ?? "?").split(separator: " ").map(String.init)) == groups, "\(name): \(lines)")
        for (field, set) in [("CapInh", "inheritable"), ("CapPrm", "permitted"), ("CapEff", "effective"),
                             ("CapBnd", "bounding"), ("CapAmb", "ambient")] {
            #expect(seen[field] == Self.capabilityMask(caps[set]), "\(name): \(field) is \(seen[field] ?? "?"), config \(set) \(caps[set] ?? [])")
        }
        #expect(seen["NoNewPrivs"] == (noNewPrivileges ? "1" : "0"), "\(name): \(lines)")
        #expect(seen["Seccomp"] == (hasSeccomp ? "2" : "0"), "\(name): \(lines)")

        // `run` deleted the container: nothing of it is left.
        box.expectGone(id, name)
        let after = HostSnapshot.take(root: box.root, ids: [id])
        #expect(after.leaks(since: before).isEmpty, "\(name): \(after.leaks(since: before))")
        let cgroupsLeft = HostSnapshot.cgroupMounts.map { "\($0)/\(cgroup)" }.filter { FileManager.default.fileExists(atPath: $0) }
        #expect(cgroupsLeft.isEmpty, "\(name): \(cgroupsLeft)")
    }
}
