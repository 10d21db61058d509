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
