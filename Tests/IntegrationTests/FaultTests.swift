import Foundation
import Testing

/// Issue 8, faults: crabcan SIGKILLed at each step (CRABCAN_FAULT, Sources/Sys/FaultInjection.swift), an init
/// killed from outside, a state dir whose pid was reused, a full or read-only --root. After each, `state` tells
/// the truth and `delete --force` leaves nothing.
extension CrabcanCLI {
    /// create's steps, in order; each kills `create` (and so its init, which dies with it before commit).
    static let createFaults = ["before-clone", "after-clone", "mid-mount", "before-state", "after-state"]

    @Test(arguments: CrabcanCLI.createFaults)
    func createKilledAtStepLeavesAStoppedContainerThatDeleteRemoves(_ step: String) throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        let id = box.id("fault")
        let bundle = try box.bundle(["sleep", "30"])
        let before = HostSnapshot.take(root: box.root, ids: [id])

        let create = box.crabcan(fault: step, ["create", "--bundle", bundle, id])
        #expect(diedAtFault(create), "\(step): create was not killed there: \(create)")
        // The init dies with create: PR_SET_PDEATHSIG until it says ready, then end-of-file on its socket.
        #expect(eventually(timeout: 5) { box.processes(id).isEmpty }, "\(step): processes left: \(box.processes(id))")

        // What is left is a container, and a stopped one: nothing of it runs and no create is under way.
        #expect(box.stateDirExists(id), "\(step): create died after making the state dir")
        let state = box.state(id)
        #expect(state?["status"] as? String == "stopped", "\(step): \(String(describing: state))")
        #expect((state?["pid"] as? Int ?? 0) == 0, "\(step): \(String(describing: state))")
        let list = box.crabcan(["list", "--format", "json"])
        #expect(list.status == 0 && list.stdout.contains("\"\(id)\""), "\(step): \(list)")
        let start = box.crabcan(["start", id])
        #expect(isOneLineError(start), "\(step): \(start)")
        let kill = box.crabcan(["kill", id, "KILL"])
        #expect(isOneLineError(kill) && kill.stderr.contains("not running"), "\(step): \(kill)")

