import Foundation
import Testing

/// Issue 8, concurrency: many crabcan processes at once on one --root. Creates of distinct ids all succeed,
/// creates of one id leave exactly one container, and start/kill/delete/state racing on one container never
/// leave a corrupt state.json or a half-deleted container (the per-container flock, ContainerDirectory.lock).
extension CrabcanCLI {
    /// Starts every command at once (each its own crabcan process), then waits for all of them.
    static func together(_ box: Sandbox, _ commands: [[String]], timeout: Double = 60) throws -> [Result] {
        let running = try commands.map { try box.start($0) }
        return running.map { $0.wait(timeout: timeout) }
    }

    @Test func fiftyParallelCreatesWithDistinctIDsAllSucceed() throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        let bundle = try box.bundle(["true"])
        let ids = (0..<50).map { _ in box.id("par") }
        let before = HostSnapshot.take(root: box.root, ids: ids)

        let creates = try Self.together(box, ids.map { ["create", "--bundle", bundle, $0] })
        for (id, result) in zip(ids, creates) { #expect(result.status == 0, "\(id): \(result)") }
        let list = box.crabcan(["list", "--format", "json"])
        let entries = (try? JSONSerialization.jsonObject(with: Data(list.stdout.utf8))) as? [[String: Any]] ?? []
        #expect(entries.count == 50, "\(list)")
        #expect(entries.allSatisfy { $0["status"] as? String == "created" }, "\(list)")
        let pids = Set(entries.compactMap { $0["pid"] as? Int })
        #expect(pids.count == 50 && pids.allSatisfy { Host.isAlive(pid_t($0)) }, "\(pids)")

        let deletes = try Self.together(box, ids.map { ["delete", $0] })
        for (id, result) in zip(ids, deletes) { #expect(result.status == 0, "\(id): \(result)") }
        #expect(eventually(timeout: 5) { pids.allSatisfy { !Host.isAlive(pid_t($0)) } })
        let after = HostSnapshot.take(root: box.root, ids: ids)
        #expect(after.leaks(since: before).isEmpty, "\(after.leaks(since: before))")
    }

    @Test func parallelCreatesOfOneIDLeaveExactlyOneContainer() throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        let bundle = try box.bundle(["true"])
        let id = box.id("same")
        let before = HostSnapshot.take(root: box.root, ids: [id])

        let results = try Self.together(box, Array(repeating: ["create", "--bundle", bundle, id], count: 12))
        let winners = results.filter { $0.status == 0 }
        #expect(winners.count == 1, "\(results)")
        for loser in results where loser.status != 0 {
            #expect(isOneLineError(loser) && loser.stderr.contains("already exists"), "\(loser)")
        }
        #expect(box.status(id) == "created")
        // One init: the losers made nothing (they fail at mkdir, before cgroups or clone).
        #expect(eventually { box.processes(id).count == 1 }, "\(box.processes(id))")
        #expect(box.crabcan(["delete", id]).status == 0)
        box.expectGone(id, "same id")
        let after = HostSnapshot.take(root: box.root, ids: [id])
        #expect(after.leaks(since: before).isEmpty, "\(after.leaks(since: before))")
    }

