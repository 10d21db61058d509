import Glibc
import OCISpec
import Sys

/// Creates, configures, inspects and removes one container's cgroup(s) through cgroupfs.
public struct CgroupManager: Sendable {
    public let cgroups: CgroupSet

    public init(_ set: CgroupSet) { self.cgroups = set }

    /// The v1 directory of the hierarchy holding `controller`; v2: the one directory.
    func dir(_ controller: String) -> String? {
        if cgroups.version == .v2 { return cgroups.paths[""] }
        for (name, path) in cgroups.paths where name.split(separator: ",").contains(Substring(controller)) { return path }
        return nil
    }

    var v2Dir: String { cgroups.paths[""] ?? "" }

    /// Every directory, in a stable order (sorted by hierarchy name).
    var allDirs: [String] { cgroups.paths.keys.sorted().map { cgroups.paths[$0]! } }

    // MARK: create

    /// mkdir -p each path. v1 cpuset: copies cpus/mems down into empty ancestors (a cpuset without them
    /// refuses tasks: ENOSPC). v2: enables the parent's controllers in each ancestor's cgroup.subtree_control,
    /// so the leaf gets memory.max, cpu.max... (runc's fs2 CreateCgroupPath).
    public func create() throws {
        // An ordinary user without a delegated cgroup has an empty set (Delegation.swift): nothing to make.
        guard !cgroups.paths.isEmpty else { return }
        switch cgroups.version {
        case .v1:
            for (name, path) in cgroups.paths.sorted(by: { $0.key < $1.key }) {
                try Files.makeDirectories(path)
                if name.split(separator: ",").contains("cpuset") { try copyCpusetDown(to: path) }
            }
        case .v2:
            try createV2(v2Dir)
        }
    }

