import OCISpec
import Sys

/// Cgroups for an unprivileged caller (rootless containers): only what was delegated to it.
extension CgroupSet {
    /// The hierarchies an unprivileged caller can use: those whose directory it owns already or may create in
    /// the nearest existing ancestor (a cgroup delegated to it), never `devices` (writing its rules needs
    /// CAP_SYS_ADMIN in the host's user namespace). Root keeps the whole set.
    package func usable(byUID uid: UInt32) -> CgroupSet {
        guard uid != 0 else { return self }
        switch layout {
        case .v1(let hierarchies):
            return CgroupSet(.v1(hierarchies.filter { !$0.holds("devices") && CgroupSet.delegated($0.directory) }))
        case .v2(let directory):
            return CgroupSet(.v2(directory.flatMap { CgroupSet.delegated($0) ? $0 : nil }))
        }
    }

    static func delegated(_ path: String) -> Bool {
        var current = path
        while !Files.exists(current) {
            guard let parent = parentDir(current) else { return false }
            current = parent
        }
        return Files.canCreateEntries(in: current)
    }
}

extension CgroupManager {
    /// `resources` without the fields whose controller this set lacks, and the JSON paths of those fields:
    /// what an unprivileged caller without a delegated cgroup for them must skip.
    package func keepingUsable(_ resources: Resources?) -> (kept: Resources?, skipped: [String]) {
        guard var r = resources else { return (nil, []) }
        var skipped: [String] = []
        for (controller, field) in controllersUsed(by: r) where dir(controller) == nil {
            if !skipped.contains(field) { skipped.append(field) }
            let top = field.split(separator: ".").dropFirst(2).first.map(String.init) ?? ""
            switch top {
            case "memory": r.memory = nil
            case "cpu": r.cpu = nil
            case "pids": r.pids = nil
            case "blockIO": r.blockIO = nil
            case "hugepageLimits": r.hugepageLimits = []
            case "network": r.network = nil
            case "rdma": r.rdma = [:]
            case "devices": r.devices = []
            default: break
            }
        }
        if cgroups.directories.isEmpty && !r.unified.isEmpty {
            skipped.append(".linux.resources.unified")
            r.unified = [:]
        }
        return (r, skipped)
    }
}
