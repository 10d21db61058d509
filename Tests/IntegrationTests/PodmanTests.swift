import Foundation
import Testing

/// Issue 6: podman (through conmon) drives the runtime (ClientRuntime: crabcan unless CRABCAN_CLIENT_RUNTIME
/// names another, to compare) on the busybox image, with storage of its own in a temp dir.
extension CrabcanCLI {
    static let noPodman = ClientAvailability.podman

    @Test(.disabled(if: noPodman != nil, Comment(rawValue: noPodman ?? "")))
    func podmanRunRmEcho() throws {
        let podman = try Podman()
        defer { podman.cleanup() }
        let result = podman.run([], ["echo", "hello from podman"])
        #expect(result.status == 0 && result.stdout == "hello from podman\n", "\(result)")
        #expect(podman.podman(["ps", "--all", "--quiet"]).stdout.isEmpty, "--rm left a container")
    }

    @Test(.disabled(if: noPodman != nil, Comment(rawValue: noPodman ?? "")))
    func podmanExitCodePropagates() throws {
        let podman = try Podman()
        defer { podman.cleanup() }
        let result = podman.run([], ["sh", "-c", "exit 3"])
        #expect(result.status == 3, "\(result)")
    }

    @Test(.disabled(if: noPodman != nil, Comment(rawValue: noPodman ?? "")))
    func podmanTerminal() throws {
        let podman = try Podman()
        defer { podman.cleanup() }
        let result = podman.run(["-t"], ["sh", "-c", "tty; test -t 0 && test -t 1 && echo both-ttys"])
        #expect(result.status == 0, "\(result)")
        #expect(result.stdout.contains("/dev/pts/"), "\(result)")
        // The terminal's line discipline turns \n into \r\n: the output really went through a pty.
        #expect(result.stdout.contains("both-ttys\r\n"), "\(result)")
    }

    @Test(.disabled(if: noPodman != nil, Comment(rawValue: noPodman ?? "")))
    func podmanEnvironment() throws {
        let podman = try Podman()
        defer { podman.cleanup() }
        let result = podman.run(["-e", "GREETING=hello world", "--env", "EMPTY="], ["sh", "-c", "echo \"$GREETING\"; env | grep -c '^EMPTY=$'"])
        #expect(result.status == 0 && result.stdout == "hello world\n1\n", "\(result)")
    }

    @Test(.disabled(if: noPodman != nil, Comment(rawValue: noPodman ?? "")))
    func podmanWorkdir() throws {
        let podman = try Podman()
        defer { podman.cleanup() }
        let result = podman.run(["--workdir", "/home/user"], ["pwd"])
        #expect(result.status == 0 && result.stdout == "/home/user\n", "\(result)")
    }

    @Test(.disabled(if: noPodman != nil, Comment(rawValue: noPodman ?? "")))
    func podmanUser() throws {
        let podman = try Podman()
        defer { podman.cleanup() }
        let result = podman.run(["--user", "1000:1000"], ["sh", "-c", "id -u; id -g; touch /home/user/f && echo home-writable; touch /root/f 2>/dev/null || echo root-denied"])
        #expect(result.status == 0 && result.stdout == "1000\n1000\nhome-writable\nroot-denied\n", "\(result)")
    }

    @Test(.disabled(if: noPodman != nil, Comment(rawValue: noPodman ?? "")))
    func podmanMemoryAndPidsLimitsInTheCgroup() throws {
        let podman = try Podman()
        defer { podman.cleanup() }
        let limits = ["--memory", "64m", "--pids-limit", "50"]
        // Seen from inside (podman mounts the container's cgroups at /sys/fs/cgroup; v1 here, v2 elsewhere)...
        let inside = podman.run(limits, ["sh", "-c", "cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/pids/pids.max 2>/dev/null || cat /sys/fs/cgroup/memory.max /sys/fs/cgroup/pids.max"])
        #expect(inside.status == 0 && inside.stdout == "67108864\n50\n", "\(inside)")
        // ...and from the host, in the cgroup the container's init is in.
        guard let id = podman.runDetached(["sleep", "1000"], flags: limits) else { return }
        let pid = try #require(Int32(podman.inspect(id, "{{.State.Pid}}")))
        #expect(Tools.cgroupFile(pid: pid, controller: "memory", file: "memory.limit_in_bytes") == "67108864")
        #expect(Tools.cgroupFile(pid: pid, controller: "pids", file: "pids.max") == "50")
        #expect(podman.podman(["rm", "--force", "--time", "0", id]).status == 0)
    }

