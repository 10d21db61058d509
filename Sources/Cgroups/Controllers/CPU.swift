import Glibc
import OCISpec
import Sys

/// cpu (and v1's cpuacct for statistics): v1's cfs/rt files and shares, v2's cpu.max and cpu.weight.
enum CPU {
    static func problems(_ c: Resources.CPU) -> [ConfigProblem] {
        guard let idle = c.idle, idle != 0 && idle != 1 else { return [] }
        return [ConfigProblem(".linux.resources.cpu.idle", "must be 0 or 1, got \(idle)")]
    }

    // MARK: v1

    static func applyV1(_ c: Resources.CPU, _ d: String) throws {
        // Realtime period before runtime: the kernel checks runtime against the period in place.
        if let p = c.realtimePeriod, p != 0 { try CgroupFiles.write(d, "cpu.rt_period_us", String(p)) }
        if let rt = c.realtimeRuntime, rt != 0 { try CgroupFiles.write(d, "cpu.rt_runtime_us", String(rt)) }
        if let shares = c.shares, shares != 0 {
            try CgroupFiles.write(d, "cpu.shares", String(shares))
            // The kernel clamps to [2, 262144] silently; runc reports it, so do we.
            if !CgroupFiles.isFake(d), let got = UInt64(trimmed(try CgroupFiles.read(d, "cpu.shares"))), got != shares {
                throw ConfigProblem(".linux.resources.cpu.shares", "the kernel set \(got) instead of \(shares) (allowed: 2 to 262144)")
            }
        }
        // A smaller period can be refused (EINVAL) while the old quota/new period exceeds the parent's: then set
        // the quota first and retry the period (runc fs/cpu.go).
        var periodPending = false
        if let p = c.period, p != 0 {
            let retryable: [Int32] = (c.quota ?? 0) != 0 ? [EINVAL] : []
            periodPending = try ignoring(retryable) { () throws(SysError) in try CgroupFiles.write(d, "cpu.cfs_period_us", String(p)) }
        }
        if let q = c.quota, q != 0 {
            try CgroupFiles.write(d, "cpu.cfs_quota_us", String(q))
            if periodPending, let p = c.period { try CgroupFiles.write(d, "cpu.cfs_period_us", String(p)) }
        }
        if let b = c.burst { try CgroupFiles.write(d, "cpu.cfs_burst_us", String(b)) }
        if let idle = c.idle, Files.exists(d + "/cpu.idle") || CgroupFiles.isFake(d) {
            try CgroupFiles.write(d, "cpu.idle", String(idle))
        }
    }

    /// v1 counts usage in cpuacct and throttling in cpu (separate hierarchies or one co-mounted).
    static func statsV1(cpu: String?, cpuacct: String?) -> CgroupStats.CPU? {
        guard cpu != nil || cpuacct != nil else { return nil }
        var c = CgroupStats.CPU()
        if let d = cpuacct {
            c.total = optionalNumber(d, "cpuacct.usage")
            c.perCPU = words((try? CgroupFiles.read(d, "cpuacct.usage_percpu")) ?? "").compactMap { UInt64($0) }
            // cpuacct.stat counts USER_HZ ticks (100 per second on Linux); runc converts them to nanoseconds.
            if let st = try? keyValues(d, "cpuacct.stat") {
                c.user = (st["user"] ?? 0) * 10_000_000
                c.kernel = (st["system"] ?? 0) * 10_000_000
            }
        }
        if let d = cpu, let st = try? keyValues(d, "cpu.stat") {
            c.periods = st["nr_periods"] ?? 0
            c.throttledPeriods = st["nr_throttled"] ?? 0
            c.throttledTime = st["throttled_time"] ?? 0
        }
        return c
    }

    // MARK: v2

    static func problemsV2(_ c: Resources.CPU) -> [ConfigProblem] {
        guard (c.realtimeRuntime ?? 0) != 0 || (c.realtimePeriod ?? 0) != 0 else { return [] }
        return [ConfigProblem(".linux.resources.cpu", "realtime cpu limits do not exist in cgroup v2")]
    }

    static func applyV2(_ c: Resources.CPU, _ d: String) throws {
        if let shares = c.shares, shares != 0 {
            try CgroupFiles.write(d, "cpu.weight", String(CgroupConversions.cpuWeight(shares: shares)))
        }
        var quota = c.quota ?? 0
        var period = c.period ?? 0
        // cpu.max holds both: the one not given keeps its current value (runc's update keeps it from its config;
        // written alone, a period would otherwise drop the quota to "max").
        if (quota == 0) != (period == 0), let current = try? CgroupFiles.read(d, "cpu.max") {
            let fields = trimmed(current).split(separator: " ")
            if fields.count == 2 {
                if quota == 0 { quota = fields[0] == "max" ? -1 : Int64(fields[0]) ?? 0 }
                if period == 0 { period = UInt64(fields[1]) ?? 0 }
            }
        }
        if quota != 0 || period != 0 {
            // "max" for no quota; the period is kept by the kernel when not given.
            var text = quota > 0 ? String(quota) : "max"
            if period != 0 { text += " \(period)" }
            try CgroupFiles.write(d, "cpu.max", text)
        }
        if let b = c.burst { try writeNewer(d, "cpu.max.burst", String(b), field: ".linux.resources.cpu.burst", since: "5.14") }
        if let idle = c.idle { try writeNewer(d, "cpu.idle", String(idle), field: ".linux.resources.cpu.idle", since: "5.15") }
    }

    /// A control file younger than cgroup v2 itself: on a kernel without it (ENOENT) the refusal names the field
    /// asking for it and the kernel that brought it, not only the file.
    static func writeNewer(_ d: String, _ file: String, _ value: String, field: String, since: String) throws {
        do throws(SysError) {
            try CgroupFiles.write(d, file, value)
        } catch {
            if error.errno == ENOENT && !CgroupFiles.isFake(d) { throw ConfigProblem(field, "this kernel has no \(file) (Linux \(since))") }
            throw error
        }
    }

    /// cpu.stat exists without the cpu controller (usage only); throttling needs it.
    static func statsV2(_ d: String) -> CgroupStats.CPU? {
        guard let st = try? keyValues(d, "cpu.stat") else { return nil }
        return CgroupStats.CPU(
            total: (st["usage_usec"] ?? 0) * 1000, perCPU: [], user: (st["user_usec"] ?? 0) * 1000,
            kernel: (st["system_usec"] ?? 0) * 1000, periods: st["nr_periods"] ?? 0,
            throttledPeriods: st["nr_throttled"] ?? 0, throttledTime: (st["throttled_usec"] ?? 0) * 1000)
    }
}
