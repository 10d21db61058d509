import OCISpec

/// cgroup v1 values as cgroup v2 wants them, by the formulas of runc's libcontainer/cgroups/utils.go so that
/// a config behaves the same under crabcan and runc.
package enum CgroupConversions {
    /// cpu.shares [2, 262144] → cpu.weight [1, 10000]; 0 means unset (ConvertCPUSharesToCgroupV2Value).
    package static func cpuWeight(shares: UInt64) -> UInt64 {
        if shares == 0 { return 0 }
        let s = max(shares, 2)
        return 1 + ((s - 2) * 9999) / 262142
    }

    /// blkio.weight [10, 1000] → io.weight [1, 10000]; 0 means unset (ConvertBlkIOToIOWeightValue).
    package static func ioWeight(blkioWeight: UInt16) -> UInt64 {
        if blkioWeight == 0 { return 0 }
        let w = UInt64(max(blkioWeight, 10))
        return 1 + (w - 10) * 9999 / 990
    }

    /// v1's memory.memsw (memory + swap) → v2's memory.swap.max (swap alone), by runc's
    /// ConvertMemorySwapToCgroupV2Value: 0 means unset, -1 means max. `limit`/`swap` are 0 when not configured.
    package static func swapMax(swap: Int64, limit: Int64) throws(ConfigProblem) -> Int64 {
        let field = ".linux.resources.memory.swap"
        // As with v1: an unlimited memory with no swap setting makes swap unlimited too.
        if limit == -1 && swap == 0 { return -1 }
        if swap == -1 || swap == 0 { return swap }
        if limit == 0 || limit == -1 { throw ConfigProblem(field, "cannot limit swap without limiting memory (.linux.resources.memory.limit)") }
        if limit < 0 { throw ConfigProblem(".linux.resources.memory.limit", "invalid value \(limit)") }
        if swap < limit { throw ConfigProblem(field, "memory+swap limit \(swap) is below the memory limit \(limit)") }
        return swap - limit
    }
}
