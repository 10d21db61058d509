import Foundation
import Testing

/// Issue 13: the Docker engine scenarios. Each starts a dockerd of its own (about a second), plays one scenario
/// with ClientRuntime as `--runtime`, then removes its containers, stops dockerd by its pid and checks that nothing
/// is left: processes, container cgroups, mounts, runtime state dirs. CRABCAN_CLIENT_RUNTIME=/usr/sbin/runc (or
/// crun) plays the same scenarios with another runtime.
enum DockerScenario: String, CaseIterable, Sendable {
    case runExitCode, environment, workdir, user, hostname, terminal, interactiveTerminal, stdin
    case limitsInTheCgroup, capabilities, noNewPrivileges, seccompDefault, seccompUnconfined, readOnlyRoot
    case volumeReadWrite, volumeReadOnly, volumeRshared, tmpfs, ulimits, sysctl, device, initProcess
    case detachedExecStopRm, execTerminal, execErrors, killSignal, pauseUnpause, top, logs, restart
    case updateWithoutLimits, updateWithLimits, oomKill, eventsExitCodes, exitedContainerIsRemoved
    case privileged, missingProgram
}

extension CrabcanCLI {
    static let noDocker = ClientAvailability.docker

    @Test(.disabled(if: noDocker != nil, Comment(rawValue: noDocker ?? "")), arguments: DockerScenario.allCases)
    func docker(_ scenario: DockerScenario) throws {
        let docker = try Docker()
        defer { docker.cleanup() }
        if let reason = ClientRuntime.knownDifference(client: "docker", scenario: scenario.rawValue) {
            withKnownIssue(Comment(rawValue: reason), isIntermittent: true) { try Self.play(scenario, docker) }
        } else {
            try Self.play(scenario, docker)
        }
        let left = docker.stopAndListLeftovers()
        #expect(left.isEmpty, "\(scenario) left: \(left)")
    }