    @Test(.disabled(if: noPodman != nil, Comment(rawValue: noPodman ?? "")))
    func podmanCapDropAll() throws {
        let podman = try Podman()
        defer { podman.cleanup() }
        let result = podman.run(["--cap-drop", "ALL"], ["sh", "-c", "grep -E '^Cap(Inh|Prm|Eff|Bnd|Amb)' /proc/self/status"])
        #expect(result.status == 0, "\(result)")
        let sets = result.stdoutLines.map { $0.split(separator: "\t").last.map(String.init) ?? "" }
        #expect(sets.count == 5 && sets.allSatisfy { $0 == "0000000000000000" }, "\(result)")
    }

    @Test(.disabled(if: noPodman != nil, Comment(rawValue: noPodman ?? "")))
    func podmanReadOnlyRoot() throws {
        let podman = try Podman()
        defer { podman.cleanup() }
        // --read-only keeps /tmp, /var/tmp and /run writable (tmpfs, podman's read-only-tmpfs default).
        let result = podman.run(["--read-only"], ["sh", "-c", "touch /x 2>/dev/null && echo root-writable; touch /tmp/y && echo tmp-writable"])
        #expect(result.status == 0 && result.stdout == "tmp-writable\n", "\(result)")
    }

    @Test(.disabled(if: noPodman != nil, Comment(rawValue: noPodman ?? "")))
    func podmanBindMountWrittenInsideReadOutside() throws {
        let podman = try Podman()
        defer { podman.cleanup() }
        let volume = podman.dir + "/volume"
        try FileManager.default.createDirectory(atPath: volume, withIntermediateDirectories: true)
        try "from the host\n".write(toFile: volume + "/in", atomically: true, encoding: .utf8)
        let result = podman.run(["-v", "\(volume):/data"], ["sh", "-c", "cat /data/in; echo written inside > /data/out"])
        #expect(result.status == 0 && result.stdout == "from the host\n", "\(result)")
        #expect(Tools.read(volume + "/out") == "written inside")
    }

    @Test(.disabled(if: noPodman != nil, Comment(rawValue: noPodman ?? "")))
    func podmanDetachedExecStopRm() throws {
        let podman = try Podman()
        defer { podman.cleanup() }
        guard let id = podman.runDetached(["sh", "-c", "echo started; trap 'exit 0' TERM; while :; do sleep 0.1; done"]) else { return }
        let pid = try #require(Int32(podman.inspect(id, "{{.State.Pid}}")))
        #expect(podman.inspect(id, "{{.State.Status}}") == "running")

        let exec = podman.podman(["exec", id, "sh", "-c", "echo exec-ok; exit 4"])
        #expect(exec.status == 4 && exec.stdout == "exec-ok\n", "\(exec)")

        // The init traps TERM and exits 0: stop must not need its SIGKILL fallback.
        let started = Date()
        let stop = podman.podman(["stop", "--time", "10", id])
        #expect(stop.status == 0, "\(stop)")
        #expect(Date().timeIntervalSince(started) < 8, "stop waited for the SIGKILL timeout")
        #expect(podman.inspect(id, "{{.State.Status}} {{.State.ExitCode}}") == "exited 0")
        #expect(!Host.isAlive(pid))

        let rm = podman.podman(["rm", id])
        #expect(rm.status == 0, "\(rm)")
        #expect(podman.podman(["ps", "--all", "--quiet"]).stdout.isEmpty)
    }

