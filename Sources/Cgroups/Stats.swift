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

/// A counter file: a number, "max" as UInt64.max.
func number(_ d: String, _ file: String) throws -> UInt64 {
    let text = trimmed(try CgroupFiles.read(d, file))
    return text == "max" ? UInt64.max : UInt64(text) ?? 0
}

/// A counter that may be missing (0 then).
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
