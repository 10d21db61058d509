import Cgroups
import Glibc
import Sys
import Testing

/// cgroup v2 freeze and kill on this machine's real unified hierarchy (/sys/fs/cgroup/unified holds no
/// controllers here, but cgroup.freeze, cgroup.events and cgroup.kill are core files every cgroup2 has).
@Suite(.serialized, .enabled(if: getuid() == 0 && Mounts.isCgroup2("/sys/fs/cgroup/unified")))
struct RealCgroupV2Tests {
    @Test func freezeThawAndKillThroughTheUnifiedHierarchy() throws {
        let dir = "/sys/fs/cgroup/unified/crabcan-v2test-\(getpid())"
        let hostRootControl = try Files.readText("/sys/fs/cgroup/unified/cgroup.subtree_control")
        defer { #expect((try? Files.readText("/sys/fs/cgroup/unified/cgroup.subtree_control")) == hostRootControl, "the host's cgroup2 root is not ours to change") }
        let manager = CgroupManager(CgroupSet(version: .v2, paths: ["": dir]))
        try Files.mkdir(dir)  // not manager.create(): that would enable controllers in the host's cgroup2 root
        defer { try? manager.destroy() }
        let pid = try spawnSleep()
        defer { _ = try? Processes.wait(pid) }
        try manager.add(pid)
        #expect(try manager.pids() == [pid])

        try manager.freeze()
        #expect(manager.isFrozen())
        #expect(try Files.readText(dir + "/cgroup.events").contains("frozen 1"))
        try manager.thaw()
        #expect(!manager.isFrozen())

        try manager.signalAll(SIGKILL)  // cgroup.kill
        #expect(try Processes.wait(pid).status == .signaled(SIGKILL))
        #expect(try manager.pids().isEmpty)
        try manager.destroy()
        #expect(!Files.exists(dir))
    }

    /// clone3 CLONE_INTO_CGROUP (create's init, exec's process on cgroup v2): the child is born in the directory's
    /// cgroup; a target the kernel refuses (a directory that is no cgroup) gets a plain clone, left where its
    /// parent is, for the caller to move as before.
    @Test func aChildIsBornInItsCgroupOrClonedAsBefore() throws {
        let name = "crabcan-v2clone-\(getpid())"
        let dir = "/sys/fs/cgroup/unified/" + name
        let manager = CgroupManager(CgroupSet(version: .v2, paths: ["": dir]))
        try Files.mkdir(dir)  // not manager.create(): that would enable controllers in the host's cgroup2 root
        defer { try? manager.destroy() }
        #expect(manager.cloneTarget == dir)
        func unifiedLine(_ pid: String) throws -> String {
            String(try Files.readText("/proc/\(pid)/cgroup").split(separator: "\n").first { $0.hasPrefix("0::") } ?? "")
        }
        func cloneAndLook(into target: String) throws -> (cgroup: String, inCgroup: Bool) {
            let (pid, inCgroup) = try Processes.clone(flags: 0, into: try Files.open(target, O_PATH | O_DIRECTORY))
            if pid == 0 { while true { pause() } }
            defer {
                _ = try? Processes.kill(pid, SIGKILL)
                _ = try? Processes.wait(pid)
            }
            return (try unifiedLine(String(pid)), inCgroup)
        }
        let born = try cloneAndLook(into: dir)
        #expect(born.inCgroup && born.cgroup == "0::/" + name, "\(born)")
        let plain = try cloneAndLook(into: "/tmp")
        let own = try unifiedLine("self")
        #expect(!plain.inCgroup && plain.cgroup == own, "\(plain)")
    }

    /// delete --force of a paused container: SIGKILL reaches the frozen task, then thawAfterKill leaves the
    /// cgroup thawed and empty (runc kills, then thaws, on v1 and v2 alike).
    @Test func killThenThawAFrozenCgroup() throws {
        let dir = "/sys/fs/cgroup/unified/crabcan-v2thaw-\(getpid())"
        let manager = CgroupManager(CgroupSet(version: .v2, paths: ["": dir]))
        try Files.mkdir(dir)  // not manager.create(): that would enable controllers in the host's cgroup2 root
        defer { try? manager.destroy() }
        let pid = try spawnSleep()
        defer { _ = try? Processes.wait(pid) }
        try manager.add(pid)
        try manager.freeze()
        try manager.signalAll(SIGKILL)
        try manager.thawAfterKill()
        #expect(!manager.isFrozen())
        #expect(try Processes.wait(pid).status == .signaled(SIGKILL))
        #expect(try manager.pids().isEmpty)
        try manager.thawAfterKill()  // an empty, thawed cgroup: nothing to do
        #expect(!manager.isFrozen())
    }
}
