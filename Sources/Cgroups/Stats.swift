import OCISpec
import Sys

/// What the kernel counts for a container's cgroup, as plain numbers (the caller formats events/stats JSON).
/// Times are nanoseconds; a limit of UInt64.max means unlimited.
public struct CgroupStats: Sendable, Equatable {
    public struct MemoryData: Sendable, Equatable {
        public var usage: UInt64 = 0
        public var maxUsage: UInt64 = 0
        public var failcnt: UInt64 = 0
        public var limit: UInt64 = 0
    }
    public struct Memory: Sendable, Equatable {
        public var usage = MemoryData()
        public var swap = MemoryData()
        public var kernel = MemoryData()
        public var kernelTCP = MemoryData()
        public var cache: UInt64 = 0
        public var rss: UInt64 = 0
        /// memory.stat as read.
        public var raw: [String: UInt64] = [:]
    }
    public struct CPU: Sendable, Equatable {
        public var total: UInt64 = 0
        public var perCPU: [UInt64] = []
        public var user: UInt64 = 0
        public var kernel: UInt64 = 0
        public var periods: UInt64 = 0
        public var throttledPeriods: UInt64 = 0
        public var throttledTime: UInt64 = 0
    }
    public struct Pids: Sendable, Equatable {
        public var current: UInt64 = 0
        public var limit: UInt64 = 0
    }
    public struct BlockIOEntry: Sendable, Equatable {
        public var major: UInt64
        public var minor: UInt64
        /// "Read", "Write", "Sync", "Async", "Discard", "Total" (v1 names; v2 maps rbytes → Read, wbytes → Write).
        public var op: String
        public var value: UInt64
    }
    public struct Hugetlb: Sendable, Equatable {
        public var usage: UInt64 = 0
        public var maxUsage: UInt64 = 0
        public var failcnt: UInt64 = 0
    }

    public var memory: Memory?
    public var cpu: CPU?
    public var pids: Pids?
    public var ioServiceBytes: [BlockIOEntry] = []
    /// Keyed by page size ("2MB").
    public var hugetlb: [String: Hugetlb] = [:]
}

extension CgroupManager {
    /// Reads the counters of every controller present; a controller that is not mounted is left nil/empty.
    public func stats() throws -> CgroupStats {
        var s = CgroupStats()
        switch cgroups.version {
        case .v1: try statsV1(&s)
        case .v2: try statsV2(&s)
        }
        return s
    }

    func number(_ d: String, _ file: String) throws -> UInt64 {
        let text = trimmed(try CgroupFiles.read(d, file))
        return text == "max" ? UInt64.max : UInt64(text) ?? 0
    }

    func optionalNumber(_ d: String, _ file: String) -> UInt64 {
        (try? number(d, file)) ?? 0
    }

    /// "key value" lines (memory.stat, cpu.stat, cpuacct.stat, memory.events).
    func keyValues(_ d: String, _ file: String) throws -> [String: UInt64] {
        var result: [String: UInt64] = [:]
        for line in try CgroupFiles.read(d, file).split(separator: "\n") {
            let parts = line.split(separator: " ")
            if parts.count == 2, let v = UInt64(parts[1]) { result[String(parts[0])] = v }
        }
        return result
    }

    func statsV1(_ s: inout CgroupStats) throws {
        if let d = dir("memory") {
            var m = CgroupStats.Memory()
            func data(_ prefix: String) -> CgroupStats.MemoryData {
                CgroupStats.MemoryData(
                    usage: optionalNumber(d, prefix + ".usage_in_bytes"), maxUsage: optionalNumber(d, prefix + ".max_usage_in_bytes"),
                    failcnt: optionalNumber(d, prefix + ".failcnt"), limit: optionalNumber(d, prefix + ".limit_in_bytes"))
            }
            m.usage = data("memory")
            m.swap = data("memory.memsw")
            m.kernel = data("memory.kmem")
            m.kernelTCP = data("memory.kmem.tcp")
            m.raw = try keyValues(d, "memory.stat")
            m.cache = m.raw["total_cache"] ?? m.raw["cache"] ?? 0
            m.rss = m.raw["total_rss"] ?? m.raw["rss"] ?? 0
            s.memory = m
        }
        if dir("cpu") != nil || dir("cpuacct") != nil {
            var c = CgroupStats.CPU()
            if let d = dir("cpuacct") {
                c.total = optionalNumber(d, "cpuacct.usage")
                c.perCPU = ((try? CgroupFiles.read(d, "cpuacct.usage_percpu")) ?? "").split(whereSeparator: { $0 == " " || $0 == "\n" }).compactMap { UInt64($0) }
                // cpuacct.stat counts USER_HZ ticks (100 per second on Linux); runc converts them to nanoseconds.
                if let st = try? keyValues(d, "cpuacct.stat") {
                    c.user = (st["user"] ?? 0) * 10_000_000
                    c.kernel = (st["system"] ?? 0) * 10_000_000
                }
            }
            if let d = dir("cpu"), let st = try? keyValues(d, "cpu.stat") {
                c.periods = st["nr_periods"] ?? 0
                c.throttledPeriods = st["nr_throttled"] ?? 0
                c.throttledTime = st["throttled_time"] ?? 0
            }
            s.cpu = c
        }
        if let d = dir("pids") {
            s.pids = CgroupStats.Pids(current: optionalNumber(d, "pids.current"), limit: optionalNumber(d, "pids.max"))
        }
        if let d = dir("blkio") {
            // CFQ/BFQ accounting when present, else the throttle layer's (runc's fallback order).
            for file in ["blkio.io_service_bytes_recursive", "blkio.bfq.io_service_bytes_recursive", "blkio.throttle.io_service_bytes_recursive"] {
                guard let text = try? CgroupFiles.read(d, file) else { continue }
                let entries = parseBlkio(text)
                if !entries.isEmpty || file.hasPrefix("blkio.throttle") { s.ioServiceBytes = entries; break }
            }
        }
        if let d = dir("hugetlb") {
            for name in try Files.listDirectory(d) where name.hasPrefix("hugetlb.") && name.hasSuffix(".limit_in_bytes") && !name.contains(".rsvd.") {
                let size = String(name.dropFirst("hugetlb.".count).dropLast(".limit_in_bytes".count))
                s.hugetlb[size] = CgroupStats.Hugetlb(
                    usage: optionalNumber(d, "hugetlb.\(size).usage_in_bytes"),
                    maxUsage: optionalNumber(d, "hugetlb.\(size).max_usage_in_bytes"),
                    failcnt: optionalNumber(d, "hugetlb.\(size).failcnt"))
            }
        }
    }