    /// Walks up from `leaf` while cpuset.cpus / cpuset.mems are empty, then copies the first non-empty
    /// ancestor's values down level by level (runc's cpuset ensureParent).
    func copyCpusetDown(to leaf: String) throws {
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

    func createV2(_ leaf: String) throws {
        // Directories from the top of the cgroup2 mount (the highest one holding cgroup.controllers) down to the leaf.
        var chain: [String] = [leaf]
        var current = leaf
        while let parent = parentDir(current) {
            if Files.isDirectory(parent) && !Files.exists(parent + "/cgroup.controllers") { break }
            chain.append(parent)
            current = parent
        }
        for dir in chain.reversed() {
            if !Files.isDirectory(dir) { try Files.mkdir(dir) }
            if dir == leaf { break }
            try enableControllers(in: dir)
        }
    }

    /// Writes "+c" for every available controller to `dir`/cgroup.subtree_control: all at once, then one by one
    /// if the kernel refuses the set (a controller may be unavailable for a threaded subtree), ignoring single failures.
    func enableControllers(in dir: String) throws {
        guard Files.exists(dir + "/cgroup.controllers") else { return }
        let available = try CgroupFiles.read(dir, "cgroup.controllers").split(whereSeparator: { $0 == " " || $0 == "\n" })
        if available.isEmpty { return }
        let enabled = Set((try? CgroupFiles.read(dir, "cgroup.subtree_control"))?.split(whereSeparator: { $0 == " " || $0 == "\n" }) ?? [])
        let missing = available.filter { !enabled.contains($0) }
        if missing.isEmpty { return }
        do {
            try CgroupFiles.write(dir, "cgroup.subtree_control", missing.map { "+" + $0 }.joined(separator: " "))
        } catch {
            for c in missing { try? CgroupFiles.write(dir, "cgroup.subtree_control", "+" + c) }
        }
    }

    // MARK: processes

    /// Moves `pid` into every path (v1: each hierarchy's cgroup.procs).
    public func add(_ pid: pid_t) throws {
        for dir in allDirs { try CgroupFiles.write(dir, "cgroup.procs", String(pid)) }
    }

    /// Every pid in the container's cgroup and its descendants. v1 reads the pids hierarchy (then freezer,
    /// then any), the one that holds exactly the container's tasks.
    public func pids() throws -> [pid_t] {
        let root: String?
        switch cgroups.version {
        case .v1: root = dir("pids") ?? dir("freezer") ?? allDirs.first
        case .v2: root = cgroups.paths[""]
        }
        guard let root else { return [] }
        var result: [pid_t] = []
        try collectPids(root, into: &result)
        return result
    }

    func collectPids(_ dir: String, into result: inout [pid_t]) throws {
        let text = try CgroupFiles.read(dir, "cgroup.procs")
        result += text.split(separator: "\n").compactMap { pid_t(trimmed(String($0))) }
        for name in try Files.listDirectory(dir) where Files.isDirectory(dir + "/" + name) {
            try collectPids(dir + "/" + name, into: &result)
        }
    }

    // MARK: freeze

    /// Freezes every task and waits until the kernel reports it done (FROZEN / "frozen 1"): a caller that goes
    /// on to signal or checkpoint must not race a task that is still running.
    public func freeze() throws {
        switch cgroups.version {
        case .v1:
            let d = try freezerDir()
            // runc re-writes FROZEN while polling: a task forking during the freeze can leave the cgroup in
            // FREEZING until asked again.
            for attempt in 0..<2000 {
                if attempt % 50 == 0 { try CgroupFiles.write(d, "freezer.state", "FROZEN") }
                if trimmed(try CgroupFiles.read(d, "freezer.state")) == "FROZEN" { return }
                CgroupFiles.sleep(milliseconds: attempt < 10 ? 0 : 1)
            }
            try? CgroupFiles.write(d, "freezer.state", "THAWED")
            throw SysError("freeze: still FREEZING after 2s in", path: d, errno: EBUSY)
        case .v2:
            let d = v2Dir
            try CgroupFiles.write(d, "cgroup.freeze", "1")
            for attempt in 0..<2000 {
                if isFrozen() { return }
                CgroupFiles.sleep(milliseconds: attempt < 10 ? 0 : 1)
            }
            try? CgroupFiles.write(d, "cgroup.freeze", "0")
            throw SysError("freeze: cgroup.events not frozen after 2s in", path: d, errno: EBUSY)
        }
    }

    public func thaw() throws {
        switch cgroups.version {
        case .v1: try CgroupFiles.write(try freezerDir(), "freezer.state", "THAWED")
        case .v2: try CgroupFiles.write(v2Dir, "cgroup.freeze", "0")
        }
    }

    public func isFrozen() -> Bool {
        switch cgroups.version {
        case .v1:
            guard let d = dir("freezer"), let state = try? CgroupFiles.read(d, "freezer.state") else { return false }
            return trimmed(state) == "FROZEN"
        case .v2:
            guard let events = try? CgroupFiles.read(v2Dir, "cgroup.events") else { return false }
            return events.split(separator: "\n").contains("frozen 1")
        }
    }

    func freezerDir() throws(SysError) -> String {
        guard let d = dir("freezer") else { throw SysError("freeze: no freezer hierarchy is mounted for", path: allDirs.first, errno: EOPNOTSUPP) }
        return d
    }

    var canFreeze: Bool {
        cgroups.version == .v2 ? Files.exists(v2Dir + "/cgroup.freeze") : dir("freezer") != nil
    }

    // MARK: signal

    /// Sends `signal` to every task. v2 SIGKILL uses cgroup.kill (atomic, kernel 5.14+). Otherwise the cgroup is
    /// frozen first so no task can fork a child we would miss, then each pid is signalled, then thawed (runc's
    /// signalAllProcesses). A task that exits meanwhile (ESRCH) is fine.
    public func signalAll(_ signal: Int32) throws {
        if cgroups.version == .v2 && signal == SIGKILL && Files.exists(v2Dir + "/cgroup.kill") {
            try CgroupFiles.write(v2Dir, "cgroup.kill", "1")
            return
        }
        // An empty cgroup (the usual case when a stopped container is deleted) needs no freeze/thaw round trip.
        if try pids().isEmpty { return }
        let freezing = canFreeze && !isFrozen()
        if freezing { try freeze() }
        var firstError: SysError?
        for pid in try pids() {
            let result = Result { () throws(SysError) in try Processes.kill(pid, signal) }
            if case .failure(let error) = result, error.errno != ESRCH, firstError == nil { firstError = error }
        }
        // A frozen (paused) task only dies once thawed: SIGKILL thaws a paused container too (runc).
        if freezing || (signal == SIGKILL && canFreeze) { try thaw() }
        if let firstError { throw firstError }
    }

    /// After SIGKILL reached a paused container: a task frozen by the v1 freezer dies only once thawed, so the
    /// cgroup is thawed (runc's Signal does this for SIGKILL only; other signals leave it paused).
    public func thawAfterKill() throws {
        if isFrozen() { try thaw() }
    }

    // MARK: destroy

    /// rmdir every path, children first (a container may have made sub-cgroups). A missing directory is fine;
    /// EBUSY is retried a few times because the kernel frees a cgroup shortly after its last task exits.
    public func destroy() throws {
        for d in allDirs { try removeTree(d) }
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
        for name in try Files.listDirectory(dir) where Files.isDirectory(dir + "/" + name) {
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

func trimmed(_ text: String) -> String {
    var s = Substring(text)
    while let c = s.last, c == "\n" || c == " " || c == "\t" { s.removeLast() }
    while let c = s.first, c == "\n" || c == " " || c == "\t" { s.removeFirst() }
    return String(s)
}

func parentDir(_ path: String) -> String? {
    guard let slash = path.lastIndex(of: "/"), slash != path.startIndex else { return nil }
    return String(path[..<slash])
}
