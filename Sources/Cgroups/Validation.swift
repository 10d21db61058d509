import OCISpec

/// `linux.resources` against the container's cgroups: every problem found before anything is written.
enum Validation {
    /// Which controllers `r` uses (`blockIO` as the version names it; `devices` when rules need a hierarchy),
    /// with the JSON path of the field that uses each, for errors and for skipping what is missing. Labelled as
    /// /proc/self/cgroup's lines are (`CgroupHost.lines`), so a `run` makes one pair type at run time, not two.
    static func controllersUsed(by r: Resources, blockIO: String, devices: Bool) -> [(name: String, path: String)] {
        let base = ".linux.resources"
        var used: [(name: String, path: String)] = []
        if let m = r.memory,
           m.limit != nil || m.reservation != nil || m.swap != nil || m.kernel != nil || m.kernelTCP != nil
            || m.swappiness != nil || m.disableOOMKiller == true || m.useHierarchy != nil {
            used.append(("memory", "\(base).memory"))
        }
        if let c = r.cpu {
            if c.shares != nil || c.quota != nil || c.period != nil || c.burst != nil || c.realtimeRuntime != nil
                || c.realtimePeriod != nil || c.idle != nil {
                used.append(("cpu", "\(base).cpu"))
            }
            if c.cpus != nil || c.mems != nil { used.append(("cpuset", "\(base).cpu")) }
        }
        if r.pids != nil { used.append(("pids", "\(base).pids")) }
        if let b = r.blockIO, b != Resources.BlockIO() { used.append((blockIO, "\(base).blockIO")) }
        if !r.hugepageLimits.isEmpty { used.append(("hugetlb", "\(base).hugepageLimits")) }
        if let n = r.network {
            if n.classID != nil { used.append(("net_cls", "\(base).network.classID")) }
            if !n.priorities.isEmpty { used.append(("net_prio", "\(base).network.priorities")) }
        }
        if !r.rdma.isEmpty { used.append(("rdma", "\(base).rdma")) }
        if devices && !r.devices.isEmpty { used.append(("devices", "\(base).devices")) }
        return used
    }

    /// What `tree`'s version refuses first, then each controller's own checks.
    static func problems(_ r: Resources, _ tree: any CgroupTree) -> [ConfigProblem] {
        var problems = tree.problems(r, used: tree.controllers(usedBy: r))
        if let m = r.memory { problems += Memory.problems(m) + tree.memoryProblems(m) }
        if let c = r.cpu { problems += CPU.problems(c) }
        if let b = r.blockIO { problems += BlockIO.problems(b) }
        problems += Hugetlb.problems(r.hugepageLimits)
        if let n = r.network { problems += Network.problems(n) }
        return problems + Rdma.problems(r.rdma)
    }
}

/// A token that goes into a file name or a space-separated control line: no separator, no control character.
func isSafeName(_ s: String) -> Bool {
    !s.isEmpty && !s.contains("/") && !s.containsText("..")
        && !s.unicodeScalars.contains(where: { $0 == " " || $0.value < 0x20 || $0.value == 0x7F })
}
