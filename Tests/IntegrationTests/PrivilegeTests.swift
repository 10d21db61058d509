import Foundation
import Testing

/// Issue 3: the container gets exactly the privileges its config grants, as the container itself sees them.
extension CrabcanCLI {
    static func statusField(_ output: String, _ name: String) -> String? {
        output.split(separator: "\n").first { $0.hasPrefix(name + ":") }
            .map { $0.dropFirst(name.count + 1).trimmingCharacters(in: .whitespaces) }
    }

    @Test func capabilitiesAreExactlyTheConfiguredSetsAlsoForANonRootUser() throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        let bundle = try box.bundle(["sh", "-c", "grep -E '^(Cap|NoNewPrivs)' /proc/self/status; id -u"]) {
            var process = $0["process"] as! [String: Any]
            process["user"] = ["uid": 1000, "gid": 1000]
            let caps = ["CAP_NET_BIND_SERVICE"]
            process["capabilities"] = ["bounding": caps, "effective": caps, "inheritable": caps, "permitted": caps, "ambient": caps]
            process["noNewPrivileges"] = true
            $0["process"] = process
        }
        let result = box.crabcan(["run", "--bundle", bundle, box.id("caps")])
        #expect(result.status == 0, "\(result)")
        for field in ["CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"] {
            #expect(Self.statusField(result.stdout, field) == "0000000000000400", "\(field): \(result)")
        }
        #expect(Self.statusField(result.stdout, "NoNewPrivs") == "1")
        #expect(result.stdoutLines.last == "1000")
    }

    @Test func unknownCapabilityIsRefusedWithItsPath() throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        let id = box.id("badcap")
        let bundle = try box.bundle(["true"]) {
            var process = $0["process"] as! [String: Any]
            process["capabilities"] = ["bounding": ["CAP_CHOWN", "CAP_FLY"]]
            $0["process"] = process
        }
        let result = box.crabcan(["create", "--bundle", bundle, id])
        #expect(result.status == 1)
        #expect(result.stderrLines.count == 1, "\(result)")
        #expect(result.stderr.contains(".process.capabilities.bounding[1]") && result.stderr.contains("CAP_FLY"), "\(result)")
        #expect(!box.stateDirExists(id))
    }

    @Test func rlimitsOomScoreAndSysctlAreApplied() throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        let bundle = try box.bundle(["sh", "-c", "ulimit -n; ulimit -Hn; cat /proc/self/oom_score_adj; cat /proc/sys/kernel/shmmni"]) {
            var process = $0["process"] as! [String: Any]
            process["rlimits"] = [["type": "RLIMIT_NOFILE", "soft": 123, "hard": 456]]
            process["oomScoreAdj"] = 333
            $0["process"] = process
            var linux = $0["linux"] as! [String: Any]
            linux["sysctl"] = ["kernel.shmmni": "1234"]
            $0["linux"] = linux
        }
        let result = box.crabcan(["run", "--bundle", bundle, box.id("limits")])
        #expect(result.status == 0, "\(result)")
        #expect(result.stdoutLines == ["123", "456", "333", "1234"], "\(result)")
        // The sysctl was the container's own ipc namespace's: the host keeps its value.
        let host = try String(contentsOfFile: "/proc/sys/kernel/shmmni", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(host != "1234")
    }

    @Test func sysctlNeedingANamespaceTheConfigDoesNotCreateIsRefused() throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        let id = box.id("sysctl")
        let bundle = try box.bundle(["true"]) {
            var linux = $0["linux"] as! [String: Any]
            linux["namespaces"] = [["type": "pid"], ["type": "mount"]]
            linux["sysctl"] = ["net.ipv4.ip_forward": "1"]
            $0["linux"] = linux
            $0.removeValue(forKey: "hostname")
        }
        let result = box.crabcan(["create", "--bundle", bundle, id])
        #expect(result.status == 1)
        #expect(result.stderr.contains("net.ipv4.ip_forward"), "\(result)")
        #expect(!box.stateDirExists(id))
    }

    @Test func seccompDeniesWithTheConfiguredErrnoAndTheDefaultProfileWorks() throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        // busybox `hostname NAME` calls sethostname: deny it with EACCES (13) -> "Permission denied".
        let bundle = try box.bundle(["sh", "-c", "grep Seccomp: /proc/self/status; hostname other 2>&1; echo rc=$?"]) {
            var linux = $0["linux"] as! [String: Any]
            linux["seccomp"] = ["defaultAction": "SCMP_ACT_ALLOW",
                                "syscalls": [["names": ["sethostname"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13]]]
            $0["linux"] = linux
        }
        let result = box.crabcan(["run", "--bundle", bundle, box.id("seccomp")])
        #expect(result.status == 0, "\(result)")
        #expect(Self.statusField(result.stdout, "Seccomp") == "2", "\(result)")
        #expect(result.stdout.contains("Permission denied"), "\(result)")
        #expect(result.stdoutLines.last == "rc=1", "\(result)")
    }

    @Test func defaultSpecProfileDeniesTheListAndBusyboxStillWorks() throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        let specDir = box.dir + "/spec"
        try FileManager.default.createDirectory(atPath: specDir, withIntermediateDirectories: true)
        #expect(box.crabcan(["spec"], cwd: specDir).status == 0)
        let data = try Data(contentsOf: URL(fileURLWithPath: specDir + "/config.json"))
        var config = try JSONSerialization.jsonObject(with: data) as! [String: Any]
        var process = config["process"] as! [String: Any]
        process["args"] = ["sh", "-c", "touch /tmp/f && chmod 4755 /tmp/f; echo suid=$?; chmod 755 /tmp/f; echo plain=$?; "
                           + "unshare -U true; echo userns=$?; ls / >/dev/null; echo ls=$?; grep Seccomp: /proc/self/status"]
        process["terminal"] = false  // spec's default is runc's, a terminal for the interactive sh
        config["process"] = process
        config["root"] = ["path": box.rootfs, "readonly": false]
        try JSONSerialization.data(withJSONObject: config).write(to: URL(fileURLWithPath: specDir + "/config.json"))
        let result = box.crabcan(["run", "--bundle", specDir, box.id("defprof")])
        #expect(result.status == 0, "\(result)")
        #expect(result.stdout.contains("suid=1"), "setuid chmod must be denied: \(result)")
        #expect(result.stdout.contains("plain=0"), "\(result)")
        #expect(!result.stdout.contains("userns=0"), "a user namespace must be denied: \(result)")
        #expect(result.stdout.contains("ls=0"), "\(result)")
        #expect(Self.statusField(result.stdout, "Seccomp") == "2", "\(result)")
    }
}

