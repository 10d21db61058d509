import OCISpec
import Sys

/// cpuset: the same two files in v1 and v2; a v1 cpuset must have both filled before it takes a task.
enum Cpuset {
    static func apply(_ c: Resources.CPU, _ d: String) throws {
        if let cpus = c.cpus, !cpus.isEmpty { try CgroupFiles.write(d, "cpuset.cpus", cpus) }
        if let mems = c.mems, !mems.isEmpty { try CgroupFiles.write(d, "cpuset.mems", mems) }
    }

    /// v1: walks up from `leaf` while cpuset.cpus / cpuset.mems are empty, then copies the first non-empty
    /// ancestor's values down level by level (a cpuset without them refuses tasks: ENOSPC; runc's ensureParent).
    static func copyDown(to leaf: String) throws {
        var chain: [String] = []
        var current = leaf
        // A file that cannot be read counts as empty: above the hierarchy root the walk finds nothing and copies nothing.
        func value(_ dir: String, _ file: String) -> String { trimmed((try? CgroupFiles.read(dir, file)) ?? "") }
        while value(current, "cpuset.cpus").isEmpty || value(current, "cpuset.mems").isEmpty {
            chain.append(current)
            guard let parent = parentDir(current) else { return }
            current = parent
        }
        var source = current
        for target in chain.reversed() {
            for file in ["cpuset.cpus", "cpuset.mems"] where value(target, file).isEmpty {
                try CgroupFiles.write(target, file, value(source, file))
            }
            source = target
        }
    }
}