    @Test(.disabled(if: noPodman != nil, Comment(rawValue: noPodman ?? "")))
    func podmanPauseUnpause() throws {
        let podman = try Podman()
        defer { podman.cleanup() }
        guard let id = podman.runDetached(["sh", "-c", "while :; do sleep 0.1; done"]) else { return }
        let pid = try #require(Int32(podman.inspect(id, "{{.State.Pid}}")))
        let pause = podman.podman(["pause", id])
        #expect(pause.status == 0, "\(pause)")
        #expect(podman.inspect(id, "{{.State.Status}}") == "paused")
        #expect(Tools.cgroupFile(pid: pid, controller: "freezer", file: "freezer.state") == "FROZEN")
        let unpause = podman.podman(["unpause", id])
        #expect(unpause.status == 0, "\(unpause)")
        #expect(podman.inspect(id, "{{.State.Status}}") == "running")
        #expect(Tools.cgroupFile(pid: pid, controller: "freezer", file: "freezer.state") == "THAWED")
        #expect(podman.podman(["rm", "--force", "--time", "0", id]).status == 0)
    }

    @Test(.disabled(if: noPodman != nil, Comment(rawValue: noPodman ?? "")))
    func podmanTop() throws {
        let podman = try Podman()
        defer { podman.cleanup() }
        guard let id = podman.runDetached(["sleep", "1000"]) else { return }
        let top = podman.podman(["top", id, "pid", "args"])
        #expect(top.status == 0, "\(top)")
        // The container's init is pid 1 of its own pid namespace.
        #expect(top.stdoutLines.contains { $0.split(separator: " ", omittingEmptySubsequences: true) == ["1", "sleep", "1000"] }, "\(top)")
        #expect(podman.podman(["rm", "--force", "--time", "0", id]).status == 0)
    }

    @Test(.disabled(if: noPodman != nil, Comment(rawValue: noPodman ?? "")))
    func podmanLogs() throws {
        let podman = try Podman()
        defer { podman.cleanup() }
        guard let id = podman.runDetached(["sh", "-c", "echo to-stdout; echo to-stderr >&2; sleep 1000"]) else { return }
        var logs = Result(status: -1, signaled: false, stdout: "", stderr: "", timedOut: false)
        let seen = eventually(timeout: 10) {
            logs = podman.podman(["logs", id])
            return logs.stdout.contains("to-stdout") && logs.stderr.contains("to-stderr")
        }
        #expect(seen, "\(logs)")
        #expect(podman.podman(["rm", "--force", "--time", "0", id]).status == 0)
    }

    /// README's way: the runtime declared in containers.conf ([engine.runtimes], [engine] runtime), no --runtime.
    @Test(.disabled(if: noPodman != nil, Comment(rawValue: noPodman ?? "")))
    func podmanRuntimeFromContainersConf() throws {
        let podman = try Podman()
        defer { podman.cleanup() }
        let info = podman.podman(["info", "--format", "{{.Host.OCIRuntime.Name}} {{.Host.OCIRuntime.Path}}"], runtimeFlag: false)
        #expect(info.status == 0 && info.stdout == "\(ClientRuntime.name) \(ClientRuntime.path)\n", "\(info)")
        let result = podman.podman(["run", "--rm"] + Podman.runFlags + [ClientImage.ref, "echo", "configured"], runtimeFlag: false)
        #expect(result.status == 0 && result.stdout == "configured\n", "\(result)")
    }

    /// The runtime's error reaches the user, and podman maps "no such file or directory" to exit code 127.
    @Test(.disabled(if: noPodman != nil, Comment(rawValue: noPodman ?? "")))
    func podmanReportsTheRuntimeError() throws {
        let podman = try Podman()
        defer { podman.cleanup() }
        let result = podman.run([], ["/nonexistent"])
        #expect(result.status == 127, "\(result)")
        #expect(result.stderr.contains("/nonexistent"), "\(result)")
    }
}
