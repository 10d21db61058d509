import Foundation
import Glibc
import Testing

@testable import Cgroups
import OCISpec
import Sys

/// Starts `/bin/sleep 30` with posix_spawn (no fork of the test process).
func spawnSleep() throws -> pid_t {
    var pid: pid_t = 0
    let argv: [UnsafeMutablePointer<CChar>?] = [strdup("/bin/sleep"), strdup("30"), nil]
    defer { for p in argv { free(p) } }
    let rc = posix_spawn(&pid, "/bin/sleep", nil, nil, argv, environ)
    if rc != 0 { throw SysError("posix_spawn", path: "/bin/sleep", errno: rc) }
    return pid
}

func processState(_ pid: pid_t) -> String? {
    guard let text = try? Files.readText("/proc/\(pid)/status") else { return nil }
    return text.split(separator: "\n").first { $0.hasPrefix("State:") }.map { $0.dropFirst(6).trimmingCharacters(in: .whitespaces) }
}

/// Real cgroup v1 on this machine. Only cgroups this test makes are touched: an absolute path of its own,
/// removed in a defer even when an expectation fails.
@Suite(.serialized) struct RealCgroupV1Tests {
    static var runnable: Bool {
        guard geteuid() == 0, let host = try? CgroupHost.detect() else { return false }
        return host.version == .v1
    }

    /// Allow rules on a cgroup that allows every device and was made by this create change nothing, and are not
    /// written (one read of devices.list instead); on a cgroup that restricts its devices, or one made earlier, they
    /// are written as before.
    @Test(.enabled(if: RealCgroupV1Tests.runnable)) func allowRulesOnAFreshAllowAllCgroup() throws {
        let host = try CgroupHost.detect()
        let set = try CgroupSet.plan(cgroupsPath: "/crabcan-cgtest-devices-\(getpid())", id: "unused", host: host)
        let manager = CgroupManager(set)
        defer {
            try? manager.destroy()
            for dir in set.paths.values where Files.exists(dir) { rmdir(dir) }
        }
        let list = set.paths["devices"]! + "/devices.list"
        let madeNow = try manager.create()
        #expect(madeNow)
        let allowOnly = [DeviceCgroupRule(allow: true, type: "c", access: "m"),
                         DeviceCgroupRule(allow: true, type: "c", major: 1, minor: 3, access: "rwm")]
        try manager.apply(Resources(devices: allowOnly), madeNow: madeNow)
        #expect(try Files.readText(list) == "a *:* rwm\n")
        #expect(try manager.create() == false, "made already")
        try manager.apply(Resources(devices: [DeviceCgroupRule(allow: false, access: "rwm"),
                                              DeviceCgroupRule(allow: true, type: "c", major: 1, minor: 3, access: "rwm")]))
        #expect(try Files.readText(list) == "c 1:3 rwm\n")
        // Restricted: allow rules add to the list, whether or not the cgroup was just made.
        try manager.apply(Resources(devices: [DeviceCgroupRule(allow: true, type: "c", major: 1, minor: 5, access: "rwm")]))
        try manager.apply(Resources(devices: [DeviceCgroupRule(allow: true, type: "c", major: 1, minor: 7, access: "r")]),
                          madeNow: true)
        #expect(try Files.readText(list) == "c 1:3 rwm\nc 1:5 rwm\nc 1:7 r\n")
    }

