import Foundation
import Testing

/// create / start / state / kill / delete across separate invocations, and what the host has left afterwards.
extension CrabcanCLI {
    /// What runs after `start` (from C when the init shares the runtime's memory: docs/design.md §2): a program
    /// gone since create is reported on the container's stderr as `crabcan: exec PATH: ERRNO (text)`, and the
    /// container stops with 127.
    @Test func aProgramRemovedAfterCreateIsReportedAtStart() throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        let program = box.rootfs + "/bin/vanishing"
        try FileManager.default.copyItem(atPath: box.rootfs + "/bin/busybox", toPath: program)
        let bundle = try box.bundle(["/bin/vanishing"])
        let id = box.id("vanishing")
        let create = try box.start(["create", "--bundle", bundle, id])
        try #require(create.wait().status == 0)
        try FileManager.default.removeItem(atPath: program)
        #expect(box.crabcan(["start", id]).status == 0)
        #expect(eventually { (box.state(id)?["status"] as? String) == "stopped" })
        let stderr = (try? String(contentsOfFile: create.errPath, encoding: .utf8)) ?? ""
        #expect(stderr == "crabcan: exec /bin/vanishing: ENOENT (no such file or directory)\n", "\(stderr)")
        #expect(box.crabcan(["delete", id]).status == 0)
    }

    /// `run` in the foreground releases its init with `committed` and `start` in one packet and, with no poststart
    /// hook, does not wait for the execve: a program the kernel refuses then (ENOEXEC, found only by execve) is
    /// still reported by the init, `run` exits with its 127, and nothing is left.
    @Test func runOfAProgramTheKernelCannotExecExits127() throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        let program = box.rootfs + "/bin/not-a-program"
        try Data("neither ELF nor #!\n".utf8).write(to: URL(fileURLWithPath: program))
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: program)
        defer { try? FileManager.default.removeItem(atPath: program) }
        let bundle = try box.bundle(["/bin/not-a-program"])
        let id = box.id("noexec")
        let run = box.crabcan(["run", "--bundle", bundle, id])
        #expect(run.status == 127, "\(run)")
        #expect(run.stderr.contains("crabcan: exec /bin/not-a-program: ENOEXEC (exec format error)"), "\(run)")
        box.expectGone(id, "run")
    }

    /// state.json's startTime is what /proc/<pid>/stat says of the init (field 22): create takes it from the boot
    /// clock read around clone when no tick went by, and reads the file otherwise. Creates in a row, each compared
    /// with the kernel's: the init that shares the runtime's memory, and one cloned apart (a time namespace, whose
    /// boot-time offset the host's reading of the stamp does not add).
    @Test func recordedStartTimeIsTheKernels() throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        let shared = try box.bundle(["/bin/sleep", "30"])
        let apart = try box.bundle(["/bin/sleep", "30"], name: "time-bundle") { config in
            var linux = config["linux"] as! [String: Any]
            linux["namespaces"] = (linux["namespaces"] as! [[String: Any]]) + [["type": "time"]]
            linux["timeOffsets"] = ["boottime": ["secs": 1000, "nanosecs": 0]]
            config["linux"] = linux
        }
        for round in 0..<12 {
            let bundle = round % 2 == 0 ? shared : apart
            let id = box.id("start\(round)")
            let create = try box.start(["create", "--bundle", bundle, id])
            try #require(create.wait().status == 0)
            let record = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: box.root + "/" + id + "/state.json"))) as? [String: Any]
            let pid = try #require(record?["pid"] as? Int)
            let stat = try String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)
            let fields = stat[stat.index(after: stat.lastIndex(of: ")")!)...].split(separator: " ")
            #expect((record?["startTime"] as? NSNumber)?.uint64Value == UInt64(fields[19]), "round \(round): \(stat)")
            #expect(box.state(id)?["status"] as? String == "created")
            #expect(box.crabcan(["delete", "--force", id]).status == 0)
        }
    }

    @Test func lifecycleAcrossInvocations() throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        let id = box.id("life")
        let marker = box.rootfs + "/tmp/started-\(id)"
        let bundle = try box.bundle(["sh", "-c", "echo started > /tmp/started-\(id); sleep 100"])

        let create = box.crabcan(["create", "--bundle", bundle, id])
        try #require(create.status == 0, "\(create)")
        #expect(!create.timedOut, "create must return while the process waits for start")
        #expect(box.status(id) == "created")
        let pid = try #require(box.pid(id))
        #expect(pid > 0)
        #expect(Host.isAlive(pid), "the created init \(pid) must exist on the host")
        let before = Host.cmdline(pid)
        #expect(before.first != "sh" && !before.contains("sleep"), "user process ran before start: \(before)")
        usleep(200_000)
        #expect(!FileManager.default.fileExists(atPath: marker), "the command ran before start")
        #expect(box.status(id) == "created")

        let start = box.crabcan(["start", id])
        try #require(start.status == 0, "\(start)")
        #expect(box.status(id) == "running")
        #expect(eventually { FileManager.default.fileExists(atPath: marker) }, "the command never ran")
        #expect((try? String(contentsOfFile: marker, encoding: .utf8)) == "started\n")
        #expect(box.pid(id) == pid, "start must not change the init pid")
        let again = box.crabcan(["start", id])
        #expect(again.status == 1, "starting a running container: \(again)")

        let kill = box.crabcan(["kill", id, "KILL"])
        try #require(kill.status == 0, "\(kill)")
        try #require(box.waitForStatus(id, "stopped"))
        #expect(box.pid(id) == 0, "a stopped container reports pid 0")
        #expect(eventually { !Host.isAlive(pid) })
        let killStopped = box.crabcan(["kill", id, "KILL"])
        #expect(killStopped.status == 1, "killing a stopped container: \(killStopped)")

        let delete = box.crabcan(["delete", id])
        #expect(delete.status == 0, "\(delete)")
        #expect(!box.stateDirExists(id))
        let state = box.crabcan(["state", id])
        #expect(state.status == 1, "\(state)")
        #expect(state.stderr.contains("does not exist"), "\(state)")
    }

    @Test func stateValidatesAgainstSchema() throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        let id = box.id("schema")
        try #require(box.crabcan(["create", "--bundle", try box.bundle(["sleep", "100"]), id]).status == 0)

        func validate(_ expected: String) {
            let state = box.crabcan(["state", id])
            #expect(state.status == 0, "\(state)")
            #expect(state.stdout.contains("\"status\": \"\(expected)\"") || state.stdout.contains("\"status\":\"\(expected)\""),
                    "\(state)")
            let check = Command.run("/usr/bin/python3", [Paths.validator, "state", "-"], stdin: Data(state.stdout.utf8))
            #expect(check.status == 0, "state (\(expected)) fails the schema:\n\(check)\n\(state.stdout)")
        }
        validate("created")
        try #require(box.crabcan(["start", id]).status == 0)
        validate("running")
        try #require(box.crabcan(["kill", id, "KILL"]).status == 0)
        try #require(box.waitForStatus(id, "stopped"))
        validate("stopped")
    }

    @Test func deleteRefusesRunningAndForceKills() throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        let id = box.id("del")
        #expect(box.crabcan(["run", "--detach", "--bundle", try box.bundle(["sleep", "100"]), id]).status == 0)
        let pid = try #require(box.pid(id))
        #expect(Host.isAlive(pid))

        let refused = box.crabcan(["delete", id])
        #expect(refused.status == 1, "\(refused)")
        #expect(refused.stderr.contains("not stopped"), "\(refused)")
        #expect(box.status(id) == "running", "a refused delete must leave the container alone")
        #expect(Host.isAlive(pid))

        let forced = box.crabcan(["delete", "--force", id])
        #expect(forced.status == 0, "\(forced)")
        #expect(!box.stateDirExists(id))
        #expect(eventually { !Host.isAlive(pid) }, "init \(pid) survived delete --force")
        #expect(box.crabcan(["state", id]).status == 1)
        #expect(Host.processes(usingRootfs: box.rootfs, orMentioning: id).isEmpty)
    }

    /// `delete --force` leaves no process of the container behind, whether its init is pid 1 of its own pid
    /// namespace (the kernel takes the rest with it, so delete kills only the init, as runc) or shares the host's
    /// (then every process of its cgroup is killed, frozen first on cgroup v1). state.json says which it is.
    @Test(arguments: [true, false]) func deleteForceLeavesNoProcess(ownPidNamespace: Bool) throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        let id = box.id(ownPidNamespace ? "del-pidns" : "del-hostpid")
        let bundle = try box.bundle(["sh", "-c", "sleep 600 & sleep 600 & wait"]) { config in
            if !ownPidNamespace { Self.withoutNamespace(&config, "pid") }
        }
        let run = box.crabcan(["run", "--detach", "--bundle", bundle, id])
        try #require(run.status == 0, "\(run)")
        let exec = box.crabcan(["exec", "--detach", id, "sleep", "600"])
        #expect(exec.status == 0, "\(exec)")
        // The init, its two background sleeps and the exec'd one.
        #expect(eventually { Host.processes(usingRootfs: box.rootfs, orMentioning: id).count == 4 },
                "\(Host.processes(usingRootfs: box.rootfs, orMentioning: id))")
        let recorded = try String(contentsOfFile: box.root + "/" + id + "/state.json", encoding: .utf8)
        #expect(recorded.contains("\"ownsPidNamespace\":true") == ownPidNamespace, "\(recorded)")

        let forced = box.crabcan(["delete", "--force", id])
        #expect(forced.status == 0, "\(forced)")
        #expect(!box.stateDirExists(id))
        #expect(eventually { Host.processes(usingRootfs: box.rootfs, orMentioning: id).isEmpty },
                "left behind: \(Host.processes(usingRootfs: box.rootfs, orMentioning: id))")
    }

    /// runc's behaviour: a created (never started) container is killed by a plain delete.
    @Test func deleteKillsCreatedContainer() throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        let id = box.id("delcreated")
        #expect(box.crabcan(["create", "--bundle", try box.bundle(["sleep", "100"]), id]).status == 0)
        let pid = try #require(box.pid(id))
        #expect(Host.isAlive(pid))
        let delete = box.crabcan(["delete", id])
        #expect(delete.status == 0, "\(delete)")
        #expect(!box.stateDirExists(id))
        #expect(eventually { !Host.isAlive(pid) }, "created init \(pid) survived delete")
    }

    @Test func duplicateIDRefused() throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        let id = box.id("dup")
        let marker = box.rootfs + "/tmp/dup-\(id)"
        let bundle = try box.bundle(["sh", "-c", "echo first > /tmp/dup-\(id); sleep 100"])
        #expect(box.crabcan(["create", "--bundle", bundle, id]).status == 0)
        let pid = try #require(box.pid(id))

        let second = box.crabcan(["create", "--bundle", bundle, id])
        #expect(second.status == 1, "\(second)")
        #expect(second.stderr.contains("already exists"), "\(second)")

        #expect(box.status(id) == "created", "the first container must be untouched")
        #expect(box.pid(id) == pid)
        #expect(Host.isAlive(pid))
        #expect(box.crabcan(["start", id]).status == 0)
        #expect(box.status(id) == "running")
        #expect(eventually { FileManager.default.fileExists(atPath: marker) })
    }

    /// create/start/kill/delete, and `run`: the host's mount table is untouched, the root is empty again,
    /// and no process is left on the container's rootfs.
    @Test func nothingLeftBehind() throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        let mountsBefore = Host.mountinfo()
        let bundle = try box.bundle(["sleep", "100"])

        let id = box.id("clean")
        try #require(box.crabcan(["create", "--bundle", bundle, id]).status == 0)
        let pid = try #require(box.pid(id))
        try #require(box.crabcan(["start", id]).status == 0)
        #expect(Host.processes(usingRootfs: box.rootfs, orMentioning: id) == [pid], "the check must see the container")
        try #require(box.crabcan(["kill", id, "KILL"]).status == 0)
        try #require(box.waitForStatus(id, "stopped"))
        #expect(box.crabcan(["delete", id]).status == 0)

        let runID = box.id("cleanrun")
        let run = box.crabcan(["run", "--bundle", try box.bundle(["true"], name: "true-bundle"), runID])
        #expect(run.status == 0, "\(run)")

        #expect(Host.mountinfo() == mountsBefore, "the host mount table changed")
        #expect(!box.stateDirExists(id))
        #expect(box.rootEntries().isEmpty, "left in --root: \(box.rootEntries())")
        #expect(eventually { !Host.isAlive(pid) })
        #expect(Host.processes(usingRootfs: box.rootfs, orMentioning: id).isEmpty)
        #expect(Host.processes(usingRootfs: box.rootfs, orMentioning: runID).isEmpty)
    }
}
