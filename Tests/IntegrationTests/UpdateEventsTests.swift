import Foundation
import Testing

/// `update` (new cgroup limits on a live container) and `events` (stats once, or streamed until it stops).
extension CrabcanCLI {
    @Test func updateWritesNewLimitsToTheCgroupFiles() throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        let id = box.id("update")
        let bundle = try box.bundle(["sleep", "100"])
        try #require(box.crabcan(["run", "--detach", "--bundle", bundle, id]).status == 0)
        let flags = box.crabcan(["update", "--memory", "96m", "--pids-limit", "40", "--cpu-shares", "300", id])
        #expect(flags.status == 0, "\(flags)")
        #expect(Self.read("/sys/fs/cgroup/memory/crabcan/\(id)/memory.limit_in_bytes") == "100663296")
        #expect(Self.read("/sys/fs/cgroup/pids/crabcan/\(id)/pids.max") == "40")
        #expect(Self.read("/sys/fs/cgroup/cpu/crabcan/\(id)/cpu.shares") == "300")

        let file = box.dir + "/resources.json"
        try Data(#"{"memory":{"limit":134217728}}"#.utf8).write(to: URL(fileURLWithPath: file))
        let fromFile = box.crabcan(["update", "-r", file, id])
        #expect(fromFile.status == 0, "\(fromFile)")
        #expect(Self.read("/sys/fs/cgroup/memory/crabcan/\(id)/memory.limit_in_bytes") == "134217728")
        // Fields not given are left alone.
        #expect(Self.read("/sys/fs/cgroup/pids/crabcan/\(id)/pids.max") == "40")

        let bad = box.crabcan(["update", "--memory", "nonsense", id])
        #expect(bad.status == 1)
        #expect(bad.stderr.contains("--memory"), "\(bad)")
        let badFile = box.dir + "/bad.json"
        try Data(#"{"memory":{"limit":"lots"}}"#.utf8).write(to: URL(fileURLWithPath: badFile))
        let badJSON = box.crabcan(["update", "-r", badFile, id])
        #expect(badJSON.status == 1)
        #expect(badJSON.stderr.contains(".memory.limit"), "\(badJSON)")
        #expect(Self.read("/sys/fs/cgroup/memory/crabcan/\(id)/memory.limit_in_bytes") == "134217728")

        #expect(box.crabcan(["kill", id, "KILL"]).status == 0)
        try #require(box.waitForStatus(id, "stopped"))
        let stopped = box.crabcan(["update", "--memory", "64m", id])
        #expect(stopped.status == 1, "\(stopped)")
        #expect(stopped.stderr.contains("container not running"), "\(stopped)")
    }

    @Test func eventsStatsPrintsOneStatsObject() throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        let id = box.id("stats")
        let bundle = try box.bundle(["sleep", "100"])
        try #require(box.crabcan(["run", "--detach", "--bundle", bundle, id]).status == 0)
        let result = box.crabcan(["events", "--stats", id])
        #expect(result.status == 0, "\(result)")
        #expect(result.stdoutLines.count == 1, "\(result)")
        let event = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        #expect(event["type"] as? String == "stats")
        #expect(event["id"] as? String == id)
        let data = try #require(event["data"] as? [String: Any])
        let memory = try #require(data["memory"] as? [String: Any])
        let usage = try #require(memory["usage"] as? [String: Any])
        #expect((usage["usage"] as? Int ?? 0) > 0, "\(usage)")
        #expect(memory["raw"] is [String: Any])
        let pids = try #require(data["pids"] as? [String: Any])
        #expect((pids["current"] as? Int ?? 0) >= 1, "\(pids)")
        let cpu = try #require(data["cpu"] as? [String: Any])
        #expect((cpu["usage"] as? [String: Any])?["total"] is Int)
        #expect((data["blkio"] as? [String: Any])?["ioServiceBytesRecursive"] is [Any])
        #expect(box.crabcan(["events", "--stats", "no-such-container"]).status == 1)
    }

