import Foundation
import Testing

/// Issue 13: the errors clients parse are in runc's words. containerd's shim takes a kill error for "already
/// finished" only when it says `container not running`, `no such process` or `process already finished` (and "no
/// such container" for `does not exist`); podman and dockerd map `permission denied` to exit code 126 and `no
/// such file or directory` / `executable file not found` to 127; podman's state and containerd's delete take
/// `does not exist` for a container that is gone. The client-level checks are in Docker/CRI/Podman tests.
extension CrabcanCLI {
    @Test func killOfAStoppedContainerSaysContainerNotRunningAndKillAllSucceeds() throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        let id = box.id("killstopped")
        try #require(box.crabcan(["run", "--detach", "--bundle", try box.bundle(["true"]), id]).status == 0)
        try #require(box.waitForStatus(id, "stopped"))
        let kill = box.crabcan(["kill", id, "KILL"])
        #expect(kill.status == 1 && kill.stderrLines.count == 1 && kill.stderr.contains("container not running"), "\(kill)")
        // What containerd's CRI plugin sends after every exit: runc answers 0.
        let all = box.crabcan(["kill", "--all", id, "9"])
        #expect(all.status == 0 && all.stderr.isEmpty, "\(all)")
        let pause = box.crabcan(["pause", id])
        #expect(pause.status == 1 && pause.stderr.contains("container not running"), "\(pause)")
        let update = box.crabcan(["update", "--pids-limit", "10", id])
        #expect(update.status == 1 && update.stderr.contains("container not running"), "\(update)")
        #expect(box.crabcan(["delete", id]).status == 0)

        for command in [["kill", "no-such-ctr", "KILL"], ["state", "no-such-ctr"], ["delete", "no-such-ctr"]] {
            let missing = box.crabcan(command)
            #expect(missing.status == 1 && missing.stderr.contains("does not exist"), "\(command): \(missing)")
        }
    }

    @Test func resumeOfARunningContainerSaysContainerNotPaused() throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        let id = box.id("notpaused")
        try #require(box.crabcan(["run", "--detach", "--bundle", try box.bundle(["sleep", "100"]), id]).status == 0)
        let resume = box.crabcan(["resume", id])
        #expect(resume.status == 1 && resume.stderr.contains("container not paused"), "\(resume)")
        #expect(box.crabcan(["pause", id]).status == 0)
        let again = box.crabcan(["pause", id])
        #expect(again.status == 1 && again.stderr.contains("container already paused"), "\(again)")
        // A paused container is thawed by SIGKILL, so `kill` (docker kill, podman rm -f) and `delete --force` end it.
        let pid = try #require(box.pid(id))
        #expect(box.crabcan(["kill", id, "KILL"]).status == 0)
        #expect(eventually(timeout: 5) { !Host.isAlive(pid) }, "SIGKILL did not end a paused container")
        #expect(box.crabcan(["delete", "--force", id]).status == 0)

        let paused = box.id("pauseddelete")
        try #require(box.crabcan(["run", "--detach", "--bundle", try box.bundle(["sleep", "100"], name: "paused"), paused]).status == 0)
        #expect(box.crabcan(["pause", paused]).status == 0)
        let delete = box.crabcan(["delete", "--force", paused])
        #expect(delete.status == 0, "delete --force of a paused container: \(delete)")
        #expect(!box.stateDirExists(paused))
    }

    /// runc's "permission denied" (126 for podman and dockerd) for a program that is not an executable file,
    /// at create and at exec; "no such file or directory" / "executable file not found" (127) for a missing one.
    @Test func programErrorsUseRuncsWords() throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        for (program, words) in [("/etc/passwd", "permission denied"), ("/etc", "permission denied"),
                                 ("/nonexistent", "no such file or directory"), ("nonexistent", "executable file not found in $PATH")] {
            let id = box.id("prog")
            let create = box.crabcan(["create", "--bundle", try box.bundle([program]), id])
            #expect(create.status == 1 && create.stderr.contains(words), "\(program): \(create)")
        }
        let id = box.id("execprog")
        try #require(box.crabcan(["run", "--detach", "--bundle", try box.bundle(["sleep", "100"]), id]).status == 0)
        for (program, words) in [("/etc/passwd", "permission denied"), ("/etc", "permission denied"),
                                 ("/nonexistent", "no such file or directory"), ("nonexistent", "executable file not found in $PATH")] {
            let exec = box.crabcan(["exec", id, program])
            #expect(exec.status == 255 && exec.stderr.contains(words), "\(program): \(exec)")
        }
        #expect(box.crabcan(["delete", "--force", id]).status == 0)
    }
}