    static func play(_ scenario: DockerScenario, _ docker: Docker) throws {
        switch scenario {
        case .runExitCode:
            let echo = docker.run([], ["echo", "hello from docker"])
            #expect(echo.status == 0 && echo.stdout == "hello from docker\n", "\(echo)")
            let exit = docker.run([], ["sh", "-c", "exit 3"])
            #expect(exit.status == 3, "\(exit)")
            #expect(docker.docker(["ps", "--all", "--quiet"]).stdout.isEmpty, "--rm left a container")

        case .environment:
            let result = docker.run(["-e", "GREETING=hello world", "--env", "EMPTY="], ["sh", "-c", "echo \"$GREETING\"; env | grep -c '^EMPTY=$'; echo $PATH"])
            #expect(result.status == 0 && result.stdout == "hello world\n1\n/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n", "\(result)")

        case .workdir:
            let result = docker.run(["-w", "/home/user"], ["pwd"])
            #expect(result.status == 0 && result.stdout == "/home/user\n", "\(result)")
            // A workdir that does not exist yet is made (runc's mkdir -p of cwd).
            let made = docker.run(["-w", "/new/dir"], ["pwd"])
            #expect(made.status == 0 && made.stdout == "/new/dir\n", "\(made)")

        case .user:
            let numeric = docker.run(["-u", "1000:1000"], ["sh", "-c", "id -u; id -g; touch /home/user/f && echo home-writable; touch /root/f 2>/dev/null || echo root-denied"])
            #expect(numeric.status == 0 && numeric.stdout == "1000\n1000\nhome-writable\nroot-denied\n", "\(numeric)")
            let named = docker.run(["-u", "user"], ["sh", "-c", "id -un; echo $HOME"])
            #expect(named.status == 0 && named.stdout == "user\n/home/user\n", "\(named)")

        case .hostname:
            let result = docker.run(["--hostname", "crabbox"], ["sh", "-c", "hostname; cat /etc/hostname"])
            #expect(result.status == 0 && result.stdout == "crabbox\ncrabbox\n", "\(result)")

        case .terminal:
            let result = docker.run(["-t"], ["sh", "-c", "tty; test -t 1 && echo stdout-tty"])
            #expect(result.status == 0 && result.stdout.contains("/dev/pts/"), "\(result)")
            // The pty's line discipline turns \n into \r\n: the output really went through a terminal.
            #expect(result.stdout.contains("stdout-tty\r\n"), "\(result)")

        case .interactiveTerminal:
            let result = docker.dockerInTerminal(["run", "--rm", "-it", "--runtime", Docker.runtimeName, "--network", "none",
                                                  ClientImage.ref, "sh", "-c", "tty; test -t 0 && echo stdin-tty; exit 2"])
            #expect(result.status == 2, "\(result)")
            #expect(result.stdout.contains("/dev/pts/") && result.stdout.contains("stdin-tty"), "\(result)")

        case .stdin:
            let result = docker.run(["-i"], ["sh", "-c", "tr a-z A-Z; echo done"], stdin: Data("piped in\n".utf8))
            #expect(result.status == 0 && result.stdout == "PIPED IN\ndone\n", "\(result)")

        case .limitsInTheCgroup:
            let limits = ["--memory", "64m", "--memory-reservation", "32m", "--pids-limit", "50", "--cpus", "0.5", "--cpu-shares", "512"]
            // Seen from inside (dockerd mounts the container's own v1 cgroups read-only at /sys/fs/cgroup)...
            let inside = docker.run(limits, ["sh", "-c", "cd /sys/fs/cgroup; cat memory/memory.limit_in_bytes memory/memory.soft_limit_in_bytes pids/pids.max cpu/cpu.cfs_quota_us cpu/cpu.cfs_period_us cpu/cpu.shares"])
            #expect(inside.status == 0 && inside.stdoutLines == ["67108864", "33554432", "50", "50000", "100000", "512"], "\(inside)")
            // ...and from the host, in the cgroup the init is in.
            guard let id = docker.runDetached(["sleep", "1000"], flags: limits), let pid = docker.pid(id) else { return }
            #expect(Tools.cgroupFile(pid: pid, controller: "memory", file: "memory.limit_in_bytes") == "67108864")
            #expect(Tools.cgroupFile(pid: pid, controller: "pids", file: "pids.max") == "50")
            #expect(Tools.cgroupFile(pid: pid, controller: "cpu", file: "cpu.cfs_quota_us") == "50000")
            #expect(Tools.read("/proc/\(pid)/cgroup").contains("/\(docker.cgroupParent)/\(id)"), "not in --cgroup-parent's cgroup")

        case .capabilities:
            let result = docker.run(["--cap-drop", "ALL", "--cap-add", "NET_BIND_SERVICE", "--cap-add", "CHOWN"],
                                    ["sh", "-c", "grep -E '^Cap(Prm|Eff|Bnd)' /proc/self/status"])
            let sets = result.stdoutLines.map { $0.split(separator: "\t").last.map(String.init) ?? "" }
            // CAP_CHOWN (0) and CAP_NET_BIND_SERVICE (10).
            #expect(result.status == 0 && sets == ["0000000000000401", "0000000000000401", "0000000000000401"], "\(result)")
            let denied = docker.run(["--cap-drop", "CHOWN"], ["sh", "-c", "chown 1000 /tmp 2>/dev/null && echo chowned || echo denied"])
            #expect(denied.status == 0 && denied.stdout == "denied\n", "\(denied)")

        case .noNewPrivileges:
            let on = docker.run(["--security-opt", "no-new-privileges"], ["grep", "NoNewPrivs", "/proc/self/status"])
            #expect(on.status == 0 && on.stdout == "NoNewPrivs:\t1\n", "\(on)")
            let off = docker.run([], ["grep", "NoNewPrivs", "/proc/self/status"])
            #expect(off.status == 0 && off.stdout == "NoNewPrivs:\t0\n", "\(off)")

        case .seccompDefault:
            // dockerd's default profile is a filter (mode 2); it refuses, e.g., unshare of a user namespace.
            let result = docker.run([], ["sh", "-c", "grep -E '^Seccomp:' /proc/self/status; unshare -U true 2>/dev/null && echo unshared || echo refused"])
            #expect(result.status == 0 && result.stdout == "Seccomp:\t2\nrefused\n", "\(result)")

        case .seccompUnconfined:
            let result = docker.run(["--security-opt", "seccomp=unconfined"], ["sh", "-c", "grep -E '^Seccomp:' /proc/self/status; unshare -U true && echo unshared"])
            #expect(result.status == 0 && result.stdout == "Seccomp:\t0\nunshared\n", "\(result)")

        case .readOnlyRoot:
            let result = docker.run(["--read-only", "--tmpfs", "/tmp"], ["sh", "-c", "touch /x 2>/dev/null && echo root-writable; touch /tmp/y && echo tmp-writable"])
            #expect(result.status == 0 && result.stdout == "tmp-writable\n", "\(result)")

        case .volumeReadWrite:
            let volume = docker.dir + "/volume"
            try FileManager.default.createDirectory(atPath: volume, withIntermediateDirectories: true)
            try "from the host\n".write(toFile: volume + "/in", atomically: true, encoding: .utf8)
            let result = docker.run(["-v", "\(volume):/data"], ["sh", "-c", "cat /data/in; echo written inside > /data/out"])
            #expect(result.status == 0 && result.stdout == "from the host\n", "\(result)")
            #expect(Tools.read(volume + "/out") == "written inside")

        case .volumeReadOnly:
            let volume = docker.dir + "/volume"
            try FileManager.default.createDirectory(atPath: volume, withIntermediateDirectories: true)
            try "from the host\n".write(toFile: volume + "/in", atomically: true, encoding: .utf8)
            let result = docker.run(["-v", "\(volume):/data:ro"], ["sh", "-c", "cat /data/in; echo x > /data/out 2>/dev/null || echo read-only"])
            #expect(result.status == 0 && result.stdout == "from the host\nread-only\n", "\(result)")
            #expect(!FileManager.default.fileExists(atPath: volume + "/out"))

        case .volumeRshared:
            // dockerd wants the source on a shared mount (nothing on this host is): a tmpfs of our own, made shared.
            let shared = docker.dir + "/shared"
            defer { Tools.unmountAll(under: shared) }
            try Tools.mountSharedTmpfs(shared, source: "crabcan-it-docker-shared")
            try FileManager.default.createDirectory(atPath: shared + "/vol", withIntermediateDirectories: true)
            // rootfsPropagation "shared" + an rshared bind: the tmpfs mounted inside appears on the host.
            let result = docker.run(["--cap-add", "SYS_ADMIN", "-v", "\(shared)/vol:/vol:rshared"],
                                    ["sh", "-c", "mkdir /vol/inner && mount -t tmpfs inner /vol/inner && echo made > /vol/inner/file"])
            #expect(result.status == 0, "\(result)")
            #expect(Tools.mounts(under: shared + "/vol").contains(shared + "/vol/inner"), "the mount made inside is not on the host")
            #expect(Tools.read(shared + "/vol/inner/file") == "made")

        case .tmpfs:
            let result = docker.run(["--tmpfs", "/scratch:rw,size=1m,mode=1777"],
                                    ["sh", "-c", "grep ' /scratch ' /proc/self/mountinfo; stat -c %a /scratch; echo x > /scratch/f && echo writable"])
            #expect(result.status == 0, "\(result)")
            #expect(result.stdout.contains(" - tmpfs ") && result.stdout.contains("size=1024k"), "\(result)")
            #expect(result.stdoutLines.suffix(2) == ["1777", "writable"], "\(result)")

        case .ulimits:
            let result = docker.run(["--ulimit", "nofile=512:640", "--ulimit", "nproc=100:200"],
                                    ["sh", "-c", "grep -E '^Max (open files|processes)' /proc/self/limits | tr -s ' ' | sed 's/ $//'"])
            #expect(result.status == 0 && result.stdoutLines == ["Max processes 100 200 processes", "Max open files 512 640 files"], "\(result)")

        case .sysctl:
            let host = Tools.read("/proc/sys/kernel/msgmax")
            let result = docker.run(["--sysctl", "kernel.msgmax=65536", "--sysctl", "net.ipv4.ip_forward=1"],
                                    ["cat", "/proc/sys/kernel/msgmax", "/proc/sys/net/ipv4/ip_forward"])
            #expect(result.status == 0 && result.stdout == "65536\n1\n", "\(result)")
            #expect(Tools.read("/proc/sys/kernel/msgmax") == host, "the host's value must stay (ipc namespace)")

        case .device:
            let result = docker.run(["--device", "/dev/zero:/dev/myzero"], ["sh", "-c", "stat -c '%t,%T' /dev/myzero; head -c 5 /dev/myzero | wc -c"])
            #expect(result.status == 0 && result.stdout == "1,5\n5\n", "\(result)")
            let absent = docker.run([], ["sh", "-c", "test -e /dev/myzero || echo absent; head -c 1 /dev/sda 2>/dev/null || echo no-sda"])
            #expect(absent.status == 0 && absent.stdout == "absent\nno-sda\n", "\(absent)")

        case .initProcess:
            let result = docker.run(["--init"], ["sh", "-c", "tr '\\0' ' ' < /proc/1/cmdline; echo; echo $$"])
            #expect(result.status == 0, "\(result)")
            #expect(result.stdoutLines.first?.hasPrefix("/sbin/docker-init -- sh -c") == true, "\(result)")
            #expect(result.stdoutLines.last != "1", "the command must not be pid 1 under --init: \(result)")

        case .detachedExecStopRm:
            guard let id = docker.runDetached(["sh", "-c", "echo started; trap 'exit 0' TERM; while :; do sleep 0.1; done"]),
                  let pid = docker.pid(id) else { return }
            #expect(docker.inspect(id, "{{.State.Status}}") == "running")
            let exec = docker.docker(["exec", "-u", "1000:1000", "-w", "/tmp", "-e", "FROM_EXEC=yes", id,
                                      "sh", "-c", "id -u; pwd; echo $FROM_EXEC; exit 4"])
            #expect(exec.status == 4 && exec.stdout == "1000\n/tmp\nyes\n", "\(exec)")
            // The init traps TERM and exits 0: stop must not need its SIGKILL after the grace period.
            let started = Date()
            let stop = docker.docker(["stop", "-t", "10", id])
            #expect(stop.status == 0, "\(stop)")
            #expect(Date().timeIntervalSince(started) < 8, "stop waited for the SIGKILL timeout")
            #expect(docker.inspect(id, "{{.State.Status}} {{.State.ExitCode}}") == "exited 0")
            #expect(!Host.isAlive(pid))
            let rm = docker.docker(["rm", id])
            #expect(rm.status == 0, "\(rm)")
            #expect(docker.docker(["ps", "--all", "--quiet"]).stdout.isEmpty)

        case .execTerminal:
            guard let id = docker.runDetached(["sleep", "1000"]) else { return }
            let exec = docker.dockerInTerminal(["exec", "-it", id, "sh", "-c", "tty; test -t 0 && echo stdin-tty; exit 6"])
            #expect(exec.status == 6, "\(exec)")
            #expect(exec.stdout.contains("/dev/pts/") && exec.stdout.contains("stdin-tty"), "\(exec)")

        case .execErrors:
            guard let id = docker.runDetached(["sleep", "1000"]) else { return }
            // dockerd maps the runtime's words: every one of these is 126 with runc too.
            for program in ["/nonexistent", "nonexistent", "/etc/passwd", "/etc"] {
                let exec = docker.docker(["exec", id, program])
                #expect(exec.status == 126, "\(program): \(exec)")
            }
            #expect(docker.inspect(id, "{{.State.Status}}") == "running")

        case .killSignal:
            guard let id = docker.runDetached(["sh", "-c", "trap 'echo got-usr1' USR1; trap 'exit 9' TERM; echo ready; while :; do sleep 0.1; done"]) else { return }
            // A signal before the trap is set would be ignored: pid 1 has no default action.
            #expect(eventually(timeout: 10) { docker.docker(["logs", id]).stdout.contains("ready") })
            let usr1 = docker.docker(["kill", "-s", "USR1", id])
            #expect(usr1.status == 0, "\(usr1)")
            #expect(eventually(timeout: 10) { docker.docker(["logs", id]).stdout.contains("got-usr1") })
            #expect(docker.inspect(id, "{{.State.Status}}") == "running")
            #expect(docker.docker(["kill", "-s", "TERM", id]).status == 0)
            #expect(eventually(timeout: 10) { docker.inspect(id, "{{.State.Status}} {{.State.ExitCode}}") == "exited 9" })
            // A second kill of an exited container is refused by dockerd itself, in its words.
            let again = docker.docker(["kill", id])
            #expect(again.status != 0 && again.stderr.contains("is not running"), "\(again)")

        case .pauseUnpause:
            guard let id = docker.runDetached(["sh", "-c", "while :; do sleep 0.1; done"]), let pid = docker.pid(id) else { return }
            #expect(docker.docker(["pause", id]).status == 0)
            #expect(docker.inspect(id, "{{.State.Status}}") == "paused")
            #expect(Tools.cgroupFile(pid: pid, controller: "freezer", file: "freezer.state") == "FROZEN")
            #expect(docker.docker(["unpause", id]).status == 0)
            #expect(docker.inspect(id, "{{.State.Status}}") == "running")
            #expect(Tools.cgroupFile(pid: pid, controller: "freezer", file: "freezer.state") == "THAWED")
            // A paused container is removed with --force (SIGKILL thaws it).
            #expect(docker.docker(["pause", id]).status == 0)
            let rm = docker.docker(["rm", "--force", id], timeout: 20)
            #expect(rm.status == 0, "\(rm)")
            #expect(!Host.isAlive(pid))

        case .top:
            guard let id = docker.runDetached(["sleep", "1000"]) else { return }
            let top = docker.docker(["top", id])
            #expect(top.status == 0 && top.stdoutLines.contains { $0.hasSuffix("sleep 1000") }, "\(top)")

        case .logs:
            guard let id = docker.runDetached(["sh", "-c", "echo to-stdout; echo to-stderr >&2; sleep 1000"]) else { return }
            var logs = Result(status: -1, signaled: false, stdout: "", stderr: "", timedOut: false)
            let seen = eventually(timeout: 10) {
                logs = docker.docker(["logs", id])
                return logs.stdout == "to-stdout\n" && logs.stderr == "to-stderr\n"
            }
            #expect(seen, "\(logs)")

        case .restart:
            guard let id = docker.runDetached(["sh", "-c", "trap 'exit 0' TERM; while :; do sleep 0.1; done"]),
                  let first = docker.pid(id) else { return }
            let restart = docker.docker(["restart", "-t", "5", id])
            #expect(restart.status == 0, "\(restart)")
            let second = docker.pid(id)
            #expect(second != nil && second != first && !Host.isAlive(first), "pid \(first) -> \(String(describing: second))")
            #expect(docker.inspect(id, "{{.State.Status}} {{.RestartCount}}") == "running 0")
            // A restart policy restarts an init that exits on its own.
            guard let failing = docker.runDetached(["sh", "-c", "sleep 0.3; exit 5"], flags: ["--restart", "on-failure:2"]) else { return }
            #expect(eventually(timeout: 20) { docker.inspect(failing, "{{.RestartCount}} {{.State.Status}}") == "2 exited" },
                    "\(docker.inspect(failing, "{{.RestartCount}} {{.State.Status}} {{.State.ExitCode}}"))")
            #expect(docker.inspect(failing, "{{.State.ExitCode}}") == "5")

        case .updateWithoutLimits:
            // dockerd sends every field, 0 for those it keeps: the container has no memory limit to keep.
            guard let id = docker.runDetached(["sleep", "1000"]), let pid = docker.pid(id) else { return }
            let unlimited = Tools.cgroupFile(pid: pid, controller: "memory", file: "memory.limit_in_bytes")
            let update = docker.docker(["update", "--cpus", "0.25", "--pids-limit", "20", id])
            #expect(update.status == 0, "\(update)")
            #expect(Tools.cgroupFile(pid: pid, controller: "cpu", file: "cpu.cfs_quota_us") == "25000")
            #expect(Tools.cgroupFile(pid: pid, controller: "pids", file: "pids.max") == "20")
            #expect(Tools.cgroupFile(pid: pid, controller: "memory", file: "memory.limit_in_bytes") == unlimited)
            let memory = docker.docker(["update", "--memory", "100m", "--memory-swap", "200m", id])
            #expect(memory.status == 0, "\(memory)")
            #expect(Tools.cgroupFile(pid: pid, controller: "memory", file: "memory.limit_in_bytes") == "104857600")
            #expect(Tools.cgroupFile(pid: pid, controller: "memory", file: "memory.memsw.limit_in_bytes") == "209715200")
            #expect(Tools.cgroupFile(pid: pid, controller: "pids", file: "pids.max") == "20", "pids 0 must leave it")

        case .updateWithLimits:
            guard let id = docker.runDetached(["sleep", "1000"], flags: ["--memory", "64m", "--memory-reservation", "32m",
                                                                         "--pids-limit", "50", "--cpus", "0.5"]),
                  let pid = docker.pid(id) else { return }
            let memory = docker.docker(["update", "--memory", "100m", "--memory-swap", "200m", id])
            #expect(memory.status == 0, "\(memory)")
            #expect(Tools.cgroupFile(pid: pid, controller: "memory", file: "memory.limit_in_bytes") == "104857600")
            #expect(Tools.cgroupFile(pid: pid, controller: "memory", file: "memory.soft_limit_in_bytes") == "33554432",
                    "the reservation must not be zeroed")
            #expect(Tools.cgroupFile(pid: pid, controller: "cpu", file: "cpu.cfs_quota_us") == "50000")
            #expect(Tools.cgroupFile(pid: pid, controller: "pids", file: "pids.max") == "50")
            let more = docker.docker(["update", "--cpus", "1", "--pids-limit", "30", id])
            #expect(more.status == 0, "\(more)")
            #expect(Tools.cgroupFile(pid: pid, controller: "cpu", file: "cpu.cfs_quota_us") == "100000")
            #expect(Tools.cgroupFile(pid: pid, controller: "pids", file: "pids.max") == "30")
            #expect(Tools.cgroupFile(pid: pid, controller: "memory", file: "memory.limit_in_bytes") == "104857600")

