import JSON
import OCISpec
import Sys

/// `process.scheduler`, `process.ioPriority`, `process.execCPUAffinity` and `linux.memoryPolicy`: checked with
/// their JSON paths before clone, applied by the process itself before it drops privileges, so its program
/// inherits them across execve (runc 1.4 applies the same four). A setting the kernel refuses fails create.
package struct ProcessScheduling: Sendable {
    struct Scheduler: Sendable {
        var policy: UInt32, flags: UInt64, nice: Int32, priority: UInt32, runtime: UInt64, deadline: UInt64, period: UInt64
    }
    var scheduler: Scheduler?
    var ioPriority: Int32?
    var memoryPolicy: (mode: Int32, nodes: [UInt64])?
    /// exec only (config.md: execCPUAffinity does not apply to the init): before and after joining the cgroup.
    var initialAffinity: [UInt64]?
    var finalAffinity: [UInt64]?
    /// Where each came from, for the error of a failed apply.
    var prefix: String

    /// SCHED_DEADLINE's number, which `setsDeadline` compares with for every plan: the table below is built (a
    /// dictionary type made at run time, six keys hashed) only for a config that names a policy.
    static let deadlinePolicy: UInt32 = 6
    static let policies: [String: UInt32] = ["SCHED_OTHER": 0, "SCHED_FIFO": 1, "SCHED_RR": 2, "SCHED_BATCH": 3,
                                             "SCHED_IDLE": 5, "SCHED_DEADLINE": deadlinePolicy]
    static let schedulerFlags: [String: UInt64] = [
        "SCHED_FLAG_RESET_ON_FORK": 0x01, "SCHED_FLAG_RECLAIM": 0x02, "SCHED_FLAG_DL_OVERRUN": 0x04,
        "SCHED_FLAG_KEEP_POLICY": 0x08, "SCHED_FLAG_KEEP_PARAMS": 0x10, "SCHED_FLAG_UTIL_CLAMP_MIN": 0x20,
        "SCHED_FLAG_UTIL_CLAMP_MAX": 0x40,
    ]
    static let ioClasses: [String: Int32] = ["IOPRIO_CLASS_RT": 1, "IOPRIO_CLASS_BE": 2, "IOPRIO_CLASS_IDLE": 3]
    static let memoryModes: [String: Int32] = ["MPOL_DEFAULT": 0, "MPOL_PREFERRED": 1, "MPOL_BIND": 2, "MPOL_INTERLEAVE": 3,
                                               "MPOL_LOCAL": 4, "MPOL_PREFERRED_MANY": 5, "MPOL_WEIGHTED_INTERLEAVE": 6]
    static let memoryFlags: [String: Int32] = ["MPOL_F_NUMA_BALANCING": 1 << 13, "MPOL_F_RELATIVE_NODES": 1 << 14,
                                               "MPOL_F_STATIC_NODES": 1 << 15]

    /// `prefix` is ".process" for config.json, "" for an exec's process.json. `isInit`: the init ignores
    /// execCPUAffinity (config.md), with a warning.
    package init(process: OCISpec.Process, linux: OCISpec.Linux?, prefix: String, isInit: Bool,
                problems: inout [ConfigProblem], warnings: inout [ConfigProblem]) {
        self.prefix = prefix
        if let s = process.scheduler {
            let path = prefix + ".scheduler"
            let policy = Self.policies[s.policy]
            if policy == nil { problems.append(ConfigProblem(path + ".policy", "\(s.policy) is not implemented by Linux")) }
            let nice = s.nice ?? 0
            if !(-20...19).contains(nice) { problems.append(ConfigProblem(path + ".nice", "must be in -20...19, got \(nice)")) }
            let priority = s.priority ?? 0
            let realtime = s.policy == "SCHED_FIFO" || s.policy == "SCHED_RR"
            if realtime && !(1...99).contains(priority) {
                problems.append(ConfigProblem(path + ".priority", "\(s.policy) needs a priority in 1...99, got \(priority)"))
            } else if !realtime && priority != 0 {
                problems.append(ConfigProblem(path + ".priority", "\(s.policy) takes priority 0, got \(priority)"))
            }
            let flags = s.flags.reduce(UInt64(0)) { $0 | (Self.schedulerFlags[$1] ?? 0) }
            if let policy {
                scheduler = Scheduler(policy: policy, flags: flags, nice: nice, priority: UInt32(max(priority, 0)),
                                      runtime: s.runtime ?? 0, deadline: s.deadline ?? 0, period: s.period ?? 0)
            }
        }
        if let io = process.ioPriority, let ioClass = Self.ioClasses[io.class] {
            ioPriority = ioClass << 13 | Int32(io.priority)
        }
        if let affinity = process.execCPUAffinity, affinity.initial != nil || affinity.final != nil {
            if isInit {
                warnings.append(ConfigProblem(prefix + ".execCPUAffinity", "does not apply to the container's init process (config.md); ignored"))
            } else {
                initialAffinity = Self.bitmap(affinity.initial, path: prefix + ".execCPUAffinity.initial", problems: &problems)
                finalAffinity = Self.bitmap(affinity.final, path: prefix + ".execCPUAffinity.final", problems: &problems)
            }
        }
        if let policy = linux?.memoryPolicy, let mode = Self.memoryModes[policy.mode] {
            let nodes = Self.bitmap(policy.nodes, path: ".linux.memoryPolicy.nodes", problems: &problems) ?? []
            let takesNodes = !["MPOL_DEFAULT", "MPOL_LOCAL"].contains(policy.mode)
            if takesNodes && nodes.isEmpty && policy.mode != "MPOL_PREFERRED" {
                problems.append(ConfigProblem(".linux.memoryPolicy.nodes", "\(policy.mode) needs nodes"))
            } else if !takesNodes && !nodes.isEmpty {
                problems.append(ConfigProblem(".linux.memoryPolicy.nodes", "\(policy.mode) takes no nodes"))
            }
            memoryPolicy = (mode | policy.flags.reduce(Int32(0)) { $0 | (Self.memoryFlags[$1] ?? 0) }, nodes)
        }
    }

    /// "0-3,7" as a bitmap (bit n of word n/64); nil for nil or "" (nothing to change).
    static func bitmap(_ list: String?, path: String, problems: inout [ConfigProblem]) -> [UInt64]? {
        guard let list, !list.isEmpty else { return nil }
        guard let words = CPUList.bitmap(list), !list.hasSuffix("\n") else {
            problems.append(ConfigProblem(path, "invalid list \(jsonQuote(list)): expected numbers and ranges such as \"0-3,7\""))
            return nil
        }
        return words
    }

    /// SCHED_DEADLINE: the kernel then refuses any affinity narrower than the root domain (EBUSY).
    package var setsDeadline: Bool { scheduler?.policy == Self.deadlinePolicy }

    /// An exec's execCPUAffinity, initial or final.
    package var setsAffinity: Bool { initialAffinity != nil || finalAffinity != nil }

    /// In the process itself, still privileged; `initial` affinity first (before the cgroup, exec only).
    package func applyInitialAffinity() throws {
        if let initialAffinity { try wrap(".execCPUAffinity.initial") { try Processes.setAffinity(initialAffinity) } }
    }

    /// In the process itself, in its cgroups, before it drops privileges.
    package func apply() throws {
        if let s = scheduler {
            try wrap(".scheduler") {
                try Processes.setScheduler(policy: s.policy, flags: s.flags, nice: s.nice, priority: s.priority,
                                           runtime: s.runtime, deadline: s.deadline, period: s.period)
            }
        }
        if let ioPriority { try wrap(".ioPriority") { try Processes.setIOPriority(ioPriority) } }
        if let memoryPolicy {
            do {
                try Processes.setMemoryPolicy(mode: memoryPolicy.mode, nodes: memoryPolicy.nodes)
            } catch {
                throw ConfigProblem(".linux.memoryPolicy", "\(error)")
            }
        }
        if let finalAffinity { try wrap(".execCPUAffinity.final") { try Processes.setAffinity(finalAffinity) } }
    }

    private func wrap(_ field: String, _ body: () throws -> Void) throws {
        do { try body() } catch { throw ConfigProblem(prefix + field, "\(error)") }
    }
}