    /// Rounds of start, kill, delete (forced or not) and state fired together at one container. Whatever
    /// order they land in: each either does its job or says in one line why not; state.json always parses;
    /// and at the end the container is gone, or is whole and truthful and `delete --force` removes it.
    @Test func startKillDeleteRacesNeverCorruptOrHalfDelete() throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        let bundle = try box.bundle(["sleep", "30"])
        var ids: [String] = []
        for round in 0..<20 {
            let id = box.id("race")
            ids.append(id)
            #expect(box.crabcan(["create", "--bundle", bundle, id]).status == 0)
            let racers: [[String]] = [
                ["start", id], ["kill", id, "KILL"], ["state", id], round % 2 == 0 ? ["delete", "--force", id] : ["delete", id],
                ["start", id], ["state", id], ["kill", id, "TERM"], ["delete", "--force", id], ["list", "-q"],
            ]
            let results = try Self.together(box, racers)
            for (command, result) in zip(racers, results) {
                #expect(!result.signaled && !result.timedOut, "\(command): \(result)")
                #expect(result.status == 0 || isOneLineError(result), "\(command): \(result)")
                // As runc: a forced delete of a container that is (or just went) away succeeds.
                if command == ["delete", "--force", id] { #expect(result.status == 0, "\(command): \(result)") }
                if command[0] == "state" && result.status == 0 {
                    #expect((try? JSONSerialization.jsonObject(with: Data(result.stdout.utf8))) != nil, "\(result)")
                }
            }
            // Whatever is left is whole: a state.json that parses, a status that matches the processes.
            if box.stateDirExists(id) {
                let statePath = box.root + "/" + id + "/state.json"
                if let data = FileManager.default.contents(atPath: statePath) {
                    #expect((try? JSONSerialization.jsonObject(with: data)) != nil, "round \(round): corrupt state.json")
                }
                let status = box.status(id)
                let pid = box.pid(id) ?? 0
                #expect(status != nil && status != "creating", "round \(round): \(String(describing: box.state(id)))")
                if status == "stopped" { #expect(pid == 0) } else { #expect(Host.isAlive(pid)) }
                #expect(box.crabcan(["delete", "--force", id]).status == 0)
            }
            box.expectGone(id, "round \(round)")
        }
        #expect(ids.flatMap(HostSnapshot.cgroupDirs).isEmpty)
        #expect(box.rootEntries().isEmpty, "\(box.rootEntries())")
    }

    /// The worst case for the lock, made certain: every racer is queued on the container's flock (held here)
    /// before any runs, then they go one at a time in whatever order the kernel picks. A racer that waited while
    /// another removed the directory must see the container gone (not act on a dir it no longer names), so
    /// both forced deletes succeed and nothing is left half-done.
    @Test func racersQueuedOnTheLockRunOneAtATime() throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        let bundle = try box.bundle(["sleep", "30"])
        for round in 0..<5 {
            let id = box.id("queued")
            #expect(box.crabcan(["create", "--bundle", bundle, id]).status == 0)
            let initPid = try #require(box.pid(id))
            let lock = open(box.root + "/" + id, O_RDONLY | O_DIRECTORY)
            #expect(lock >= 0 && flock(lock, LOCK_EX) == 0)
            let racers: [[String]] = [["start", id], ["delete", "--force", id], ["start", id], ["delete", "--force", id],
                                      ["delete", id], ["pause", id], ["update", "--pids-limit", "50", id]]
            let running = try racers.map { try box.start($0) }
            // All of them are blocked in flock (they are still running with the lock held here).
            usleep(300_000)
            #expect(running.allSatisfy { $0.isRunning }, "round \(round): a racer did not wait for the lock")
            close(lock)
            let results = running.map { $0.wait(timeout: 30) }
            for (command, result) in zip(racers, results) {
                #expect(!result.signaled && (result.status == 0 || isOneLineError(result)), "\(command): \(result)")
                if command == ["delete", "--force", id] { #expect(result.status == 0, "\(command): \(result)") }
            }
            box.expectGone(id, "round \(round)")
            #expect(eventually { !Host.isAlive(initPid) })
        }
        #expect(box.rootEntries().isEmpty, "\(box.rootEntries())")
    }

    /// Readers in a loop while containers come and go: every `state` is a whole document or one error line.
    @Test func stateReadersNeverSeeAHalfWrittenContainer() throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        let bundle = try box.bundle(["true"])
        let id = box.id("reader")
        var commands: [[String]] = []
        for _ in 0..<3 {
            commands += [["create", "--bundle", bundle, id], ["state", id], ["start", id], ["state", id],
                         ["delete", "--force", id], ["state", id], ["list"]]
        }
        let results = try Self.together(box, commands)
        for (command, result) in zip(commands, results) {
            #expect(!result.signaled && (result.status == 0 || isOneLineError(result)), "\(command): \(result)")
            if command[0] == "state" && result.status == 0 {
                let state = (try? JSONSerialization.jsonObject(with: Data(result.stdout.utf8))) as? [String: Any]
                #expect(state?["id"] as? String == id, "\(result)")
            }
        }
        if box.stateDirExists(id) { #expect(box.crabcan(["delete", "--force", id]).status == 0) }
        box.expectGone(id, "readers")
    }
}