        case .oomKill:
            // The init itself grows (tail keeps the endless "line" of /dev/zero) until the OOM killer ends it.
            let result = docker.docker(["run", "--name", "oom", "--runtime", Docker.runtimeName, "--network", "none",
                                        "--memory", "32m", "--memory-swap", "32m", ClientImage.ref, "tail", "/dev/zero"], timeout: 60)
            #expect(result.status == 137, "\(result)")
            #expect(docker.inspect("oom", "{{.State.ExitCode}} {{.State.OOMKilled}}") == "137 true")

        case .eventsExitCodes:
            let since = String(Int(Date().timeIntervalSince1970) - 1)
            for code in [0, 3, 7] { _ = docker.run([], ["sh", "-c", "exit \(code)"]) }
            let until = String(Int(Date().timeIntervalSince1970) + 1)
            let events = docker.docker(["events", "--since", since, "--until", until, "--filter", "event=die",
                                        "--format", "{{.Action}} {{index .Actor.Attributes \"exitCode\"}}"])
            #expect(events.status == 0 && events.stdoutLines == ["die 0", "die 3", "die 7"], "\(events)")

        case .exitedContainerIsRemoved:
            // The process exits on its own; dockerd (and the shim's kill after it) must see it, then rm works.
            guard let id = docker.runDetached(["sh", "-c", "exit 7"]) else { return }
            let wait = docker.docker(["wait", id])
            #expect(wait.status == 0 && wait.stdout == "7\n", "\(wait)")
            let rm = docker.docker(["rm", id])
            #expect(rm.status == 0, "\(rm)")