        let delete = box.crabcan(["delete", "--force", id])
        #expect(delete.status == 0, "\(step): \(delete)")
        box.expectGone(id, step)
        let after = HostSnapshot.take(root: box.root, ids: [id])
        #expect(after.leaks(since: before).isEmpty, "\(step): \(after.leaks(since: before))")
        // The id is free again.
        #expect(box.crabcan(["create", "--bundle", bundle, id]).status == 0)
        #expect(box.crabcan(["delete", "--force", id]).status == 0)
    }

    /// A plain delete (no --force) also takes what a dead create left: the container is stopped.
    @Test func deleteWithoutForceRemovesWhatADeadCreateLeft() throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        let id = box.id("fault")
        let bundle = try box.bundle(["sleep", "30"])
        let create = box.crabcan(fault: "before-state", ["create", "--bundle", bundle, id])
        #expect(diedAtFault(create), "\(create)")
        #expect(eventually(timeout: 5) { box.processes(id).isEmpty })
        let delete = box.crabcan(["delete", id])
        #expect(delete.status == 0, "\(delete)")
        box.expectGone(id, "delete without --force")
    }

    /// start killed once exec.fifo is open: the init either runs its process (it wrote its byte first) or died
    /// of the closed fifo; `state` says which, and never `created` for a container that will not start again.
    @Test func startKilledMidwayLeavesATruthfulStatus() throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        let id = box.id("midstart")
        let bundle = try box.bundle(["sleep", "30"])
        #expect(box.crabcan(["create", "--bundle", bundle, id]).status == 0)
        let initPid = try #require(box.pid(id))
        let start = box.crabcan(fault: "mid-start", ["start", id])
        #expect(diedAtFault(start), "\(start)")
        // Settled: the init has exec'd its process or died (a fixed wait can end between its fifo write and execve).
        #expect(eventually { !Host.isAlive(initPid) || Host.cmdline(initPid).first == "sleep" })
        let status = box.status(id)
        if Host.isAlive(initPid) {
            #expect(status == "running", "init \(initPid) alive: \(String(describing: status))")
            #expect(Host.cmdline(initPid).first == "sleep", "\(Host.cmdline(initPid))")
        } else {
            #expect(status == "stopped", "init \(initPid) dead: \(String(describing: status))")
        }
        #expect(box.crabcan(["delete", "--force", id]).status == 0)
        box.expectGone(id, "mid-start")
    }

    /// run killed once it has sent `start` to an init that shares its memory (no exec.fifo is made for one: it is
    /// released through its socket, protocol step 3): the init was told, and runs its process; `state` says so.
    @Test func runKilledMidStartLeavesTheProcessItStarted() throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        let id = box.id("runmidstart")
        let bundle = try box.bundle(["sleep", "30"])
        let run = box.crabcan(fault: "mid-start", ["run", "--bundle", bundle, id])
        #expect(diedAtFault(run), "\(run)")
        let initPid = try #require(box.pid(id))
        #expect(eventually { Host.cmdline(initPid).first == "sleep" }, "\(Host.cmdline(initPid))")
        #expect(box.status(id) == "running")
        #expect(!FileManager.default.fileExists(atPath: box.root + "/" + id + "/exec.fifo"), "run made an exec.fifo")
        #expect(box.crabcan(["delete", "--force", id]).status == 0)
        box.expectGone(id, "run mid-start")
    }

    /// delete killed after it killed the init: the container is stopped, and the next delete finishes the job.
    @Test func deleteKilledMidwayLeavesAStoppedContainer() throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        let id = box.id("middelete")
        let bundle = try box.bundle(["sleep", "30"])
        #expect(box.crabcan(["create", "--bundle", bundle, id]).status == 0)
        #expect(box.crabcan(["start", id]).status == 0)
        let delete = box.crabcan(fault: "mid-delete", ["delete", "--force", id])
        #expect(diedAtFault(delete), "\(delete)")
        #expect(box.waitForStatus(id, "stopped"), "\(String(describing: box.state(id)))")
        #expect(!HostSnapshot.cgroupDirs(id).isEmpty, "the fault point is before the cgroups go")
        let again = box.crabcan(["delete", id])
        #expect(again.status == 0, "\(again)")
        box.expectGone(id, "mid-delete")
    }

    /// The init killed by someone else (OOM killer, an admin): the container is stopped, created or running.
    @Test(arguments: [false, true])
    func initKilledFromOutsideIsStopped(_ started: Bool) throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        let id = box.id("outside")
        let bundle = try box.bundle(["sleep", "30"])
        #expect(box.crabcan(["create", "--bundle", bundle, id]).status == 0)
        if started { #expect(box.crabcan(["start", id]).status == 0) }
        #expect(box.status(id) == (started ? "running" : "created"))
        let initPid = try #require(box.pid(id))
        kill(initPid, SIGKILL)
        #expect(box.waitForStatus(id, "stopped"), "\(String(describing: box.state(id)))")
        #expect(box.pid(id) == 0)
        let start = box.crabcan(["start", id])
        #expect(isOneLineError(start) && start.stderr.contains("stopped"), "\(start)")
        let delete = box.crabcan(["delete", id])
        #expect(delete.status == 0, "\(delete)")
        box.expectGone(id, "init killed from outside")
    }

    /// A state dir from before a reboot (or a crash) whose pid now belongs to an unrelated live process: the start
    /// time differs, so it is a stopped container; kill and delete never touch that process.
    @Test func reusedPidIsNotMistakenForTheContainer() throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        let stranger = try Command("/bin/sleep", ["30"])
        defer { stranger.signal(SIGKILL) }
        let pid = stranger.pid
        #expect(eventually { Host.processState(pid) != nil })
        let stat = try String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)
        let fields = stat[stat.index(after: stat.lastIndex(of: ")")!)...].split(separator: " ")
        let startTime = try #require(UInt64(fields[19]))

        func plant(_ id: String, startTime: UInt64, fifo: Bool) throws {
            let dir = box.root + "/" + id
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            let record = "{\"ociVersion\":\"1.0.2\",\"id\":\"\(id)\",\"pid\":\(pid),\"startTime\":\(startTime),"
                + "\"bundle\":\"/nonexistent\",\"rootfs\":\"/nonexistent/rootfs\",\"created\":\"2020-01-01T00:00:00Z\","
                + "\"owner\":\"\",\"cgroupVersion\":\"\",\"cgroupPaths\":{}}"
            try record.write(toFile: dir + "/state.json", atomically: true, encoding: .utf8)
            if fifo { #expect(mkfifo(dir + "/exec.fifo", 0o622) == 0) }
        }

        for fifo in [false, true] {
            let id = box.id("stale")
            try plant(id, startTime: startTime &+ 4242, fifo: fifo)
            let state = box.state(id)
            #expect(state?["status"] as? String == "stopped", "\(String(describing: state))")
            #expect(state?["pid"] as? Int == 0, "\(String(describing: state))")
            let kill = box.crabcan(["kill", id, "KILL"])
            #expect(isOneLineError(kill) && kill.stderr.contains("not running"), "\(kill)")
            let start = box.crabcan(["start", id])
            #expect(isOneLineError(start), "\(start)")
            #expect(box.crabcan(["delete", id]).status == 0)
            #expect(box.crabcan(["delete", "--force", id]).status == 0)
            #expect(!box.stateDirExists(id))
            #expect(Host.isAlive(pid), "the unrelated process was hit")
        }

        // The control: with the real start time the same record is that process, so the check is what decides.
        let id = box.id("same")
        try plant(id, startTime: startTime, fifo: false)
        #expect(box.status(id) == "running")
        try FileManager.default.removeItem(atPath: box.root + "/" + id)
        #expect(Host.isAlive(pid))
    }

    /// state.json damaged from outside (crabcan writes it atomically): commands say so in one line, and
    /// `delete --force` still removes the container, finding its processes through its cgroup.
    @Test func corruptStateIsReportedAndForceDeleteStillRemovesAll() throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        let id = box.id("corrupt")
        let bundle = try box.bundle(["sleep", "30"])
        #expect(box.crabcan(["create", "--bundle", bundle, id]).status == 0)
        #expect(box.crabcan(["start", id]).status == 0)
        let initPid = try #require(box.pid(id))
        try "{\"ociVersion\": \"1.0.2\", \"id\": ".write(toFile: box.root + "/" + id + "/state.json", atomically: false,
                                                       encoding: .utf8)
        for command in [["state", id], ["kill", id, "KILL"], ["delete", id]] {
            let result = box.crabcan(command)
            #expect(isOneLineError(result) && result.stderr.contains("state.json is corrupt"), "\(command): \(result)")
        }
        #expect(Host.isAlive(initPid))
        let delete = box.crabcan(["delete", "--force", id])
        #expect(delete.status == 0, "\(delete)")
        #expect(eventually { !Host.isAlive(initPid) })
        box.expectGone(id, "corrupt state")
    }

    // MARK: full and read-only --root

    /// A tmpfs of `pages` pages mounted at a fresh dir in the sandbox, `free` of them left free; unmounted by the caller.
    static func tinyTmpfs(_ box: Sandbox, pages: Int, free: Int) throws -> String {
        let dir = box.dir + "/tiny-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let mount = Command.run("/bin/mount", ["-t", "tmpfs", "-o", "size=\(pages * 4)k,mode=700", "tmpfs", dir])
        guard mount.status == 0 else { throw SetupError("mount tmpfs: \(mount)") }
        try Data(count: (pages - free) * 4096).write(to: URL(fileURLWithPath: dir + "/filler"))
        return dir
    }

    /// Disk full at the first write (the config snapshot) and at state.json (two pages free: the snapshot and
    /// cgroups.json fit, the init is already set up): one error line, exit 1, and nothing left: no state dir,
    /// no cgroup, no process, no mount.
    @Test(arguments: [0, 2])
    func fullRootGivesOneErrorAndNoDebris(_ freePages: Int) throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        let root = try Self.tinyTmpfs(box, pages: 16, free: freePages)
        defer { Command.run("/bin/umount", ["-l", root]) }
        let id = box.id("full")
        let bundle = try box.bundle(["sleep", "30"])
        let before = HostSnapshot.take(root: root, ids: [id])
        let create = Command.run(Paths.binary, ["--root", root, "create", "--bundle", bundle, id])
        #expect(isOneLineError(create), "\(create)")
        #expect(create.stderr.contains("ENOSPC"), "\(create)")
        #expect(create.stderr.contains(freePages == 0 ? "config.json" : "state.json"), "\(create)")
        #expect(eventually(timeout: 5) { box.processes(id).isEmpty }, "processes left: \(box.processes(id))")
        let after = HostSnapshot.take(root: root, ids: [id])
        #expect(after.leaks(since: before).isEmpty, "\(after.leaks(since: before))")
        #expect(HostSnapshot.files(under: root) == ["filler"])
        // Reading still works on a full disk.
        let list = Command.run(Paths.binary, ["--root", root, "list", "-q"])
        #expect(list.status == 0 && list.stdout.isEmpty, "\(list)")
    }

    /// A read-only --root: create says so in one line and leaves nothing; a container made before the root went
    /// read-only can be listed, and a delete that cannot finish says why and leaves it truthfully `stopped`.
    @Test func readOnlyRootGivesOneErrorAndNoDebris() throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        let root = try Self.tinyTmpfs(box, pages: 256, free: 256)
        defer { Command.run("/bin/umount", ["-l", root]) }
        let bundle = try box.bundle(["sleep", "30"])
        let existing = box.id("ro-existing")
        #expect(Command.run(Paths.binary, ["--root", root, "create", "--bundle", bundle, existing]).status == 0)
        defer {
            Command.run("/bin/mount", ["-o", "remount,rw", root])
            Command.run(Paths.binary, ["--root", root, "delete", "--force", existing])
        }
        #expect(Command.run("/bin/mount", ["-o", "remount,ro", root]).status == 0)

        let id = box.id("ro")
        let before = HostSnapshot.take(root: root, ids: [id])
        let create = Command.run(Paths.binary, ["--root", root, "create", "--bundle", bundle, id])
        #expect(isOneLineError(create) && create.stderr.contains("EROFS"), "\(create)")
        // (`existing` runs on the same rootfs, so look for this id only.)
        #expect(eventually(timeout: 5) { Host.processes(usingRootfs: "-", orMentioning: id).isEmpty })
        #expect(HostSnapshot.take(root: root, ids: [id]).leaks(since: before).isEmpty)

        let list = Command.run(Paths.binary, ["--root", root, "list", "-q"])
        #expect(list.stdoutLines == [existing], "\(list)")
        let delete = Command.run(Paths.binary, ["--root", root, "delete", "--force", existing])
        #expect(isOneLineError(delete) && delete.stderr.contains("EROFS"), "\(delete)")
        let state = Command.run(Paths.binary, ["--root", root, "state", existing])
        #expect(state.status == 0 && state.stdout.contains("\"stopped\""), "\(state)")

        #expect(Command.run("/bin/mount", ["-o", "remount,rw", root]).status == 0)
        #expect(Command.run(Paths.binary, ["--root", root, "delete", existing]).status == 0)
        #expect(HostSnapshot.files(under: root) == ["filler"])
        #expect(HostSnapshot.cgroupDirs(existing).isEmpty)
    }
}
