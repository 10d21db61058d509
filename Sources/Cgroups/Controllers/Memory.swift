import Glibc
import OCISpec
import Sys

/// memory: v1's memory.limit_in_bytes family, v2's memory.max family (swap converted from memory+swap).
enum Memory {
    static func problems(_ m: Resources.Memory) -> [ConfigProblem] {
        var problems: [ConfigProblem] = []
        if let s = m.swappiness, s != UInt64.max, s > 100 {
            problems.append(ConfigProblem(".linux.resources.memory.swappiness", "must be between 0 and 100, got \(s)"))
        }
        if let limit = m.limit, let swap = m.swap, limit > 0, swap > 0, swap < limit {
            problems.append(ConfigProblem(".linux.resources.memory.swap", "memory+swap limit \(swap) is below the memory limit \(limit)"))
        }
        return problems
    }

    /// `update` may not set a limit below what the cgroup uses now (checkBeforeUpdate).
    static func checkUsage(_ m: Resources.Memory, _ d: String, file: String) throws {
        if let limit = m.limit, m.checkBeforeUpdate == true, limit > 0,
           let usage = UInt64(trimmed(try CgroupFiles.read(d, file))), UInt64(limit) < usage {
            throw ConfigProblem(".linux.resources.memory.limit", "\(limit) is below the current usage \(usage) of \(d)")
        }
    }

    // MARK: v1

    static func applyV1(_ m: Resources.Memory, _ d: String) throws {
        // 0 means "leave as is" in every field (runc; dockerd's update sends 0 for each limit it does not change).
        let limit = m.limit.unlessZero, reservation = m.reservation.unlessZero
        try checkUsage(m, d, file: "memory.usage_in_bytes")
        var swap = m.swap.unlessZero
        // runc: unlimited memory with no swap setting means unlimited swap too (when swap accounting exists).
        if limit == -1 && swap == nil && Files.exists(d + "/memory.memsw.limit_in_bytes") { swap = -1 }
        if let limit, let swap {
            // The kernel keeps limit <= memsw at every step, so the order depends on the direction of the change.
            let current = UInt64(trimmed((try? CgroupFiles.read(d, "memory.limit_in_bytes")) ?? "")) ?? UInt64.max
            if swap == -1 || current < UInt64(bitPattern: swap) {
                try CgroupFiles.write(d, "memory.memsw.limit_in_bytes", String(swap))
                try CgroupFiles.write(d, "memory.limit_in_bytes", String(limit))
            } else {
                try CgroupFiles.write(d, "memory.limit_in_bytes", String(limit))
                try CgroupFiles.write(d, "memory.memsw.limit_in_bytes", String(swap))
            }
        } else {
            if let limit, limit > 0,
               let memsw = UInt64(trimmed((try? CgroupFiles.read(d, "memory.memsw.limit_in_bytes")) ?? "")),
               UInt64(limit) > memsw {
                // The kernel would answer EINVAL; say what is wrong instead (runc fails here the same way, less clearly).
                throw ConfigProblem(".linux.resources.memory.limit",
                                    "\(limit) is above the memory+swap limit \(memsw) of \(d): set memory.swap (--memory-swap) too")
            }
            if let limit { try CgroupFiles.write(d, "memory.limit_in_bytes", String(limit)) }
            if let swap { try CgroupFiles.write(d, "memory.memsw.limit_in_bytes", String(swap)) }
        }
        if let reservation { try CgroupFiles.write(d, "memory.soft_limit_in_bytes", String(reservation)) }
        // Kernel memory limits are deprecated (runtime-spec) and gone or no-ops on new kernels (5.16 made writes
        // fail with EOPNOTSUPP, 6.x removed the files): skip them rather than fail the container.
        for (value, file) in [(m.kernel.unlessZero, "memory.kmem.limit_in_bytes"), (m.kernelTCP.unlessZero, "memory.kmem.tcp.limit_in_bytes")] {
            guard let value, Files.exists(d + "/" + file) else { continue }
            try ignoring([EOPNOTSUPP]) { () throws(SysError) in try CgroupFiles.write(d, file, String(value)) }
        }
        // UInt64.max is how a decoded -1 ("unset", runc) arrives.
        if let s = m.swappiness, s != UInt64.max { try CgroupFiles.write(d, "memory.swappiness", String(s)) }
        if m.disableOOMKiller == true { try CgroupFiles.write(d, "memory.oom_control", "1") }
        if let h = m.useHierarchy { try CgroupFiles.write(d, "memory.use_hierarchy", h ? "1" : "0") }
    }

    static func statsV1(_ d: String) throws -> CgroupStats.Memory {
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
        return m
    }

    // MARK: v2

    /// runc's numToStr: 0 = leave alone, -1 = "max".
    static func v2Number(_ n: Int64) -> String? { n == 0 ? nil : n == -1 ? "max" : String(n) }

    /// The swap setting converted to memory.swap.max, or why it cannot be.
    static func problemsV2(_ m: Resources.Memory, _ d: String) -> [ConfigProblem] {
        do {
            _ = try CgroupConversions.swapMax(swap: m.swap ?? 0, limit: limitForSwap(m, d))
            return []
        } catch {
            return [error]
        }
    }

    static func applyV2(_ m: Resources.Memory, _ d: String) throws {
        try checkUsage(m, d, file: "memory.current")
        let swap = try CgroupConversions.swapMax(swap: m.swap ?? 0, limit: limitForSwap(m, d))
        var swapText = v2Number(swap)
        // swap == limit converts to 0, which means "no swap": write 0 explicitly (numToStr would skip it).
        if swapText == nil && swap == 0 && (m.swap ?? 0) > 0 { swapText = "0" }
        if let swapText {
            // Swap is set before the memory limit (runc fs2); with swap accounting off the file is missing,
            // and asking for "max" or "0" is then already true.
            let harmless: [Int32] = swapText == "max" || swapText == "0" ? [ENOENT] : []
            try ignoring(harmless) { () throws(SysError) in try CgroupFiles.write(d, "memory.swap.max", swapText) }
        }
        if let limit = m.limit, let text = v2Number(limit) { try CgroupFiles.write(d, "memory.max", text) }
        if let reservation = m.reservation, let text = v2Number(reservation) { try CgroupFiles.write(d, "memory.low", text) }
        // kernel, kernelTCP, swappiness, disableOOMKiller and useHierarchy have no cgroup v2 file; runc ignores
        // them there too (use `unified` for memory.oom.group and friends).
    }

    /// memory.swap.max is swap alone, converted from v1's memory+swap with the memory limit. Swap given without a
    /// limit (`update --memory-swap`) is converted with the limit in force, as runc's update takes it from the
    /// config it keeps; before create (`check`) or with no limit ("max") that is still an error.
    static func limitForSwap(_ m: Resources.Memory, _ d: String) -> Int64 {
        if let limit = m.limit { return limit }
        guard (m.swap ?? 0) > 0, let text = try? CgroupFiles.read(d, "memory.max") else { return 0 }
        let current = trimmed(text)
        return current == "max" ? -1 : Int64(current) ?? 0
    }

    static func statsV2(_ d: String) throws -> CgroupStats.Memory {
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
        return m
    }

    /// `oom_kill N` in v1's memory.oom_control or v2's memory.events.
    static func oomKills(_ d: String, file: String) -> UInt64? {
        guard let text = try? CgroupFiles.read(d, file) else { return nil }
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ")
            if fields.count == 2, fields[0] == "oom_kill" { return UInt64(fields[1]) }
        }
        return nil
    }
}