    @Test func eventsStreamsUntilTheContainerStops() throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        let id = box.id("events")
        let bundle = try box.bundle(["sleep", "100"])
        try #require(box.crabcan(["run", "--detach", "--bundle", bundle, id]).status == 0)
        let stream = try box.start(["events", "--interval", "200ms", id])
        let twoLines = eventually(timeout: 10) { stream.stdoutSoFar.split(separator: "\n").count >= 2 }
        #expect(twoLines, "stdout: \(stream.stdoutSoFar)")
        #expect(stream.isRunning, "events must keep streaming while the container runs")
        #expect(box.crabcan(["kill", id, "KILL"]).status == 0)
        let result = stream.wait(timeout: 10)
        #expect(!result.timedOut && result.status == 0, "\(result)")
        for line in result.stdoutLines {
            let event = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            #expect(event?["type"] as? String == "stats" && event?["id"] as? String == id, "\(line)")
        }
        #expect(box.crabcan(["events", "--interval", "soon", id]).status == 1)
    }

    /// Raising memory above an earlier memory+swap limit is refused with what to do, not the kernel's EINVAL;
    /// with both given, the writes are ordered so the kernel accepts them. `-r` ignores the flags, as runc does.
    @Test func updateMemoryAgainstSwapAndResourcesFileOverFlags() throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        let id = box.id("memsw")
        let bundle = try box.bundle(["sleep", "100"]) {
            Self.withResources(&$0, ["memory": ["limit": 64 << 20, "swap": 96 << 20], "pids": ["limit": 40]])
        }
        try #require(box.crabcan(["run", "--detach", "--bundle", bundle, id]).status == 0)
        let dir = "/sys/fs/cgroup/memory/crabcan/\(id)"
        let above = box.crabcan(["update", "--memory", "200m", id])
        #expect(above.status == 1 && above.stderrLines.count == 1 && above.stderr.contains("memory+swap"), "\(above)")
        #expect(Self.read(dir + "/memory.limit_in_bytes") == String(64 << 20))
        let both = box.crabcan(["update", "--memory", "200m", "--memory-swap", "300m", id])
        #expect(both.status == 0, "\(both)")
        #expect(Self.read(dir + "/memory.limit_in_bytes") == String(200 << 20))
        #expect(Self.read(dir + "/memory.memsw.limit_in_bytes") == String(300 << 20))
        let down = box.crabcan(["update", "--memory", "50m", "--memory-swap", "60m", id])
        #expect(down.status == 0, "\(down)")
        #expect(Self.read(dir + "/memory.memsw.limit_in_bytes") == String(60 << 20))

        let file = box.dir + "/pids.json"
        try Data(#"{"cpu":{"shares":700}}"#.utf8).write(to: URL(fileURLWithPath: file))
        let mixed = box.crabcan(["update", "-r", file, "--pids-limit", "77", id])
        #expect(mixed.status == 0, "\(mixed)")
        #expect(Self.read("/sys/fs/cgroup/cpu/crabcan/\(id)/cpu.shares") == "700")
        #expect(Self.read("/sys/fs/cgroup/pids/crabcan/\(id)/pids.max") == "40", "flags must be ignored with -r")
    }

    /// 0 means "unchanged" in every field update takes, from `-r` and from flags (runc): dockerd sends its whole
    /// resources document with 0 for each limit it does not change, on containers with and without limits.
    @Test func updateZeroLeavesEveryLimitAsItIs() throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        // dockerd's `docker update --cpus 0.25 --pids-limit 20` document, byte for byte.
        let docker = box.dir + "/docker-update.json"
        try Data(#"{"memory":{"limit":0,"reservation":0,"kernel":0},"cpu":{"shares":0,"quota":25000,"period":100000},"pids":{"limit":20},"blockIO":{"weight":0}}"#.utf8)
            .write(to: URL(fileURLWithPath: docker))

        let free = box.id("upd0free")
        let freeBundle = try box.bundle(["sleep", "100"], name: "free")
        try #require(box.crabcan(["run", "--detach", "--bundle", freeBundle, free]).status == 0)
        let unlimited = Self.read("/sys/fs/cgroup/memory/crabcan/\(free)/memory.limit_in_bytes")
        let noReservation = Self.read("/sys/fs/cgroup/memory/crabcan/\(free)/memory.soft_limit_in_bytes")
        let onFree = box.crabcan(["update", "-r", docker, free])
        #expect(onFree.status == 0, "a zero memory limit must not be written (EBUSY): \(onFree)")
        #expect(Self.read("/sys/fs/cgroup/memory/crabcan/\(free)/memory.limit_in_bytes") == unlimited)
        #expect(Self.read("/sys/fs/cgroup/memory/crabcan/\(free)/memory.soft_limit_in_bytes") == noReservation)
        #expect(Self.read("/sys/fs/cgroup/cpu/crabcan/\(free)/cpu.cfs_quota_us") == "25000")
        #expect(Self.read("/sys/fs/cgroup/pids/crabcan/\(free)/pids.max") == "20")

        let limited = box.id("upd0lim")
        let limitedBundle = try box.bundle(["sleep", "100"], name: "limited") {
            Self.withResources(&$0, ["memory": ["limit": 64 << 20, "reservation": 32 << 20], "cpu": ["shares": 300], "pids": ["limit": 40]])
        }
        try #require(box.crabcan(["run", "--detach", "--bundle", limitedBundle, limited]).status == 0)
        let dir = "/sys/fs/cgroup/memory/crabcan/\(limited)"
        #expect(box.crabcan(["update", "-r", docker, limited]).status == 0)
        #expect(Self.read(dir + "/memory.limit_in_bytes") == String(64 << 20))
        #expect(Self.read(dir + "/memory.soft_limit_in_bytes") == String(32 << 20), "reservation 0 must not be written")
        #expect(Self.read("/sys/fs/cgroup/cpu/crabcan/\(limited)/cpu.shares") == "300")
        #expect(Self.read("/sys/fs/cgroup/pids/crabcan/\(limited)/pids.max") == "20")

        // `docker update --memory 100m`: only the limit moves.
        let memoryOnly = box.dir + "/docker-memory.json"
        try Data(#"{"memory":{"limit":104857600,"reservation":0,"swap":0,"kernel":0},"cpu":{"shares":0,"quota":0,"period":0},"pids":{"limit":0},"blockIO":{"weight":0}}"#.utf8)
            .write(to: URL(fileURLWithPath: memoryOnly))
        #expect(box.crabcan(["update", "-r", memoryOnly, limited]).status == 0)
        #expect(Self.read(dir + "/memory.limit_in_bytes") == String(100 << 20))
        #expect(Self.read(dir + "/memory.soft_limit_in_bytes") == String(32 << 20))
        #expect(Self.read("/sys/fs/cgroup/pids/crabcan/\(limited)/pids.max") == "20")
        #expect(Self.read("/sys/fs/cgroup/cpu/crabcan/\(limited)/cpu.cfs_quota_us") == "25000", "quota 0 must not be written")

        // The same through runc's flags.
        let flags = box.crabcan(["update", "--memory", "0", "--memory-reservation", "0", "--memory-swap", "0", "--kernel-memory", "0",
                                 "--cpu-shares", "0", "--cpu-quota", "0", "--cpu-period", "0", "--pids-limit", "0",
                                 "--blkio-weight", "0", "--cpuset-cpus", "", limited])
        #expect(flags.status == 0, "\(flags)")
        #expect(Self.read(dir + "/memory.limit_in_bytes") == String(100 << 20))
        #expect(Self.read(dir + "/memory.soft_limit_in_bytes") == String(32 << 20))
        #expect(Self.read("/sys/fs/cgroup/cpu/crabcan/\(limited)/cpu.shares") == "300")
        #expect(Self.read("/sys/fs/cgroup/pids/crabcan/\(limited)/pids.max") == "20")
        #expect(!Self.read("/sys/fs/cgroup/cpuset/crabcan/\(limited)/cpuset.cpus").isEmpty)
    }

    /// A process of the container killed by the OOM killer shows as runc's `{"type":"oom"}` in the stream.
    @Test func eventsReportsOOMKills() throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        let id = box.id("oomevent")
        let bundle = try box.bundle(["sh", "-c", "sleep 1; sh -c 'x=$(head -c 134217728 /dev/zero | tr \"\\0\" a)'; sleep 30"]) {
            Self.withResources(&$0, ["memory": ["limit": 32 << 20, "swap": 32 << 20]])
        }
        try #require(box.crabcan(["run", "--detach", "--bundle", bundle, id]).status == 0)
        let stream = try box.start(["events", "--interval", "100ms", id])
        let sawOOM = eventually(timeout: 30) { stream.stdoutSoFar.contains(#""type":"oom""#) }
        #expect(sawOOM, "stdout: \(stream.stdoutSoFar.suffix(500))")
        #expect(stream.stdoutSoFar.contains(#"{"type":"oom","id":"\#(id)"}"#))
        #expect(box.crabcan(["delete", "--force", id]).status == 0)
        _ = stream.wait(timeout: 10)
    }
}
