import Glibc
import OCISpec
import Sys

/// cgroup v1: a directory per mounted hierarchy; each controller's files are in its hierarchy's directory, and a
/// controller that is not mounted has none.
struct CgroupV1: CgroupTree {
    let hierarchies: [CgroupLayout.Hierarchy]

    var directories: [String] { hierarchies.map(\.directory) }

    func directory(for controller: String) -> String? {
        hierarchies.first { $0.holds(controller) }?.directory
    }

    /// mkdir -p each directory; a cpuset gets cpus/mems copied down into its empty ancestors.
    func create() throws -> Bool {
        var madeAll = true
        for h in hierarchies {
            let made = try Files.makeDirectories(h.directory)
            if h.holds("cpuset") { try Cpuset.copyDown(to: h.directory, madeNow: made) }
            madeAll = madeAll && made
        }
        return madeAll
    }

    func controllers(usedBy r: Resources) -> [(name: String, path: String)] {
        Validation.controllersUsed(by: r, blockIO: "blkio", devices: true)
    }

    func problems(_ r: Resources, used: [(name: String, path: String)]) -> [ConfigProblem] {
        Unified.problemsV1(r.unified) + used.filter { directory(for: $0.name) == nil }.map { controller, field in
            ConfigProblem(field, "the \(controller) cgroup controller is not mounted on this host")
        }
    }

    func memoryProblems(_ m: Resources.Memory) -> [ConfigProblem] { [] }

    /// runc's order: cpuset, devices, memory, cpu, pids, blkio, hugetlb, net_cls, net_prio, rdma; each only where
    /// its hierarchy is mounted.
    func apply(_ r: Resources, madeNow: Bool) throws {
        func dir(_ controller: String) -> String? { directory(for: controller) }
        if let c = r.cpu, let d = dir("cpuset") { try Cpuset.apply(c, d) }
        if !r.devices.isEmpty, let d = dir("devices") { try Devices.applyV1(r.devices, d, madeNow: madeNow) }
        if let m = r.memory, let d = dir("memory") { try Memory.applyV1(m, d) }
        if let c = r.cpu, let d = dir("cpu") { try CPU.applyV1(c, d) }
        if let p = r.pids, let d = dir("pids") { try Pids.apply(p, d) }
        if let b = r.blockIO, let d = dir("blkio") { try BlockIO.applyV1(b, d) }
        if let d = dir("hugetlb") { try Hugetlb.applyV1(r.hugepageLimits, d) }
        if let n = r.network {
            if let d = dir("net_cls") { try Network.applyClassID(n, d) }
            if let d = dir("net_prio") { try Network.applyPriorities(n, d) }
        }
        if let d = dir("rdma") { try Rdma.apply(r.rdma, d) }
    }

    /// The init moves itself through each `tasks` file unless it cannot (inside a user namespace).
    func parentPlaces(initPlacesItself: Bool) -> Bool { !initPlacesItself }

    var selfPlacedDirectories: [String] { directories.sorted() }
    var cloneTarget: String? { nil }

    /// The pids hierarchy (then freezer, then any) holds exactly the container's tasks.
    var pidsRoot: String? { directory(for: "pids") ?? directory(for: "freezer") ?? directories.first }

    var canFreeze: Bool { directory(for: "freezer") != nil }

    func freezerDirectory() throws(SysError) -> String {
        guard let d = directory(for: "freezer") else {
            throw SysError("freeze: no freezer hierarchy is mounted for", path: directories.first, errno: EOPNOTSUPP)
        }
        return d
    }

    func freeze() throws { try Freezer.v1.freeze(try freezerDirectory()) }
    func thaw() throws { try Freezer.v1.thaw(try freezerDirectory()) }
    func isFrozen() -> Bool { directory(for: "freezer").map(Freezer.v1.isFrozen) ?? false }
    func isFreezeAsked() -> Bool { directory(for: "freezer").map(Freezer.v1.isAsked) ?? false }
    func killAtOnce() throws -> Bool { false }

    /// Each controller's counters from its hierarchy; one that is not mounted is left nil or empty.
    func stats() throws -> CgroupStats {
        var s = CgroupStats()
        if let d = directory(for: "memory") { s.memory = try Memory.statsV1(d) }
        s.cpu = CPU.statsV1(cpu: directory(for: "cpu"), cpuacct: directory(for: "cpuacct"))
        if let d = directory(for: "pids") { s.pids = Pids.stats(d) }
        if let d = directory(for: "blkio") { s.ioServiceBytes = BlockIO.statsV1(d) }
        if let d = directory(for: "hugetlb") { s.hugetlb = try Hugetlb.statsV1(d) }
        return s
    }

    func oomKillCount() -> UInt64? {
        directory(for: "memory").flatMap { Memory.oomKills($0, file: "memory.oom_control") }
    }
}