    /// "8:0 Read 4096" lines; the closing "Total N" line has no device.
    func parseBlkio(_ text: String) -> [CgroupStats.BlockIOEntry] {
        text.split(separator: "\n").compactMap { line in
            let parts = line.split(separator: " ")
            guard parts.count == 3, let value = UInt64(parts[2]) else { return nil }
            let dev = parts[0].split(separator: ":")
            guard dev.count == 2, let major = UInt64(dev[0]), let minor = UInt64(dev[1]) else { return nil }
            return CgroupStats.BlockIOEntry(major: major, minor: minor, op: String(parts[1]), value: value)
        }
    }

    func statsV2(_ s: inout CgroupStats) throws {
        let d = v2Dir
        let controllers = ((try? CgroupFiles.read(d, "cgroup.controllers")) ?? "").split(whereSeparator: { $0 == " " || $0 == "\n" })
        if controllers.contains("memory") {
            var m = CgroupStats.Memory()
            let events = (try? keyValues(d, "memory.events")) ?? [:]
            m.usage = CgroupStats.MemoryData(
                usage: optionalNumber(d, "memory.current"), maxUsage: optionalNumber(d, "memory.peak"),
                failcnt: events["max"] ?? 0, limit: optionalNumber(d, "memory.max"))
            // runc reports v2 swap as memory + swap, like v1's memsw.
            m.swap = CgroupStats.MemoryData(
                usage: optionalNumber(d, "memory.swap.current") &+ m.usage.usage, maxUsage: 0, failcnt: 0,
                limit: optionalNumber(d, "memory.swap.max"))
            m.raw = try keyValues(d, "memory.stat")
            m.cache = m.raw["file"] ?? 0
            m.rss = m.raw["anon"] ?? 0
            s.memory = m
        }
        // cpu.stat exists without the cpu controller (usage only); throttling needs it.
        if let st = try? keyValues(d, "cpu.stat") {
            s.cpu = CgroupStats.CPU(
                total: (st["usage_usec"] ?? 0) * 1000, perCPU: [], user: (st["user_usec"] ?? 0) * 1000,
                kernel: (st["system_usec"] ?? 0) * 1000, periods: st["nr_periods"] ?? 0,
                throttledPeriods: st["nr_throttled"] ?? 0, throttledTime: (st["throttled_usec"] ?? 0) * 1000)
        }
        if controllers.contains("pids") {
            s.pids = CgroupStats.Pids(current: optionalNumber(d, "pids.current"), limit: optionalNumber(d, "pids.max"))
        }
        if controllers.contains("io"), let text = try? CgroupFiles.read(d, "io.stat") {
            // "8:0 rbytes=1 wbytes=2 rios=3 wios=4 dbytes=0 dios=0"
            for line in text.split(separator: "\n") {
                let parts = line.split(separator: " ")
                guard let first = parts.first else { continue }
                let dev = first.split(separator: ":")
                guard dev.count == 2, let major = UInt64(dev[0]), let minor = UInt64(dev[1]) else { continue }
                for kv in parts.dropFirst() {
                    let pair = kv.split(separator: "=")
                    guard pair.count == 2, let v = UInt64(pair[1]) else { continue }
                    if pair[0] == "rbytes" { s.ioServiceBytes.append(.init(major: major, minor: minor, op: "Read", value: v)) }
                    if pair[0] == "wbytes" { s.ioServiceBytes.append(.init(major: major, minor: minor, op: "Write", value: v)) }
                }
            }
        }
        if controllers.contains("hugetlb") {
            for name in try Files.listDirectory(d) where name.hasPrefix("hugetlb.") && name.hasSuffix(".max") && !name.contains(".rsvd.") {
                let size = String(name.dropFirst("hugetlb.".count).dropLast(".max".count))
                let events = (try? keyValues(d, "hugetlb.\(size).events")) ?? [:]
                s.hugetlb[size] = CgroupStats.Hugetlb(
                    usage: optionalNumber(d, "hugetlb.\(size).current"), maxUsage: 0, failcnt: events["max"] ?? 0)
            }
        }
    }
}

extension CgroupManager {
    /// How many processes the kernel's OOM killer has killed in the container's memory cgroup
    /// (v1 memory.oom_control, v2 memory.events: `oom_kill N`); nil without a memory cgroup.
    public func oomKillCount() -> UInt64? {
        let (directory, file) = cgroups.version == .v2 ? (v2Dir, "memory.events") : (dir("memory") ?? "", "memory.oom_control")
        guard !directory.isEmpty, let text = try? CgroupFiles.read(directory, file) else { return nil }
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ")
            if fields.count == 2, fields[0] == "oom_kill" { return UInt64(fields[1]) }
        }
        return nil
    }
}