extension CrabcanCLI {
    /// A label the host cannot apply is refused, naming the field: running unconfined instead would be worse.
    @Test(arguments: [("apparmorProfile", ".process.apparmorProfile"), ("selinuxLabel", ".process.selinuxLabel")])
    func securityLabelsWithoutTheModuleAreRefused(_ field: String, _ path: String) throws {
        let lsm = (try? String(contentsOfFile: "/proc/filesystems", encoding: .utf8)) ?? ""
        let appArmor = FileManager.default.fileExists(atPath: "/sys/module/apparmor")
        try #require(!(field == "apparmorProfile" ? appArmor : lsm.contains("selinuxfs")), "this host has the module")
        let box = try Sandbox()
        defer { box.cleanup() }
        let id = box.id("lsm")
        let bundle = try box.bundle(["true"]) {
            var process = $0["process"] as! [String: Any]
            process[field] = "some-profile"
            $0["process"] = process
        }
        let result = box.crabcan(["create", "--bundle", bundle, id])
        #expect(result.status == 1)
        #expect(result.stderrLines.count == 1 && result.stderr.contains(path) && result.stderr.contains("not enabled"), "\(result)")
        #expect(!box.stateDirExists(id))
    }
}

extension CrabcanCLI {
    /// SCMP_ACT_NOTIFY: create hands the listener fd and the container state to `listenerPath` (SCM_RIGHTS), as
    /// runc does. The supervisor here records what it got and closes the fd; a notified call then fails ENOSYS.
    @Test func seccompNotifyListenerGetsTheFdAndState() throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        let socketPath = box.dir + "/listener.sock"
        let report = box.dir + "/listener.json"
        let script = """
        import json, os, socket, sys
        path, out = sys.argv[1:]
        server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        server.bind(path)
        server.listen(1)
        conn, _ = server.accept()
        message, fds, _, _ = socket.recv_fds(conn, 65536, 4)
        kinds = [os.readlink(f"/proc/self/fd/{fd}") for fd in fds]
        for fd in fds:
            os.close(fd)
        json.dump({"payload": json.loads(message), "fds": kinds}, open(out, "w"))
        """
        let listener = try Command("/usr/bin/python3", ["-c", script, socketPath, report])
        defer { if listener.isRunning { listener.signal(SIGKILL) } }
        try #require(eventually { FileManager.default.fileExists(atPath: socketPath) }, "listener did not start")
        let id = box.id("notify")
        let bundle = try box.bundle(["sh", "-c", "mkdir /made 2>&1; echo rc=$?"]) {
            var linux = $0["linux"] as! [String: Any]
            linux["seccomp"] = ["defaultAction": "SCMP_ACT_ALLOW", "listenerPath": socketPath, "listenerMetadata": "hello",
                                "syscalls": [["names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_NOTIFY"]]]
            $0["linux"] = linux
        }
        let result = box.crabcan(["run", "--bundle", bundle, id])
        #expect(result.status == 0, "\(result)")
        #expect(result.stdout.contains("rc=1"), "mkdir must fail once the supervisor is gone: \(result)")
        #expect(!FileManager.default.fileExists(atPath: box.rootfs + "/made"))
        _ = listener.wait(timeout: 10)
        let data = try Data(contentsOf: URL(fileURLWithPath: report))
        let got = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let fds = got["fds"] as? [String] ?? []
        #expect(fds.count == 1 && fds[0].contains("seccomp"), "\(got)")
        let payload = try #require(got["payload"] as? [String: Any])
        #expect(payload["fds"] as? [String] == ["seccompFd"])
        #expect(payload["metadata"] as? String == "hello")
        #expect((payload["pid"] as? Int ?? 0) > 0)
        let state = try #require(payload["state"] as? [String: Any])
        #expect(state["id"] as? String == id)
    }
}
