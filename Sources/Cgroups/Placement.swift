import Glibc
import Sys

/// How the container's init gets into its cgroups, split between the two sides of create.
///
/// Writing a pid to `cgroup.procs` takes the kernel's global `cgroup_threadgroup_rwsem` for writing, and the
/// first such write after a quiet spell waits a whole RCU grace period (measured here: ≈15 ms, then 0.08 ms
/// for the next ones). A thread that moves *itself* through the v1 `tasks` file (`0` = the writer) skips that
/// lock (kernel `cgroup_procs_write_start`). The init is single-threaded, so on v1 it places itself; on v2,
/// where `cgroup.threads` cannot move a thread across domains, the parent writes `cgroup.procs`.
extension CgroupManager {
    /// In the parent, right after clone (v2; also v1 when the init cannot move itself: from inside a user
    /// namespace it may not write the host's cgroup files).
    package func placeFromParent(_ pid: pid_t, initPlacesItself: Bool = true) throws {
        if tree.parentPlaces(initPlacesItself: initPlacesItself) { try add(pid) }
    }

    /// cgroup v2: where a child is better born than moved to. Writing cgroup.procs takes that rwsem for writing
    /// (and after a quiet spell waits for an RCU grace period); clone3 with CLONE_INTO_CGROUP takes it only for
    /// reading, and the child runs nothing outside the container's cgroup, not even its first instruction.
    package var cloneTarget: String? { tree.cloneTarget }

    /// What the init writes itself after the parent's go-ahead (v1, unless the parent placed it).
    package func selfPlacement(initPlacesItself: Bool = true) -> SelfPlacement {
        initPlacesItself ? SelfPlacement(directories: tree.selfPlacedDirectories) : .none
    }
}

/// The one placement decision the init carries into its own side of step 0: the v1 directories whose `tasks`
/// it writes `0` into. Plain paths, decided in the parent, so the child runs no cgroup code but these writes
/// (and instantiates no cgroup types: a profile of `exec` showed that cost in every child).
package struct SelfPlacement: Sendable {
    package let directories: [String]
    package static let none = SelfPlacement(directories: [])

    package func perform() throws(SysError) {
        for directory in directories { try CgroupFiles.write(directory, "tasks", "0") }
    }
}
