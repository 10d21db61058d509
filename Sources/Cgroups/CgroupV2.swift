import Glibc
import OCISpec
import Sys

/// cgroup v2: one directory holding every controller's files, the controllers its parent enabled.
struct CgroupV2: CgroupTree {
    /// The directory; "" when there is none to use (the set is empty: nothing is made or written).
    let dir: String

    var directories: [String] { dir.isEmpty ? [] : [dir] }

    func directory(for controller: String) -> String? { dir.isEmpty ? nil : dir }

    /// The controllers the parent delegates to this cgroup (nil before it exists).
    var available: [Substring]? { (try? CgroupFiles.read(dir, "cgroup.controllers")).map(words) }

    /// Makes the directories from the top of the cgroup2 mount (the highest one holding cgroup.controllers) down
    /// to the leaf, enabling the parent's controllers in each ancestor's cgroup.subtree_control so the leaf gets
    /// memory.max, cpu.max... (runc's fs2 CreateCgroupPath).
    func create() throws -> Bool {
        var madeNow = false
        var chain: [String] = [dir]
        var current = dir
        while let parent = parentDir(current) {
            if Files.isDirectory(parent) && !Files.exists(parent + "/cgroup.controllers") { break }
            chain.append(parent)
            current = parent
        }
        for d in chain.reversed() {
            if !Files.isDirectory(d) {
                try Files.mkdir(d)
                madeNow = d == dir
            }
            if d == dir { break }
            try enableControllers(in: d)
        }
        return madeNow
    }

    /// Writes "+c" for every available controller to `d`/cgroup.subtree_control: all at once, then one by one
    /// if the kernel refuses the set (a controller may be unavailable for a threaded subtree), ignoring single failures.
    func enableControllers(in d: String) throws {
        guard Files.exists(d + "/cgroup.controllers") else { return }
        let available = words(try CgroupFiles.read(d, "cgroup.controllers"))
        if available.isEmpty { return }
        let enabled = Set(words((try? CgroupFiles.read(d, "cgroup.subtree_control")) ?? ""))
        let missing = available.filter { !enabled.contains($0) }
        if missing.isEmpty { return }
        do {
            try CgroupFiles.write(d, "cgroup.subtree_control", missing.map { "+" + $0 }.joinedText(" "))
        } catch {
            for c in missing { try? CgroupFiles.write(d, "cgroup.subtree_control", "+" + c) }
        }
    }

    /// blkio is v2's io; device rules become an eBPF program, which needs no controller.
    func controllers(usedBy r: Resources) -> [(name: String, path: String)] {
        Validation.controllersUsed(by: r, blockIO: "io", devices: false)
    }

    func problems(_ r: Resources, used: [(name: String, path: String)]) -> [ConfigProblem] {
        var problems: [ConfigProblem] = []
        if let n = r.network { problems += Network.problemsV2(n) }
        if let c = r.cpu { problems += CPU.problemsV2(c) }
        let available = self.available
        // What the parent delegates to this cgroup (only known once created; skipped before).
        for (controller, field) in used where available.map({ !$0.contains(Substring(controller)) }) ?? false {
            problems.append(ConfigProblem(field, "the \(controller) cgroup controller is not enabled for \(dir)"))
        }
        return problems + Unified.problemsV2(r.unified, available: available, in: dir)
    }

    func memoryProblems(_ m: Resources.Memory) -> [ConfigProblem] { Memory.problemsV2(m, dir) }

    /// runc's order, as v1's: cpuset, devices, memory, cpu, pids, io, hugetlb, rdma, then unified.
    func apply(_ r: Resources, madeNow: Bool) throws {
        if let c = r.cpu { try Cpuset.apply(c, dir) }
        try Devices.applyV2(r.devices, dir)
        if let m = r.memory { try Memory.applyV2(m, dir) }
        if let c = r.cpu { try CPU.applyV2(c, dir) }
        if let p = r.pids { try Pids.apply(p, dir) }
        if let b = r.blockIO { try BlockIO.applyV2(b, dir) }
        try Hugetlb.applyV2(r.hugepageLimits, dir)
        try Rdma.apply(r.rdma, dir)
        try Unified.apply(r.unified, dir)
    }

    /// cgroup.threads cannot move a thread across domains: the parent writes cgroup.procs.
    func parentPlaces(initPlacesItself: Bool) -> Bool { true }
    var selfPlacedDirectories: [String] { [] }
    var cloneTarget: String? { dir.isEmpty || !Self.cpusetAppliesAtBirth ? nil : dir }

    /// A child born in a cgroup (clone3 CLONE_INTO_CGROUP) gets that cgroup's cpuset, its cpus and mems, only since
    /// Linux 6.3, backported to 6.1.25 and 6.2.12 (5.10 and 5.15 never got it): before, it kept its parent's,
    /// outside the container's cpuset (seen on Debian 11's 5.10). There the parent moves it through cgroup.procs,
    /// whose attach applies the cpuset, as before clone3.
    static let cpusetAppliesAtBirth = cpusetAppliesAtBirth(on: KernelVersion.running)

    static func cpusetAppliesAtBirth(on kernel: KernelVersion?) -> Bool {
        guard let kernel else { return false }
        if kernel.major == 6 && kernel.minor == 1 { return kernel.patch >= 25 }
        if kernel.major == 6 && kernel.minor == 2 { return kernel.patch >= 12 }
        return kernel >= KernelVersion(6, 3, 0)
    }

    var pidsRoot: String? { dir.isEmpty ? nil : dir }
    var canFreeze: Bool { Files.exists(dir + "/cgroup.freeze") }
    func freeze() throws { try Freezer.v2.freeze(dir) }
    func thaw() throws { try Freezer.v2.thaw(dir) }
    func isFrozen() -> Bool { Freezer.v2.isFrozen(dir) }
    func isFreezeAsked() -> Bool { Freezer.v2.isAsked(dir) }

    /// cgroup.kill (kernel 5.14+) kills every task atomically.
    func killAtOnce() throws -> Bool {
        guard Files.exists(dir + "/cgroup.kill") else { return false }
        try CgroupFiles.write(dir, "cgroup.kill", "1")
        return true
    }

    /// Counters of the controllers enabled for the cgroup (cpu.stat is always there).
    func stats() throws -> CgroupStats {
        var s = CgroupStats()
        let controllers = available ?? []
        if controllers.contains("memory") { s.memory = try Memory.statsV2(dir) }
        s.cpu = CPU.statsV2(dir)
        if controllers.contains("pids") { s.pids = Pids.stats(dir) }
        if controllers.contains("io"), let entries = BlockIO.statsV2(dir) { s.ioServiceBytes = entries }
        if controllers.contains("hugetlb") { s.hugetlb = try Hugetlb.statsV2(dir) }
        return s
    }

    func oomKillCount() -> UInt64? { dir.isEmpty ? nil : Memory.oomKills(dir, file: "memory.events") }
}
