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
        // Each directory's two values, read once. A file that cannot be read counts as empty: above the
        // hierarchy root the walk finds nothing and copies nothing.
        func values(_ dir: String) -> Values {
            func value(_ file: String) -> String { trimmed((try? CgroupFiles.read(dir, file)) ?? "") }
            return Values(dir: dir, cpus: value("cpuset.cpus"), mems: value("cpuset.mems"))
        }
        var chain: [Values] = []
        var source = madeNow ? Values(dir: leaf, cpus: "", mems: "") : values(leaf)
        while source.cpus.isEmpty || source.mems.isEmpty {
            chain.append(source)
            guard let parent = parentDir(source.dir) else { return }
            source = values(parent)
        }
        for target in chain.reversed() {
            if target.cpus.isEmpty { try CgroupFiles.write(target.dir, "cpuset.cpus", source.cpus) }
            if target.mems.isEmpty { try CgroupFiles.write(target.dir, "cpuset.mems", source.mems) }
            source = Values(dir: target.dir, cpus: target.cpus.isEmpty ? source.cpus : target.cpus,
                            mems: target.mems.isEmpty ? source.mems : target.mems)
        }
    }
}
