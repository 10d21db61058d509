import Foundation
import Testing

/// Issue 6: containerd 1.6 (through its runc v2 shim, `--runc-binary` = the shim's BinaryName option) drives the
/// runtime (ClientRuntime), with a daemon, config, root, state and socket of its own per test.
extension CrabcanCLI {
    static let noContainerd = ClientAvailability.containerd

    @Test(.disabled(if: noContainerd != nil, Comment(rawValue: noContainerd ?? "")))
    func containerdRunRmEcho() throws {
        let ctrd = try Containerd()
        defer { ctrd.cleanup() }
        let result = ctrd.run(["--rm"], "echo", ["echo", "hello from containerd"])
        #expect(result.status == 0 && result.stdout == "hello from containerd\n", "\(result)")
        #expect(ctrd.ctr(["container", "ls", "--quiet"]).stdout.isEmpty, "--rm left a container")
    }

    @Test(.disabled(if: noContainerd != nil, Comment(rawValue: noContainerd ?? "")))
    func containerdExitCodePropagates() throws {
        let ctrd = try Containerd()
        defer { ctrd.cleanup() }
        let result = ctrd.run(["--rm"], "exit3", ["sh", "-c", "exit 3"])
        #expect(result.status == 3, "\(result)")
    }

    @Test(.disabled(if: noContainerd != nil, Comment(rawValue: noContainerd ?? "")))
    func containerdDetachedTaskExecKillDelete() throws {
        let ctrd = try Containerd()
        defer { ctrd.cleanup() }
        let id = "detached"
        let run = ctrd.run(["-d"], id, ["sh", "-c", "trap 'exit 0' TERM; while :; do sleep 0.1; done"])
        try #require(run.status == 0, "\(run)")
        #expect(ctrd.taskStatus(id) == "RUNNING")
        let pid = try #require(ctrd.taskPid(id))
        #expect(Host.isAlive(pid))

        let exec = ctrd.ctr(["task", "exec", "--exec-id", "probe", id, "sh", "-c", "echo exec-ok; exit 5"])
        #expect(exec.status == 5 && exec.stdout == "exec-ok\n", "\(exec)")

        let kill = ctrd.ctr(["task", "kill", id])
        #expect(kill.status == 0, "\(kill)")
        #expect(eventually(timeout: 10) { ctrd.taskStatus(id) == "STOPPED" }, "task status: \(ctrd.taskStatus(id) ?? "none")")
        #expect(!Host.isAlive(pid))

        let delete = ctrd.ctr(["task", "delete", id])
        #expect(delete.status == 0, "\(delete)")
        #expect(ctrd.taskStatus(id) == nil)
        #expect(ctrd.ctr(["container", "delete", id]).status == 0)
        // The shim ran the runtime with --root /run/containerd/runc/<namespace>: its state is gone too.
        #expect(!FileManager.default.fileExists(atPath: "/run/containerd/runc/\(ctrd.namespace)/\(id)"))
    }

    @Test(.disabled(if: noContainerd != nil, Comment(rawValue: noContainerd ?? "")))
    func containerdTerminal() throws {
        let ctrd = try Containerd()
        defer { ctrd.cleanup() }
        let result = ctrd.runInTerminal(["--rm", "--tty"], "tty", ["sh", "-c", "tty; test -t 0 && echo stdin-is-tty; exit 2"])
        #expect(result.status == 2, "\(result)")
        #expect(result.stdout.contains("/dev/pts/") && result.stdout.contains("stdin-is-tty"), "\(result)")
    }

    @Test(.disabled(if: noContainerd != nil, Comment(rawValue: noContainerd ?? "")))
    func containerdMemoryLimitInTheCgroup() throws {
        let ctrd = try Containerd()
        defer { ctrd.cleanup() }
        let id = "memory"
        let run = ctrd.run(["-d", "--memory-limit", "67108864"], id, ["sleep", "1000"])
        try #require(run.status == 0, "\(run)")
        let pid = try #require(ctrd.taskPid(id))
        #expect(Tools.cgroupFile(pid: pid, controller: "memory", file: "memory.limit_in_bytes") == "67108864")
        #expect(ctrd.ctr(["task", "kill", "--signal", "KILL", id]).status == 0)
        #expect(eventually(timeout: 10) { ctrd.taskStatus(id) == "STOPPED" })
        #expect(ctrd.ctr(["task", "delete", id]).status == 0)
        #expect(ctrd.ctr(["container", "delete", id]).status == 0)
    }

    /// The shim reads the runtime's --log file (JSON lines) for the error it reports: the runtime's own
    /// message must reach ctr, not just "exit status 1".
    @Test(.disabled(if: noContainerd != nil, Comment(rawValue: noContainerd ?? "")))
    func containerdReportsTheRuntimeErrorFromItsJSONLog() throws {
        let ctrd = try Containerd()
        defer { ctrd.cleanup() }
        let result = ctrd.run(["--rm"], "missing", ["/nonexistent"])
        #expect(result.status != 0)
        #expect(result.stderr.contains("OCI runtime create failed") && result.stderr.contains("/nonexistent"), "\(result)")
        #expect(!result.stderr.contains("did not terminate successfully"), "the shim found no error in the log: \(result)")
    }
}