    @Test(.enabled(if: RealCgroupV1Tests.runnable)) func lifecycle() throws {
        let host = try CgroupHost.detect()
        let name = "/crabcan-cgtest-\(getpid())"
        let set = try CgroupSet.plan(cgroupsPath: name, id: "unused", host: host)
        #expect(set.paths["memory"] == "/sys/fs/cgroup/memory" + name)
        #expect(set.paths["cpu"] == "/sys/fs/cgroup/cpu" + name)
        #expect(set.paths["cpuacct"] == "/sys/fs/cgroup/cpuacct" + name)
        let manager = CgroupManager(set)
        var child: pid_t = 0
        defer {
            if child > 0 { kill(child, SIGKILL); var st: Int32 = 0; waitpid(child, &st, 0) }
            try? manager.destroy()
            for dir in set.paths.values where Files.exists(dir) { rmdir(dir) }
        }
        try manager.create()
        for dir in set.paths.values { #expect(Files.isDirectory(dir), "\(dir)") }
        #expect(try Files.readText(set.paths["cpuset"]! + "/cpuset.cpus") != "\n", "cpuset copied down")

        try manager.apply(Resources(
            devices: [
                DeviceCgroupRule(allow: false, access: "rwm"),
                DeviceCgroupRule(allow: true, type: "c", major: 1, minor: 3, access: "rwm"),
                DeviceCgroupRule(allow: true, type: "c", major: 136, access: "rw"),
            ],
            memory: .init(limit: 64 << 20, kernel: 1 << 30),
            cpu: .init(shares: 512, quota: 50000, period: 100000),
            pids: .init(limit: 20)))
        #expect(try Files.readText(set.paths["memory"]! + "/memory.limit_in_bytes") == "67108864\n")
        #expect(try Files.readText(set.paths["pids"]! + "/pids.max") == "20\n")
        #expect(try Files.readText(set.paths["cpu"]! + "/cpu.shares") == "512\n")
        #expect(try Files.readText(set.paths["cpu"]! + "/cpu.cfs_quota_us") == "50000\n")
        #expect(try Files.readText(set.paths["devices"]! + "/devices.list") == "c 1:3 rwm\nc 136:* rw\n")
        // Rules go through one open devices.allow and one devices.deny, still in the config's order: the deny
        // between two allows takes w from c 1:5 only, and the allow after it is not undone.
        try manager.apply(Resources(devices: [
            DeviceCgroupRule(allow: false, access: "rwm"),
            DeviceCgroupRule(allow: true, type: "c", major: 1, minor: 3, access: "rwm"),
            DeviceCgroupRule(allow: true, type: "c", major: 1, minor: 5, access: "rwm"),
            DeviceCgroupRule(allow: false, type: "c", major: 1, minor: 5, access: "w"),
            DeviceCgroupRule(allow: true, type: "c", major: 1, minor: 7, access: "r"),
        ]))
        #expect(try Files.readText(set.paths["devices"]! + "/devices.list") == "c 1:3 rwm\nc 1:5 rm\nc 1:7 r\n")

        // The kernel's refusal surfaces with the file and directory named.
        do {
            try manager.apply(Resources(cpu: .init(cpus: "0-4096")))
            Issue.record("an impossible cpuset was accepted")
        } catch let error as SysError {
            #expect(error.description.hasPrefix("write cpuset.cpus = \"0-4096\" in \(set.paths["cpuset"]!): "), "\(error)")
        }

        child = try spawnSleep()
        try manager.add(child)
        #expect(try manager.pids() == [child])
        let ownCgroup = try Files.readText("/proc/\(child)/cgroup")
        #expect(ownCgroup.contains(":memory:\(name)\n"), "\(ownCgroup)")

        try manager.freeze()
        #expect(manager.isFrozen())
        #expect(try Files.readText(set.paths["freezer"]! + "/freezer.state") == "FROZEN\n")
        let frozenState = processState(child) ?? ""
        #expect(frozenState.hasPrefix("D") || frozenState.hasPrefix("T") || frozenState.hasPrefix("S"), "\(frozenState)")
        try manager.thaw()
        #expect(!manager.isFrozen())
        // Thawing is asynchronous: the sleeper is back to S within moments, not at once.
        var thawedState = processState(child) ?? ""
        for _ in 0..<100 where !thawedState.hasPrefix("S") {
            usleep(10_000)
            thawedState = processState(child) ?? ""
        }
        #expect(thawedState.hasPrefix("S"), "\(thawedState)")

        let stats = try manager.stats()
        #expect(stats.memory?.usage.limit == 64 << 20)
        #expect(stats.pids == .init(current: 1, limit: 20))
        #expect((stats.cpu?.perCPU.count ?? 0) >= 1)

        try manager.signalAll(SIGKILL)
        var status: Int32 = 0
        #expect(waitpid(child, &status, 0) == child)
        #expect(status & 0x7f == SIGKILL)
        child = 0
        #expect(!manager.isFrozen(), "thawed after signalling")
        for _ in 0..<100 where try manager.pids().isEmpty == false { CgroupFiles.sleep(milliseconds: 10) }
        #expect(try manager.pids() == [])

        try manager.destroy()
        for dir in set.paths.values { #expect(!Files.exists(dir), "\(dir) left behind") }
    }
}
