import Foundation
import Testing

/// `run`: what the process inside sees, exit codes, signals, detach, pid files.
extension CrabcanCLI {
    @Test func runPrintsFromInsideTheContainer() throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        let id = box.id("run")
        let bundle = try box.bundle(["sh", "-c", "echo pid=$$; echo hostname=$(hostname); echo uid=$(id -u); id"]) {
            $0["hostname"] = "it-host"
        }
        let result = box.crabcan(["run", "--bundle", bundle, id])
        #expect(result.status == 0, "\(result)")
        #expect(!result.timedOut)
        #expect(result.stdoutLines.contains("pid=1"), "\(result)")
        #expect(result.stdoutLines.contains("hostname=it-host"), "\(result)")
        #expect(result.stdoutLines.contains("uid=0"), "\(result)")
        #expect(result.stdout.contains("uid=0(root)"), "\(result)")
        #expect(!box.stateDirExists(id), "run must delete the container when it exits")
    }

    @Test func runPropagatesExitCode() throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        let id = box.id("exit3")
        let result = box.crabcan(["run", "--bundle", try box.bundle(["sh", "-c", "exit 3"]), id])
        #expect(result.status == 3, "\(result)")
        #expect(!result.signaled)
        #expect(!box.stateDirExists(id))
    }

    /// SIGTERM to `crabcan run` reaches the container's init, whose trap decides the exit code.
    @Test func runForwardsSignalsToInit() throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        let id = box.id("fwd")
        let bundle = try box.bundle(["sh", "-c", "trap 'exit 7' TERM; echo ready; sleep 100 & wait"])
        let run = try box.start(["run", "--bundle", bundle, id])
        try #require(eventually { run.stdoutSoFar.contains("ready") }, "the trap was never installed")
        run.signal(SIGTERM)
        let result = run.wait()
        #expect(result.status == 7, "\(result)")
        #expect(!result.signaled, "crabcan itself must not die of the signal")
        #expect(!result.timedOut)
        #expect(!box.stateDirExists(id))
    }

    /// `crabcan kill ID KILL` from another invocation: `run` reports 128 + 9.
    @Test func runReportsKilledContainerAs137() throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        let id = box.id("kill9")
        let run = try box.start(["run", "--bundle", try box.bundle(["sleep", "100"]), id])
        try #require(box.waitForStatus(id, "running"))
        let kill = box.crabcan(["kill", id, "KILL"])
        #expect(kill.status == 0, "\(kill)")
        let result = run.wait()
        #expect(result.status == 137, "\(result)")
        #expect(!result.signaled)
        #expect(!box.stateDirExists(id))
    }

    /// `run` removes its state dir by the names its create wrote and lists it only when something else is left: whether
    /// the init shares crabcan's memory (no exec.fifo) or is started through exec.fifo (a time namespace), with a
    /// kept seccomp program (seccomp.bpf), with its rootfs bound under the state dir (no mount namespace of its own),
    /// and with a stranger's torn temporary file in the dir, nothing is left: no state dir, cgroup, process or mount.
    @Test func runRemovesItsStateDirWhateverItHolds() throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        let made = ["cgroups.json", "config.json", "state.json"]
        let allowAllButAcct: [String: Any] = [
            "defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
            "syscalls": [["names": ["acct"], "action": "SCMP_ACT_ERRNO"]]]
        let cases: [(name: String, holds: [String], stray: Bool, edit: (inout [String: Any]) -> Void)] = [
            ("shared", made, false, { _ in }),
            ("seccomp", made + ["seccomp.bpf"], false, { SeccompFixtures.setSeccomp(&$0, allowAllButAcct, noNewPrivileges: false) }),
            ("fifo", made, true, { config in
                var linux = config["linux"] as! [String: Any]
                linux["namespaces"] = (linux["namespaces"] as! [[String: Any]]) + [["type": "time"]]
                config["linux"] = linux
            }),
            ("hostroot", made + ["rootfs"], false, Self.withoutNamespaces),
        ]
        for c in cases {
            let id = box.id("run-rm-" + c.name)
            let go = "/go-" + c.name
            let bundle = try box.bundle(["sh", "-c", "while [ ! -e \(go) ]; do usleep 10000; done"], name: c.name, edit: c.edit)
            let run = try box.start(["run", "--bundle", bundle, id])
            #expect(box.waitForStatus(id, "running"), "\(c.name)")
            let dir = box.root + "/" + id
            #expect((try? FileManager.default.contentsOfDirectory(atPath: dir))?.sorted() == c.holds.sorted(), "\(c.name)")
            if c.stray { try "torn".write(toFile: dir + "/state.json.1.tmp", atomically: false, encoding: .utf8) }
            FileManager.default.createFile(atPath: box.rootfs + go, contents: nil)
            let result = run.wait()
            #expect(result.status == 0 && result.stderr.isEmpty, "\(c.name): \(result)")
            box.expectGone(id, c.name)
        }
        #expect(box.rootEntries().isEmpty, "\(box.rootEntries())")
        #expect(Self.mountsUnder(box.dir).isEmpty, "\(Self.mountsUnder(box.dir))")
    }

    @Test func runDetachLeavesContainerRunning() throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        let id = box.id("detach")
        let result = box.crabcan(["run", "--detach", "--bundle", try box.bundle(["sleep", "100"]), id])
        #expect(result.status == 0, "\(result)")
        #expect(!result.timedOut)
        #expect(box.status(id) == "running")
        let pid = try #require(box.pid(id))
        #expect(pid > 0 && Host.isAlive(pid))
        try #require(box.crabcan(["kill", id, "KILL"]).status == 0)
        try #require(box.waitForStatus(id, "stopped"))
        let delete = box.crabcan(["delete", id])
        #expect(delete.status == 0, "\(delete)")
        #expect(!box.stateDirExists(id))
        #expect(eventually { !Host.isAlive(pid) })
    }

    @Test func pidFileHoldsInitPid() throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        let id = box.id("pidfile")
        let pidFile = box.dir + "/init.pid"
        let create = box.crabcan(["create", "--pid-file", pidFile, "--bundle", try box.bundle(["sleep", "100"]), id])
        #expect(create.status == 0, "\(create)")
        let text = try String(contentsOfFile: pidFile, encoding: .utf8)
        let statePid = try #require(box.pid(id))
        #expect(statePid > 0)
        #expect(pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines)) == statePid, "pid file: \(text)")
        #expect(Host.isAlive(statePid))
    }

    /// Only stdio reaches the process (3 is ls's own directory handle on /proc/self/fd).
    @Test func noHostFileDescriptorsLeakIn() throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        let id = box.id("fds")
        let result = box.crabcan(["run", "--bundle", try box.bundle(["ls", "/proc/self/fd"]), id])
        #expect(result.status == 0, "\(result)")
        let fds = result.stdout.split(whereSeparator: \.isWhitespace).compactMap { Int($0) }
        #expect(fds.contains(0) && fds.contains(1) && fds.contains(2), "\(result)")
        #expect(fds.allSatisfy { $0 <= 3 }, "leaked descriptors: \(fds)")
    }
}
