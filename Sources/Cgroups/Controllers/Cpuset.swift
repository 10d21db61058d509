import OCISpec
import Sys

/// cpuset: the same two files in v1 and v2; a v1 cpuset must have both filled before it takes a task.
enum Cpuset {
    static func apply(_ c: Resources.CPU, _ d: String) throws {
        if let cpus = c.cpus, !cpus.isEmpty { try CgroupFiles.write(d, "cpuset.cpus", cpus) }
        if let mems = c.mems, !mems.isEmpty { try CgroupFiles.write(d, "cpuset.mems", mems) }
    }

    /// One directory's cpuset.cpus and cpuset.mems.
    private struct Values {
        var dir: String
        var cpus: String
        var mems: String
    }

    /// v1: walks up from `leaf` while cpuset.cpus / cpuset.mems are empty, then copies the first non-empty
    /// ancestor's values down level by level (a cpuset without them refuses tasks: ENOSPC; runc's ensureParent).
    /// A leaf this create has just made is not read: it is empty, or (cgroup.clone_children) holds its parent's
    /// values already, which writing them again leaves as they are.
    static func copyDown(to leaf: String, madeNow: Bool) throws {
        _ = try filled(leaf, known: madeNow ? Values(dir: leaf, cpus: "", mems: "") : nil)
    }

    /// `dir`'s two values once the empty ones are copied from its nearest ancestor that has them (written top
    /// down), or nil when no ancestor below the hierarchy root has them (nothing is written). Recursion, a level
    /// per directory, instead of a list of levels: no array type is made at run time for it.
    private static func filled(_ dir: String, known: Values? = nil) throws -> Values? {
        // A file that cannot be read counts as empty: above the hierarchy root the walk finds nothing.
        func value(_ file: String) -> String { trimmed((try? CgroupFiles.read(dir, file)) ?? "") }
        let own = known ?? Values(dir: dir, cpus: value("cpuset.cpus"), mems: value("cpuset.mems"))
        if !own.cpus.isEmpty && !own.mems.isEmpty { return own }
        guard let parent = parentDir(dir), let source = try filled(parent) else { return nil }
        if own.cpus.isEmpty { try CgroupFiles.write(dir, "cpuset.cpus", source.cpus) }
        if own.mems.isEmpty { try CgroupFiles.write(dir, "cpuset.mems", source.mems) }
        return Values(dir: dir, cpus: own.cpus.isEmpty ? source.cpus : own.cpus, mems: own.mems.isEmpty ? source.mems : own.mems)
    }
}
