import CShim
import Glibc
import OCISpec
import Sys

/// Capabilities, rlimits and oom_score_adj of the container's process.
/// Built and validated in the parent (before clone); applied in the container's init, which is single-threaded:
/// capset(2) changes only the calling thread.
public struct ProcessPrivileges: Sendable {
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
    public private(set) var warnings: [String] = []

    public init(process: OCISpec.Process) throws(PrivilegeError) {
        try self.init(process: process, lastCapability: Names.kernelLastCapability())
    }

    /// `lastCapability` stands in for /proc/sys/kernel/cap_last_cap (tests use it to play an older kernel).
    init(process: OCISpec.Process, lastCapability: Int32) throws(PrivilegeError) {
        self.lastCapability = min(lastCapability, Names.lastKnownCapability)
        if let caps = process.capabilities {
            bounding = try resolve(caps.bounding, "bounding")
            effective = try resolve(caps.effective, "effective")
            permitted = try resolve(caps.permitted, "permitted")
            inheritable = try resolve(caps.inheritable, "inheritable")
            let wanted = try resolve(caps.ambient, "ambient")
            // The kernel refuses an ambient capability missing from permitted or inheritable (EPERM);
            // runc warns and goes on, and so does crabcan.
            for cap in wanted {
                if permitted.contains(cap) && inheritable.contains(cap) {
                    ambient.append(cap)
                } else {
                    warnings.append("ambient capability \(Self.name(cap)) is not in both permitted and inheritable; not raised")
                }
            }
        }
        var seen: Set<String> = []
        for (index, limit) in process.rlimits.enumerated() {
            let path = ".process.rlimits[\(index)]"
            guard let resource = Names.rlimits[limit.type] else {
                throw PrivilegeError(path: path + ".type", message: "unknown rlimit \(quoted(limit.type))")
            }
            guard seen.insert(limit.type).inserted else {
                throw PrivilegeError(path: path + ".type", message: "duplicate rlimit \(quoted(limit.type))")
            }
            guard limit.soft <= limit.hard else {
                throw PrivilegeError(path: path, message: "soft limit \(limit.soft) is above hard limit \(limit.hard)")
            }
            limits.append(Limit(name: limit.type, resource: resource, soft: limit.soft, hard: limit.hard))
        }
        if let adj = process.oomScoreAdj {
            guard (-1000...1000).contains(adj) else {
                throw PrivilegeError(path: ".process.oomScoreAdj", message: "\(adj) is outside -1000...1000")
            }
            oomScoreAdj = adj
        }
    }

    private mutating func resolve(_ names: [String], _ set: String) throws(PrivilegeError) -> [Int32] {
        var result: [Int32] = []
        for (index, name) in names.enumerated() {
            guard let cap = Names.capabilities[name] else {
                throw PrivilegeError(path: ".process.capabilities.\(set)[\(index)]", message: "unknown capability \(quoted(name))")
            }
            if cap > lastCapability {
                warnings.append("capability \(name) in .process.capabilities.\(set) is not supported by the running kernel (last is \(lastCapability)); dropped")
                continue
            }
            if !result.contains(cap) { result.append(cap) }
        }
        return result
    }

    static func name(_ cap: Int32) -> String {
        Names.capabilities.first { $0.value == cap }?.key ?? "capability \(cap)"
    }

    /// In the init, while still root with full capabilities, before setgroups/setgid/setuid:
    /// rlimits (raising a hard limit needs CAP_SYS_RESOURCE), oom_score_adj (lowering it needs the same),
    /// PR_SET_KEEPCAPS 1 so setuid keeps the permitted set, and the bounding set (dropping needs CAP_SETPCAP).
    public func applyBeforeUserSwitch() throws(SysError) {
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
    public func applyAfterUserSwitch() throws(SysError) {
        if bounding != nil {
            try Bridge.setProcessCapabilities(effective: effective, permitted: permitted, inheritable: inheritable)
            try Bridge.resetAmbient()
            for cap in ambient { try Bridge.raiseAmbient(cap) }
        }
        try Processes.prctl(CS_PR_SET_KEEPCAPS, 0, name: "prctl PR_SET_KEEPCAPS")
    }
}
