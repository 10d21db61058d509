import OCISpec
import Sys

/// What the kernel counts for a container's cgroup, as plain numbers (the caller formats events/stats JSON).
/// Times are nanoseconds; a limit of UInt64.max means unlimited.
package struct CgroupStats: Sendable, Equatable {
    package struct MemoryData: Sendable, Equatable {
        package var usage: UInt64 = 0
        package var maxUsage: UInt64 = 0
        package var failcnt: UInt64 = 0
        package var limit: UInt64 = 0
    }
    package struct Memory: Sendable, Equatable {
        package var usage = MemoryData()
        package var swap = MemoryData()
        package var kernel = MemoryData()
        package var kernelTCP = MemoryData()
        package var cache: UInt64 = 0
        package var rss: UInt64 = 0
        /// memory.stat as read.
        package var raw: [String: UInt64] = [:]
    }
    package struct CPU: Sendable, Equatable {
        package var total: UInt64 = 0
        package var perCPU: [UInt64] = []
        package var user: UInt64 = 0
        package var kernel: UInt64 = 0
        package var periods: UInt64 = 0
        package var throttledPeriods: UInt64 = 0
        package var throttledTime: UInt64 = 0
    }
    package struct Pids: Sendable, Equatable {
        package var current: UInt64 = 0
        package var limit: UInt64 = 0
    }
    package struct BlockIOEntry: Sendable, Equatable {
        package var major: UInt64
        package var minor: UInt64
        /// "Read", "Write", "Sync", "Async", "Discard", "Total" (v1 names; v2 maps rbytes → Read, wbytes → Write).
        package var op: String
        package var value: UInt64
    }
    package struct Hugetlb: Sendable, Equatable {
        package var usage: UInt64 = 0
        package var maxUsage: UInt64 = 0
        package var failcnt: UInt64 = 0
    }

    package var memory: Memory?
    package var cpu: CPU?
    package var pids: Pids?
    package var ioServiceBytes: [BlockIOEntry] = []
    /// Keyed by page size ("2MB").
    package var hugetlb: [String: Hugetlb] = [:]
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