        case .privileged:
            // --privileged asks for every capability; this host's bounding set lacks CAP_SYS_RESOURCE, so runc, crun
            // and crabcan all fail here (and dockerd 20.10 ignores --cap-drop with --privileged). Where the bounding
            // set is full, the rest of --privileged is checked: every host device, a writable /sys.
            let bounding = Tools.read("/proc/self/status").split(separator: "\n").first { $0.hasPrefix("CapBnd:") }
            let capSysResource: UInt64 = 1 << 24
            let full = bounding.flatMap { UInt64($0.split(separator: "\t").last ?? "", radix: 16) }.map { $0 & capSysResource != 0 } ?? false
            let result = docker.run(["--privileged"], ["sh", "-c", "test -c /dev/\(hostDevice()) && echo host-device; grep ' /sys ' /proc/self/mountinfo | grep -c ' rw,'"])
            if full {
                #expect(result.status == 0 && result.stdout == "host-device\n1\n", "\(result)")
            } else {
                #expect(result.status != 0 && result.stderr.lowercased().contains("operation not permitted"), "\(result)")
            }

        case .missingProgram:
            let missing = docker.run([], ["/nonexistent"])
            #expect(missing.status == 127 && missing.stderr.contains("/nonexistent"), "\(missing)")
            let notExecutable = docker.run([], ["/etc/passwd"])
            #expect(notExecutable.status == 126 && notExecutable.stderr.contains("permission denied"), "\(notExecutable)")
        }
    }

    /// A character device of the host that no default container has (its first tty-less one).
    static func hostDevice() -> String {
        for name in ["kmsg", "mem", "port", "vcs", "loop-control"] where FileManager.default.fileExists(atPath: "/dev/" + name) { return name }
        return "kmsg"
    }
}
