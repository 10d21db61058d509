import CShim
import Glibc
import JSON
import OCISpec
import Sys

/// Capabilities, rlimits and oom_score_adj of the container's process.
/// Built and validated in the parent (before clone); applied in the container's init, which is single-threaded:
/// capset(2) changes only the calling thread.
package struct ProcessPrivileges: Sendable {
    struct Limit: Sendable, Equatable {
        var name: String
        var resource: Int32
        var soft: UInt64
        var hard: UInt64
    }

    /// Kernel numbers per set, in configuration order, without duplicates. nil: no `capabilities` object,
    /// so the sets are left as they are (the spec leaves this to the runtime; runc does the same).
    var bounding: [Int32]?
    var effective: [Int32] = []
    var permitted: [Int32] = []
    var inheritable: [Int32] = []
    var ambient: [Int32] = []
    var limits: [Limit] = []
    var oomScoreAdj: Int?
    /// The running kernel's last capability, read once in the parent.
    var lastCapability: Int32
    /// What crabcan skips rather than refuses (a capability this kernel lacks, an ambient one it cannot raise).
    package private(set) var warnings: [ConfigProblem] = []

    package init(process: OCISpec.Process) throws(PrivilegeError) {
        try self.init(process: process, lastCapability: Names.kernelLastCapability())
    }

    /// `lastCapability` stands in for /proc/sys/kernel/cap_last_cap (tests use it to play an older kernel).
    init(process: OCISpec.Process, lastCapability: Int32) throws(PrivilegeError) {
        var problems: [PrivilegeError] = []
        self.init(process: process, lastCapability: lastCapability, problems: &problems)
        if let first = problems.first { throw first }
    }

    /// Records every problem (for `check`) instead of stopping at the first; not to be applied when there are any.
    package init(process: OCISpec.Process, problems: inout [PrivilegeError]) {
        self.init(process: process, lastCapability: Names.kernelLastCapability(), problems: &problems)
    }

    init(process: OCISpec.Process, lastCapability: Int32, problems: inout [PrivilegeError]) {
        self.lastCapability = min(lastCapability, Names.lastKnownCapability)
        if let caps = process.capabilities {
            bounding = resolve(caps.bounding, "bounding", &problems)
            effective = resolve(caps.effective, "effective", &problems)
            permitted = resolve(caps.permitted, "permitted", &problems)
            inheritable = resolve(caps.inheritable, "inheritable", &problems)
            let wanted = resolve(caps.ambient, "ambient", &problems)
            // The kernel refuses an ambient capability missing from permitted or inheritable (EPERM); runc
            // skips it silently (every `runc spec` config has three), crabcan too, noting it for `check` only.
            var handled: Set<Int32> = []
            for (index, name) in caps.ambient.enumerated() {
                guard let cap = Names.capabilities[name], wanted.contains(cap), handled.insert(cap).inserted else { continue }
                if permitted.contains(cap) && inheritable.contains(cap) {
                    ambient.append(cap)
                } else {
                    var note = PrivilegeError(".process.capabilities.ambient[\(index)]",
                                              "ambient capability \(name) is not in both permitted and inheritable; not raised")
                    note.checkOnly = true
                    warnings.append(note)
                }
            }
        }
        var seen: Set<String> = []
        for (index, limit) in process.rlimits.enumerated() {
            let path = ".process.rlimits[\(index)]"
            guard let resource = Names.rlimits[limit.type] else {
                problems.append(PrivilegeError(path: path + ".type", message: "unknown rlimit \(jsonQuote(limit.type))"))
                continue
            }
            guard seen.insert(limit.type).inserted else {
                problems.append(PrivilegeError(path: path + ".type", message: "duplicate rlimit \(jsonQuote(limit.type))"))
                continue
            }
            // setrlimit(2) refuses it (EINVAL), but only in the container's init, after the mounts.
            guard limit.soft <= limit.hard else {
                problems.append(PrivilegeError(path: path, message: "soft limit \(limit.soft) is above hard limit \(limit.hard)"))
                continue
            }
            limits.append(Limit(name: limit.type, resource: resource, soft: limit.soft, hard: limit.hard))
        }
        if let adj = process.oomScoreAdj {
            if (-1000...1000).contains(adj) {
                oomScoreAdj = adj
            } else {
                problems.append(PrivilegeError(path: ".process.oomScoreAdj", message: "\(adj) is outside -1000...1000"))
            }
        }
    }

    private mutating func resolve(_ names: [String], _ set: String, _ problems: inout [PrivilegeError]) -> [Int32] {
        var result: [Int32] = []
        for (index, name) in names.enumerated() {
            guard let cap = Names.capabilities[name] else {
                problems.append(PrivilegeError(path: ".process.capabilities.\(set)[\(index)]", message: "unknown capability \(jsonQuote(name))"))
                continue
            }
            if cap > lastCapability {
                warnings.append(PrivilegeError(".process.capabilities.\(set)[\(index)]",
                                               "capability \(name) is not supported by the running kernel (last is \(lastCapability)); dropped"))
                continue
            }
            if !result.contains(cap) { result.append(cap) }
        }
        return result
    }

    /// Every capability name crabcan knows (linux/capability.h), in kernel order: for `crabcan spec --cap-add`.
    package static var knownCapabilities: [String] {
        Names.capabilities.sorted { $0.value < $1.value }.map(\.key)
    }

    static func name(_ cap: Int32) -> String {
        Names.capabilities.first { $0.value == cap }?.key ?? "capability \(cap)"
    }

    /// In the init, while still root with full capabilities, before setgroups/setgid/setuid:
    /// rlimits (raising a hard limit needs CAP_SYS_RESOURCE), oom_score_adj (lowering it needs the same),
    /// PR_SET_KEEPCAPS 1 so setuid keeps the permitted set, and the bounding set (dropping needs CAP_SETPCAP).
    package func applyBeforeUserSwitch() throws(SysError) {
        for limit in limits {
            try Processes.setResourceLimit(limit.resource, soft: limit.soft, hard: limit.hard, name: limit.name)
        }
        if let oomScoreAdj {
            try Files.open("/proc/self/oom_score_adj", O_WRONLY).write(String(oomScoreAdj))
        }
        try Processes.prctl(CS_PR_SET_KEEPCAPS, 1, name: "prctl PR_SET_KEEPCAPS")
        if let bounding {
            for cap in 0...lastCapability where !bounding.contains(cap) {
                try Bridge.dropBound(cap)
            }
        }
    }

    /// After setuid: capset effective/permitted/inheritable exactly as configured, raise ambient (so a
    /// non-root process keeps them across execve), then PR_SET_KEEPCAPS 0.
    package func applyAfterUserSwitch() throws(SysError) {
        if bounding != nil {
            try Bridge.setProcessCapabilities(effective: effective, permitted: permitted, inheritable: inheritable)
            try Bridge.resetAmbient()
            for cap in ambient { try Bridge.raiseAmbient(cap) }
        }
        try Processes.prctl(CS_PR_SET_KEEPCAPS, 0, name: "prctl PR_SET_KEEPCAPS")
    }

    /// applyAfterUserSwitch for a process that must still load a seccomp filter without no_new_privs, which
    /// takes CAP_SYS_ADMIN: effective stays the whole permitted set the id switch kept (PR_SET_KEEPCAPS);
    /// inheritable, ambient and PR_SET_KEEPCAPS 0 are done now. Returns the final sets, for one capset(2)
    /// right after the filter (the kernel keeps ambient, a subset of the final permitted and inheritable).
    package func applyKeepingPrivilegeForSeccomp() throws(SysError) -> PreparedCapabilities {
        let final: PreparedCapabilities
        if bounding != nil {
            final = try Bridge.prepareCapabilities(effective: effective, permitted: permitted, inheritable: inheritable)
        } else {
            final = try Bridge.currentCapabilities()  // no `capabilities` object: the sets as the id switch left them
        }
        try Bridge.raiseEffectiveToPermitted(inheritable: bounding != nil ? inheritable : nil)
        if bounding != nil {
            try Bridge.resetAmbient()
            for cap in ambient { try Bridge.raiseAmbient(cap) }
        }
        try Processes.prctl(CS_PR_SET_KEEPCAPS, 0, name: "prctl PR_SET_KEEPCAPS")
        return final
    }
}
