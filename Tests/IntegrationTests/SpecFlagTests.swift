import Foundation
import Testing

/// `crabcan spec` with the tutorial's flags: each config passes `check` and runs, and the container shows the
/// effect (its hostname, ids, limits in its cgroup, capabilities in /proc/self/status, the bind mount).
extension CrabcanCLI {
    /// `spec --rootfs <sandbox rootfs> FLAGS -- COMMAND` in a new bundle dir, `check` (must be ok), `run`.
    func specCheckRun(_ box: Sandbox, _ name: String, _ flags: [String], _ command: [String]) throws -> (config: [String: Any], run: Result) {
        let dir = box.dir + "/" + name
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let spec = box.crabcan(["spec", "--rootfs", box.rootfs] + flags + ["--"] + command, cwd: dir)
        try #require(spec.status == 0, "\(spec)")
        let check = box.crabcan(["check"], cwd: dir)
        #expect(check.status == 0 && check.stdout == "config.json: ok\n", "\(flags): \(check)")
        let data = try Data(contentsOf: URL(fileURLWithPath: dir + "/config.json"))
        let config = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        return (config, box.crabcan(["run", "--bundle", dir, box.id(name)]))
    }

    @Test func specHostnameIsGivenOrRandomAndReadable() throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        let named = try specCheckRun(box, "named", ["--hostname", "blue-crab-7"], ["hostname"])
        #expect(named.run.status == 0 && named.run.stdout == "blue-crab-7\n", "\(named.run)")
        let random = try specCheckRun(box, "random", [], ["hostname"])
        let hostname = try #require(random.config["hostname"] as? String)
        #expect(hostname.range(of: "^[a-z]+-[a-z]+-[0-9]{1,3}$", options: .regularExpression) != nil, "\(hostname)")
        #expect(random.run.stdout == hostname + "\n", "\(random.run)")
    }

    @Test func specUserCwdAndEnv() throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        let (_, run) = try specCheckRun(box, "user", ["--user", "1000:1000", "--cwd", "/tmp", "--env", "FOO=bar", "-e", "TERM=dumb"],
                                        ["sh", "-c", "id -u; id -g; pwd; echo $FOO $TERM"])
        #expect(run.status == 0, "\(run)")
        #expect(run.stdoutLines == ["1000", "1000", "/tmp", "bar dumb"], "\(run)")
    }

    @Test func specLimitsAreInTheContainersCgroup() throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        let (_, run) = try specCheckRun(box, "limits", ["--memory", "64m", "--pids", "20", "--cpu-shares", "512"], [
            "sh", "-c",
            "cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/pids/pids.max /sys/fs/cgroup/cpu/cpu.shares",
        ])
        #expect(run.status == 0, "\(run)")
        #expect(run.stdoutLines == [String(64 << 20), "20", "512"], "\(run)")
    }

    @Test func specCapabilitiesAreWhatTheProcessHolds() throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        let status = ["cat", "/proc/self/status"]
        // runc's default set (AUDIT_WRITE 29, KILL 5, NET_BIND_SERVICE 10), less KILL, plus NET_RAW (13).
        let swapped = try specCheckRun(box, "swap", ["--cap-drop", "KILL", "--cap-add", "net_raw"], status)
        #expect(swapped.run.status == 0, "\(swapped.run)")
        #expect(Self.statusField(swapped.run.stdout, "CapEff") == "0000000020002400", "\(swapped.run)")
        #expect(Self.statusField(swapped.run.stdout, "CapBnd") == "0000000020002400", "\(swapped.run)")
        let only = try specCheckRun(box, "only", ["--cap-drop", "ALL", "--cap-add", "NET_ADMIN"], status)
        #expect(Self.statusField(only.run.stdout, "CapEff") == "0000000000001000", "\(only.run)")
        #expect(Self.statusField(only.run.stdout, "CapBnd") == "0000000000001000", "\(only.run)")
        let none = try specCheckRun(box, "none", ["--cap-drop", "ALL"], status)
        #expect(Self.statusField(none.run.stdout, "CapEff") == "0000000000000000", "\(none.run)")
        // A non-root user keeps an added capability across execve through the ambient set.
        let user = try specCheckRun(box, "usercap", ["--user", "1000", "--cap-drop", "ALL", "--cap-add", "NET_ADMIN"], status)
        #expect(Self.statusField(user.run.stdout, "Uid")?.hasPrefix("1000") == true, "\(user.run)")
        #expect(Self.statusField(user.run.stdout, "CapEff") == "0000000000001000", "\(user.run)")
        #expect(Self.statusField(user.run.stdout, "CapAmb") == "0000000000001000", "\(user.run)")
    }

    @Test func specBindMountsAreThereAndReadOnlyWhereAsked() throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        let ro = box.dir + "/host-ro", rw = box.dir + "/host-rw"
        for dir in [ro, rw] { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) }
        try "from the host\n".write(toFile: ro + "/f", atomically: true, encoding: .utf8)
        let (_, run) = try specCheckRun(box, "binds", ["--bind", "\(ro):/mnt/ro:ro", "--bind", "\(rw):/mnt/rw"], [
            "sh", "-c",
            "cat /mnt/ro/f; touch /mnt/ro/x 2>/dev/null || echo ro-refused; echo written > /mnt/rw/out;"
                + " grep -E ' /mnt/r[ow] ' /proc/self/mountinfo | cut -d' ' -f5,6",
        ])
        #expect(run.status == 0, "\(run)")
        #expect(run.stdoutLines.prefix(2) == ["from the host", "ro-refused"], "\(run)")
        let mounts = run.stdoutLines.dropFirst(2)
        #expect(mounts.contains { $0.hasPrefix("/mnt/ro ro,") }, "\(run)")
        #expect(mounts.contains { $0.hasPrefix("/mnt/rw rw,") }, "\(run)")
        #expect((try? String(contentsOfFile: rw + "/out", encoding: .utf8)) == "written\n")
        #expect(!FileManager.default.fileExists(atPath: ro + "/x"))
    }

    @Test func specReadonlyRoot() throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        let touch = ["sh", "-c", "touch /new-file 2>/dev/null && echo wrote || echo refused"]
        let readonly = try specCheckRun(box, "ro", ["--readonly"], touch)
        #expect(readonly.run.stdout == "refused\n", "\(readonly.run)")
        let writable = try specCheckRun(box, "rw", ["--readonly=false"], touch)
        #expect(writable.run.stdout == "wrote\n", "\(writable.run)")
        #expect(FileManager.default.fileExists(atPath: box.rootfs + "/new-file"))
    }

    @Test func specNetworkHostOrNone() throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        func interfaces(_ text: String) -> [String] {
            text.split(separator: "\n").dropFirst(2).compactMap { $0.split(separator: ":").first?.trimmingCharacters(in: .whitespaces) }.sorted()
        }
        let host = interfaces(try String(contentsOfFile: "/proc/net/dev", encoding: .utf8))
        let shared = try specCheckRun(box, "nethost", ["--net", "host"], ["cat", "/proc/net/dev"])
        #expect(interfaces(shared.run.stdout) == host, "\(shared.run)")
        let none = try specCheckRun(box, "netnone", ["--net", "none"], ["cat", "/proc/net/dev"])
        #expect(interfaces(none.run.stdout) == ["lo"], "\(none.run)")
    }

    @Test func specSeccompDefaultUnconfinedOrFile() throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        let mode = ["sh", "-c", "grep '^Seccomp:' /proc/self/status; mkdir -p /tmp/d 2>&1 || true"]
        // A writable root, so that only seccomp can refuse the mkdir.
        let byDefault = try specCheckRun(box, "scdefault", ["--seccomp", "default", "--readonly=false"], mode)
        #expect(byDefault.run.stdoutLines == ["Seccomp:\t2"], "\(byDefault.run)")
        let unconfined = try specCheckRun(box, "scnone", ["--seccomp", "unconfined", "--readonly=false"], mode)
        #expect(unconfined.run.stdoutLines == ["Seccomp:\t0"], "\(unconfined.run)")
        let profile = box.dir + "/no-mkdir.json"
        try #"{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO"}]}"#
            .write(toFile: profile, atomically: true, encoding: .utf8)
        let file = try specCheckRun(box, "scfile", ["--seccomp", profile, "--readonly=false"], mode)
        #expect(file.run.stdoutLines.first == "Seccomp:\t2", "\(file.run)")
        #expect(file.run.stdout.contains("Operation not permitted"), "\(file.run)")
    }

    /// --rootless and --terminal write what they should, and check says truthfully why crabcan cannot run them
    /// yet (user namespaces: issue #5; terminals: issue #6).
    @Test func specRootlessAndTerminalPassCheck() throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        for (name, flag, expected) in [
            // Without a command, both keep runc's default: a terminal for the interactive sh.
            ("rootless", "--rootless", ["warning: .process.terminal: create needs --console-socket to hand over the terminal"]),
            ("terminal", "--terminal", ["warning: .process.terminal: create needs --console-socket to hand over the terminal"]),
        ] {
            let dir = box.dir + "/" + name
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            #expect(box.crabcan(["spec", "--rootfs", box.rootfs, flag], cwd: dir).status == 0)
            let check = box.crabcan(["check"], cwd: dir)
            let errors = expected.contains { $0.hasPrefix("error: ") }
            #expect(check.status == (errors ? 1 : 0), "\(check)")
            let lines = check.stdoutLines.dropLast().map { $0.split(separator: " ", maxSplits: 1).last.map(String.init) ?? "" }
            #expect(lines == expected, "\(check)")
            guard name == "terminal" else { continue }  // a rootless config runs: RootlessTests
            // A terminal needs a console socket to go to when create returns (runc's rule).
            let create = box.crabcan(["create", "--bundle", dir, box.id(name)])
            #expect(create.status == 1 && create.stderr.contains("console socket"), "\(create)")
        }
        let config = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: box.dir + "/rootless/config.json"))) as? [String: Any]
        let linux = config?["linux"] as? [String: Any]
        #expect((linux?["uidMappings"] as? [[String: Any]])?.first?["size"] as? Int == 1)
    }

    /// The tutorial's `crabcan --debug -u 0 -m ./mountdir -c /bin/sh -a /lib:/lib`, as a bundle.
    @Test func theTutorialsCommandLineAsABundle() throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        let spec = box.crabcan(["spec", "-u", "0", "--rootfs", "./rootfs", "--bind", "/lib:/lib", "--",
                                "/bin/sh", "-c", "test -d /lib/x86_64-linux-gnu -o -e /lib/ld-linux-aarch64.so.1 && echo lib-ok; id -u"],
                               cwd: box.dir)
        #expect(spec.status == 0, "\(spec)")
        let config = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: box.dir + "/config.json"))) as? [String: Any]
        #expect((config?["root"] as? [String: Any])?["path"] as? String == "rootfs", "inside the bundle: kept relative")
        #expect(box.crabcan(["check"], cwd: box.dir).stdout == "config.json: ok\n")
        let run = box.crabcan(["--debug", "run", "--bundle", ".", box.id("tutorial")], cwd: box.dir)
        #expect(run.status == 0, "\(run)")
        #expect(run.stdoutLines == ["lib-ok", "0"], "\(run)")
    }

    @Test func specRefusesBadFlagValuesWithTheFlagName() throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        for (flags, name) in [(["--user", "root"], "--user"), (["--memory", "lots"], "--memory"), (["--pids", "x"], "--pids"),
                              (["--cap-add", "FLY"], "--cap-add"), (["--bind", "/nonexistent-src:/x"], "--bind"),
                              (["--net", "bridge"], "--net"), (["--cwd", "rel"], "--cwd")] {
            let result = box.crabcan(["spec"] + flags, cwd: box.dir)
            #expect(result.status == 1 && result.stderrLines.count == 1 && result.stderr.contains(name), "\(flags): \(result)")
            #expect(!FileManager.default.fileExists(atPath: box.dir + "/config.json"), "\(flags) left a config")
        }
    }
}
