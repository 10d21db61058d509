import Glibc
import OCISpec
import Sys

/// Creates, configures, inspects and removes one container's cgroup(s) through cgroupfs: what both versions
/// share is here, what differs is in CgroupV1 / CgroupV2 and the controllers' files (Controllers/).
package struct CgroupManager: Sendable {
    package let cgroups: CgroupSet
    let tree: any CgroupTree

    package init(_ set: CgroupSet) {
        cgroups = set
        switch set.layout {
        case .v1(let hierarchies): tree = CgroupV1(hierarchies: hierarchies)
        case .v2(let directory): tree = CgroupV2(dir: directory ?? "")
        }
    }

    /// The directory holding `controller`'s files (v1: its hierarchy's; v2: the one directory).
    func dir(_ controller: String) -> String? { tree.directory(for: controller) }

    // MARK: create

    /// Makes the directories (v1: mkdir -p each, cpuset values copied down; v2: controllers enabled on the way).
    /// True when it made all of them just now (for `apply`'s `madeNow`).
    @discardableResult
    package func create() throws -> Bool {
        // An ordinary user without a delegated cgroup has an empty set (Delegation.swift): nothing to make.
        guard !tree.directories.isEmpty else { return false }
        return try tree.create()
    }

    /// Writes every configured field of `linux.resources`. Everything that can be checked without the kernel is
    /// checked first (ConfigProblem with the JSON path), so a bad config writes nothing.
    package func apply(_ resources: Resources?, madeNow: Bool = false) throws {
        guard let r = resources, !tree.directories.isEmpty else { return }
        try validate(r)
        try tree.apply(r, madeNow: madeNow)
    }

    func validate(_ r: Resources) throws {
        if let first = problems(r).first { throw first }
    }

    /// Every problem of `linux.resources` on this host (for `check`, which lists them all).
    package func problems(_ r: Resources) -> [ConfigProblem] { Validation.problems(r, tree) }

    /// Which controllers `r` uses, and the field that uses each.
    func controllersUsed(by r: Resources) -> [(name: String, path: String)] { tree.controllers(usedBy: r) }

    // MARK: processes

    /// Moves `pid` into every directory (v1: each hierarchy's cgroup.procs).
    package func add(_ pid: pid_t) throws {
        for dir in tree.directories { try CgroupFiles.write(dir, "cgroup.procs", String(pid)) }
    }

    /// Every pid in the container's cgroup and its descendants.
    package func pids() throws -> [pid_t] {
        guard let root = tree.pidsRoot else { return [] }
        var result: [pid_t] = []
        try collectPids(root, into: &result)
        return result
    }

    func collectPids(_ dir: String, into result: inout [pid_t]) throws {
        let text = try CgroupFiles.read(dir, "cgroup.procs")
        result += text.pieces(separatedBy: UInt8(ascii: "\n")).compactMap { pid_t(trimmed($0)) }
        for name in try Files.listSubdirectories(dir) {
            try collectPids(dir + "/" + name, into: &result)
        }
    }

    /// rmdir of the directory `pids()` reads. It succeeds only when no task and no child cgroup is left, so
    /// success answers "is anything left to kill?" in one call, where `pids()` reads cgroup.procs and lists the
    /// tree. False when something is still there (or the directory cannot go for another reason).
    package func removeIfEmpty() -> Bool {
        guard let root = tree.pidsRoot else { return true }
        let removed = Result { () throws(SysError) in try Files.rmdir(root) }
        if case .failure(let error) = removed { return error.errno == ENOENT }
        return true
    }

    // MARK: freeze

    /// Freezes every task and waits until the kernel reports it done (FROZEN / "frozen 1"): a caller that goes
    /// on to signal or checkpoint must not race a task that is still running.
    package func freeze() throws { try tree.freeze() }
    package func thaw() throws { try tree.thaw() }
    package func isFrozen() -> Bool { tree.isFrozen() }

    // MARK: signal

    /// Sends `signal` to every task. v2 SIGKILL uses cgroup.kill (atomic, kernel 5.14+). Otherwise the cgroup is
    /// frozen first so no task can fork a child we would miss, then each pid is signalled, then thawed (runc's
    /// signalAllProcesses). A task that exits meanwhile (ESRCH) is fine.
    package func signalAll(_ signal: Int32) throws {
        if signal == SIGKILL, try tree.killAtOnce() { return }
        // An empty cgroup (the usual case when a stopped container is deleted) needs no freeze/thaw round trip.
        if try pids().isEmpty { return }
        let freezing = tree.canFreeze && !isFrozen()
        if freezing { try freeze() }
        var firstError: SysError?
        for pid in try pids() {
            let result = Result { () throws(SysError) in try Processes.kill(pid, signal) }
            if case .failure(let error) = result, error.errno != ESRCH, firstError == nil { firstError = error }
        }
        // A frozen (paused) task only dies once thawed: SIGKILL thaws a paused container too (runc).
        if freezing || (signal == SIGKILL && tree.canFreeze) { try thaw() }
        if let firstError { throw firstError }
    }

    /// After SIGKILL reached a paused container: a task frozen by the v1 freezer dies only once thawed, so the
    /// cgroup is thawed (runc's Signal does this for SIGKILL only; other signals leave it paused). Decided by the
    /// freeze asked for, not by what the kernel reports: on v2 the dying task reads "frozen 0" for a moment, and a
    /// thaw skipped then left the emptied cgroup frozen.
    package func thawAfterKill() throws {
        if tree.isFreezeAsked() { try thaw() }
    }

    // MARK: statistics

    /// Reads the counters of every controller present; a controller that is not there is left nil/empty.
    package func stats() throws -> CgroupStats { try tree.stats() }

    /// How many processes the kernel's OOM killer has killed in the container's memory cgroup
    /// (v1 memory.oom_control, v2 memory.events: `oom_kill N`); nil without a memory cgroup.
    package func oomKillCount() -> UInt64? { tree.oomKillCount() }

    // MARK: destroy

    /// rmdir every directory, children first (a container may have made sub-cgroups). A missing directory is fine;
    /// EBUSY is retried a few times because the kernel frees a cgroup shortly after its last task exits.
    package func destroy() throws {
        for d in tree.directories { try removeTree(d) }
    }

    /// `destroy` once `removeIfEmpty` has succeeded: its directory is gone, and an rmdir of it again would only
    /// walk the path to ENOENT.
    package func destroyAfterRemovingPidsRoot() throws {
        let removed = tree.pidsRoot
        for d in tree.directories where d != removed { try removeTree(d) }
    }

    func removeTree(_ dir: String) throws {
        // The usual case is an empty cgroup: one rmdir. Walking it first (a stat per control file, a dozen
        // hierarchies on v1) was 15% of `run`'s CPU in profiles; only a refusal makes the walk worth it.
        switch Result(catching: { () throws(SysError) in try Files.rmdir(dir) }) {
        case .success: return
        case .failure(let error) where error.errno == ENOENT: return
        default: break
        }
        guard Files.isDirectory(dir) else { return }
        for name in try Files.listSubdirectories(dir) {
            try removeTree(dir + "/" + name)
        }
        // In a fake hierarchy (unit tests) the control files are plain files: remove them so rmdir can succeed.
        if CgroupFiles.isFake(dir) {
            for name in try Files.listDirectory(dir) where !Files.isDirectory(dir + "/" + name) {
                try Files.unlink(dir + "/" + name)
            }
        }
        var delay = 10
        for attempt in 0..<6 {
            let result = Result { () throws(SysError) in try Files.rmdir(dir) }
            guard case .failure(let error) = result else { return }
            if error.errno == ENOENT { return }
            if error.errno != EBUSY || attempt == 5 { throw error }
            CgroupFiles.sleep(milliseconds: delay)
            delay *= 2
        }
    }
}
