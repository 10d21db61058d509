import Glibc
import JSON
import OCISpec
import Sys

extension CgroupManager {
    /// Writes every configured field of `linux.resources`. Everything that can be checked without the kernel is
    /// checked first (ConfigProblem with the JSON path), so a bad config writes nothing.
    public func apply(_ resources: Resources?) throws {
        guard let r = resources, !cgroups.paths.isEmpty else { return }
        try validate(r)
        switch cgroups.version {
        case .v1: try applyV1(r)
        case .v2: try applyV2(r)
        }
    }

    /// Which controllers `r` uses, and the field that uses each (for errors and for skipping what is missing).
    func controllersUsed(by r: Resources) -> [(controller: String, field: String)] {
        let base = ".linux.resources"
        var used: [(controller: String, field: String)] = []
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
        if let b = r.blockIO, b != Resources.BlockIO() {
            used.append((cgroups.version == .v1 ? "blkio" : "io", "\(base).blockIO"))
        }
        if !r.hugepageLimits.isEmpty { used.append(("hugetlb", "\(base).hugepageLimits")) }
        if let n = r.network {
            if n.classID != nil { used.append(("net_cls", "\(base).network.classID")) }
            if !n.priorities.isEmpty { used.append(("net_prio", "\(base).network.priorities")) }
        }
        if !r.rdma.isEmpty { used.append(("rdma", "\(base).rdma")) }
        // v2 device rules become an eBPF program (not done here), so only v1 needs the devices hierarchy.
        if !r.devices.isEmpty && cgroups.version == .v1 { used.append(("devices", "\(base).devices")) }
        return used
    }

    // MARK: validation

    func validate(_ r: Resources) throws {
        if let first = problems(r).first { throw first }
    }

    /// Every problem of `linux.resources` on this host (for `check`, which lists them all).
    public func problems(_ r: Resources) -> [ConfigProblem] {
        var problems: [ConfigProblem] = []
        let base = ".linux.resources"
        let used = controllersUsed(by: r)

        switch cgroups.version {
        case .v1:
            if !r.unified.isEmpty { problems.append(ConfigProblem("\(base).unified", "cgroup v2 keys cannot be used on a cgroup v1 host")) }
            for (controller, field) in used where dir(controller) == nil {
                problems.append(ConfigProblem(field, "the \(controller) cgroup controller is not mounted on this host"))
            }
        case .v2:
            if let n = r.network, n.classID != nil || !n.priorities.isEmpty {
                problems.append(ConfigProblem("\(base).network", "net_cls and net_prio do not exist in cgroup v2"))
            }
            if let c = r.cpu, (c.realtimeRuntime ?? 0) != 0 || (c.realtimePeriod ?? 0) != 0 {
                problems.append(ConfigProblem("\(base).cpu", "realtime cpu limits do not exist in cgroup v2"))
            }
            // What the parent delegates to this cgroup (only known once created; skipped before).
            if let text = try? CgroupFiles.read(v2Dir, "cgroup.controllers") {
                let available = text.split(whereSeparator: { $0 == " " || $0 == "\n" }).map(String.init)
                for (controller, field) in used where !available.contains(controller) {
                    problems.append(ConfigProblem(field, "the \(controller) cgroup controller is not enabled for \(v2Dir)"))
                }
            }
            for key in r.unified.keys.sorted() {
                // Written as a file name inside the container's cgroup: no way out of it.
                if key.isEmpty || key.contains("/") || key == "." || key == ".." || key.contains("..") {
                    problems.append(ConfigProblem("\(base).unified[\(jsonQuote(key))]", "must be a file name in the cgroup directory"))
                    continue
                }
                guard let dot = key.firstIndex(of: "."), dot != key.startIndex else {
                    problems.append(ConfigProblem("\(base).unified[\(jsonQuote(key))]", "expected \"<controller>.<file>\""))
                    continue
                }
                let controller = String(key[..<dot])
                if controller != "cgroup", let text = try? CgroupFiles.read(v2Dir, "cgroup.controllers"),
                   !text.split(whereSeparator: { $0 == " " || $0 == "\n" }).contains(Substring(controller)) {
                    problems.append(ConfigProblem("\(base).unified[\(jsonQuote(key))]", "the \(jsonQuote(controller)) cgroup controller is not enabled for \(v2Dir)"))
                }
            }
        }

        if let m = r.memory {
            if let s = m.swappiness, s != UInt64.max, s > 100 {
                problems.append(ConfigProblem("\(base).memory.swappiness", "must be between 0 and 100, got \(s)"))
            }
            if let limit = m.limit, let swap = m.swap, limit > 0, swap > 0, swap < limit {
                problems.append(ConfigProblem("\(base).memory.swap", "memory+swap limit \(swap) is below the memory limit \(limit)"))
            }
            if cgroups.version == .v2 {
                do {
                    _ = try CgroupConversions.swapMax(swap: m.swap ?? 0, limit: memoryLimitForSwap(m))
                } catch {
                    problems.append(error)
                }
            }
        }
        if let idle = r.cpu?.idle, idle != 0 && idle != 1 {
            problems.append(ConfigProblem("\(base).cpu.idle", "must be 0 or 1, got \(idle)"))
        }
        if let w = r.blockIO?.weight, w != 0, !(10...1000).contains(w) {
            problems.append(ConfigProblem("\(base).blockIO.weight", "must be between 10 and 1000, got \(w)"))
        }
        for (i, h) in r.hugepageLimits.enumerated() where !isSafeName(h.pageSize) {
            problems.append(ConfigProblem("\(base).hugepageLimits[\(i)].pageSize", "invalid page size \(jsonQuote(h.pageSize))"))
        }
        for (i, p) in (r.network?.priorities ?? []).enumerated() where !isSafeName(p.name) {
            problems.append(ConfigProblem("\(base).network.priorities[\(i)].name", "invalid interface name \(jsonQuote(p.name))"))
        }
        for name in r.rdma.keys.sorted() where !isSafeName(name) {
            problems.append(ConfigProblem("\(base).rdma", "invalid device name \(jsonQuote(name))"))
        }
        return problems
    }

    /// A token that goes into a file name or a space-separated control line: no separator, no control character.
    func isSafeName(_ s: String) -> Bool {
        !s.isEmpty && !s.contains("/") && !s.contains("..")
            && !s.unicodeScalars.contains(where: { $0 == " " || $0.value < 0x20 || $0.value == 0x7F })
    }

    // MARK: v1

    func applyV1(_ r: Resources) throws {
        // runc's order: cpuset, devices, memory, cpu, pids, blkio, hugetlb, net_cls, net_prio, rdma.
        if let c = r.cpu, let d = dir("cpuset") {
            if let cpus = c.cpus, !cpus.isEmpty { try CgroupFiles.write(d, "cpuset.cpus", cpus) }
            if let mems = c.mems, !mems.isEmpty { try CgroupFiles.write(d, "cpuset.mems", mems) }
        }
        if !r.devices.isEmpty, let d = dir("devices") { try applyDevicesV1(r.devices, d) }
        if let m = r.memory, let d = dir("memory") { try applyMemoryV1(m, d) }
        if let c = r.cpu, let d = dir("cpu") { try applyCPUV1(c, d) }
        if let p = r.pids, p.limit != 0, let d = dir("pids") { try CgroupFiles.write(d, "pids.max", p.limit > 0 ? String(p.limit) : "max") }
        if let b = r.blockIO, let d = dir("blkio") { try applyBlockIOV1(b, d) }
        if let d = dir("hugetlb") {
            for h in r.hugepageLimits {
                try CgroupFiles.write(d, "hugetlb.\(h.pageSize).limit_in_bytes", String(h.limit))
                // Reservations (kernel 5.7+) are limited too, as runc does, so a mapping cannot reserve past the limit.
                let rsvd = "hugetlb.\(h.pageSize).rsvd.limit_in_bytes"
                if Files.exists(d + "/" + rsvd) { try CgroupFiles.write(d, rsvd, String(h.limit)) }
            }
        }
        if let n = r.network {
            if let id = n.classID, let d = dir("net_cls") { try CgroupFiles.write(d, "net_cls.classid", String(id)) }
            if let d = dir("net_prio") {
                for p in n.priorities { try CgroupFiles.write(d, "net_prio.ifpriomap", "\(p.name) \(p.priority)") }
            }
        }
        if let d = dir("rdma") { try applyRdma(r.rdma, d) }
    }

    func applyDevicesV1(_ rules: [DeviceCgroupRule], _ d: String) throws {
        for rule in rules {
            let file = rule.allow ? "devices.allow" : "devices.deny"
            let type = rule.type ?? "a"
            // "a" resets the whole list to allow-all or deny-all (the kernel ignores the rest of the line), which
            // is what a rule for all devices means; runtime-spec configs start with a deny-all like this.
            if type == "a" {
                try CgroupFiles.write(d, file, "a")
                continue
            }
            let major = rule.major.map(String.init) ?? "*"
            let minor = rule.minor.map(String.init) ?? "*"
            // Nothing to allow or deny when the access names none of r, w, m (runc writes no rule either).
            guard !rule.permissions.isEmpty else { continue }
            try CgroupFiles.write(d, file, "\(type) \(major):\(minor) \(rule.permissions)")
        }
    }

    func applyMemoryV1(_ m: Resources.Memory, _ d: String) throws {
        // 0 means "leave as is" in every field (runc; dockerd's update sends 0 for each limit it does not change).
        let limit = m.limit.unlessZero, reservation = m.reservation.unlessZero
        if let limit, m.checkBeforeUpdate == true, limit > 0,
           let usage = UInt64(trimmed(try CgroupFiles.read(d, "memory.usage_in_bytes"))), UInt64(limit) < usage {
            throw ConfigProblem(".linux.resources.memory.limit", "\(limit) is below the current usage \(usage) of \(d)")
        }
        var swap = m.swap.unlessZero
        // runc: unlimited memory with no swap setting means unlimited swap too (when swap accounting exists).
        if limit == -1 && swap == nil && Files.exists(d + "/memory.memsw.limit_in_bytes") { swap = -1 }
        if let limit, let swap {
            // The kernel keeps limit <= memsw at every step, so the order depends on the direction of the change.
            let current = UInt64(trimmed((try? CgroupFiles.read(d, "memory.limit_in_bytes")) ?? "")) ?? UInt64.max
            if swap == -1 || current < UInt64(bitPattern: swap) {
                try CgroupFiles.write(d, "memory.memsw.limit_in_bytes", String(swap))
                try CgroupFiles.write(d, "memory.limit_in_bytes", String(limit))
            } else {
                try CgroupFiles.write(d, "memory.limit_in_bytes", String(limit))
                try CgroupFiles.write(d, "memory.memsw.limit_in_bytes", String(swap))
            }
        } else {
            if let limit, limit > 0,
               let memsw = UInt64(trimmed((try? CgroupFiles.read(d, "memory.memsw.limit_in_bytes")) ?? "")),
               UInt64(limit) > memsw {
                // The kernel would answer EINVAL; say what is wrong instead (runc fails here the same way, less clearly).
                throw ConfigProblem(".linux.resources.memory.limit",
                                    "\(limit) is above the memory+swap limit \(memsw) of \(d): set memory.swap (--memory-swap) too")
            }
            if let limit { try CgroupFiles.write(d, "memory.limit_in_bytes", String(limit)) }
            if let swap { try CgroupFiles.write(d, "memory.memsw.limit_in_bytes", String(swap)) }
        }
        if let reservation { try CgroupFiles.write(d, "memory.soft_limit_in_bytes", String(reservation)) }
        // Kernel memory limits are deprecated (runtime-spec) and gone or no-ops on new kernels (5.16 made writes
        // fail with EOPNOTSUPP, 6.x removed the files): skip them rather than fail the container.
        for (value, file) in [(m.kernel.unlessZero, "memory.kmem.limit_in_bytes"), (m.kernelTCP.unlessZero, "memory.kmem.tcp.limit_in_bytes")] {
            guard let value, Files.exists(d + "/" + file) else { continue }
            try ignoring([EOPNOTSUPP]) { () throws(SysError) in try CgroupFiles.write(d, file, String(value)) }
        }
        // UInt64.max is how a decoded -1 ("unset", runc) arrives.
        if let s = m.swappiness, s != UInt64.max { try CgroupFiles.write(d, "memory.swappiness", String(s)) }
        if m.disableOOMKiller == true { try CgroupFiles.write(d, "memory.oom_control", "1") }
        if let h = m.useHierarchy { try CgroupFiles.write(d, "memory.use_hierarchy", h ? "1" : "0") }
    }

    func applyCPUV1(_ c: Resources.CPU, _ d: String) throws {
        // Realtime period before runtime: the kernel checks runtime against the period in place.
        if let p = c.realtimePeriod, p != 0 { try CgroupFiles.write(d, "cpu.rt_period_us", String(p)) }
        if let rt = c.realtimeRuntime, rt != 0 { try CgroupFiles.write(d, "cpu.rt_runtime_us", String(rt)) }
        if let shares = c.shares, shares != 0 {
            try CgroupFiles.write(d, "cpu.shares", String(shares))
            // The kernel clamps to [2, 262144] silently; runc reports it, so do we.
            if !CgroupFiles.isFake(d), let got = UInt64(trimmed(try CgroupFiles.read(d, "cpu.shares"))), got != shares {
                throw ConfigProblem(".linux.resources.cpu.shares", "the kernel set \(got) instead of \(shares) (allowed: 2 to 262144)")
            }
        }
        // A smaller period can be refused (EINVAL) while the old quota/new period exceeds the parent's: then set
        // the quota first and retry the period (runc fs/cpu.go).
        var periodPending = false
        if let p = c.period, p != 0 {
            let retryable: [Int32] = (c.quota ?? 0) != 0 ? [EINVAL] : []
            periodPending = try ignoring(retryable) { () throws(SysError) in try CgroupFiles.write(d, "cpu.cfs_period_us", String(p)) }
        }
        if let q = c.quota, q != 0 {
            try CgroupFiles.write(d, "cpu.cfs_quota_us", String(q))
            if periodPending, let p = c.period { try CgroupFiles.write(d, "cpu.cfs_period_us", String(p)) }
        }
        if let b = c.burst { try CgroupFiles.write(d, "cpu.cfs_burst_us", String(b)) }
        if let idle = c.idle, Files.exists(d + "/cpu.idle") || CgroupFiles.isFake(d) {
            try CgroupFiles.write(d, "cpu.idle", String(idle))
        }
    }

    func applyBlockIOV1(_ b: Resources.BlockIO, _ d: String) throws {
        // CFQ's blkio.weight is gone since 5.0; BFQ exposes blkio.bfq.weight instead (runc detectWeightFilenames).
        let bfq = Files.exists(d + "/blkio.bfq.weight")
        let weightFile = bfq ? "blkio.bfq.weight" : "blkio.weight"
        let weightDeviceFile = bfq ? "blkio.bfq.weight_device" : "blkio.weight_device"
        if let w = b.weight, w != 0 { try CgroupFiles.write(d, weightFile, String(w)) }
        if let w = b.leafWeight, w != 0 { try CgroupFiles.write(d, "blkio.leaf_weight", String(w)) }
        for wd in b.weightDevice {
            if let w = wd.weight, w != 0 { try CgroupFiles.write(d, weightDeviceFile, "\(wd.major):\(wd.minor) \(w)") }
            if let w = wd.leafWeight, w != 0 { try CgroupFiles.write(d, "blkio.leaf_weight_device", "\(wd.major):\(wd.minor) \(w)") }
        }
        for (devices, file) in [
            (b.throttleReadBpsDevice, "blkio.throttle.read_bps_device"), (b.throttleWriteBpsDevice, "blkio.throttle.write_bps_device"),
            (b.throttleReadIOPSDevice, "blkio.throttle.read_iops_device"), (b.throttleWriteIOPSDevice, "blkio.throttle.write_iops_device"),
        ] {
            for t in devices { try CgroupFiles.write(d, file, "\(t.major):\(t.minor) \(t.rate)") }
        }
    }

    /// rdma.max lines: "<device> hca_handle=<n|max> hca_object=<n|max>" (same in v1 and v2).
    func applyRdma(_ rdma: [String: Resources.Rdma], _ d: String) throws {
        for name in rdma.keys.sorted() {
            let e = rdma[name]!
            let handles = e.hcaHandles.map(String.init) ?? "max"
            let objects = e.hcaObjects.map(String.init) ?? "max"
            try CgroupFiles.write(d, "rdma.max", "\(name) hca_handle=\(handles) hca_object=\(objects)")
        }
    }

    // MARK: v2

    func applyV2(_ r: Resources) throws {
        let d = v2Dir
        if let c = r.cpu {
            if let cpus = c.cpus, !cpus.isEmpty { try CgroupFiles.write(d, "cpuset.cpus", cpus) }
            if let mems = c.mems, !mems.isEmpty { try CgroupFiles.write(d, "cpuset.mems", mems) }
        }
        // cgroup v2 has no devices files: the rules become an eBPF program on the cgroup. A fake hierarchy (unit
        // tests) cannot take one.
        if !r.devices.isEmpty, !CgroupFiles.isFake(d) { try DeviceProgram(rules: r.devices).attach(to: d) }
        if let m = r.memory { try applyMemoryV2(m, d) }
        if let c = r.cpu { try applyCPUV2(c, d) }
        if let p = r.pids, p.limit != 0 { try CgroupFiles.write(d, "pids.max", p.limit > 0 ? String(p.limit) : "max") }
        if let b = r.blockIO { try applyIOV2(b, d) }
        for h in r.hugepageLimits {
            try CgroupFiles.write(d, "hugetlb.\(h.pageSize).max", String(h.limit))
            let rsvd = "hugetlb.\(h.pageSize).rsvd.max"
            if Files.exists(d + "/" + rsvd) { try CgroupFiles.write(d, rsvd, String(h.limit)) }
        }
        try applyRdma(r.rdma, d)
        // Last, so an explicit unified value overrides what the fields above wrote (runc does the same).
        for key in r.unified.keys.sorted() { try CgroupFiles.write(d, key, r.unified[key]!) }
    }

    /// runc's numToStr: 0 = leave alone, -1 = "max".
    func v2Number(_ n: Int64) -> String? { n == 0 ? nil : n == -1 ? "max" : String(n) }

    func applyMemoryV2(_ m: Resources.Memory, _ d: String) throws {
        if let limit = m.limit, m.checkBeforeUpdate == true, limit > 0,
           let usage = UInt64(trimmed(try CgroupFiles.read(d, "memory.current"))), UInt64(limit) < usage {
            throw ConfigProblem(".linux.resources.memory.limit", "\(limit) is below the current usage \(usage) of \(d)")
        }
        let swap = try CgroupConversions.swapMax(swap: m.swap ?? 0, limit: memoryLimitForSwap(m))
        var swapText = v2Number(swap)
        // swap == limit converts to 0, which means "no swap": write 0 explicitly (numToStr would skip it).
        if swapText == nil && swap == 0 && (m.swap ?? 0) > 0 { swapText = "0" }
        if let swapText {
            // Swap is set before the memory limit (runc fs2); with swap accounting off the file is missing,
            // and asking for "max" or "0" is then already true.
            let harmless: [Int32] = swapText == "max" || swapText == "0" ? [ENOENT] : []
            try ignoring(harmless) { () throws(SysError) in try CgroupFiles.write(d, "memory.swap.max", swapText) }
        }
        if let limit = m.limit, let text = v2Number(limit) { try CgroupFiles.write(d, "memory.max", text) }
        if let reservation = m.reservation, let text = v2Number(reservation) { try CgroupFiles.write(d, "memory.low", text) }
        // kernel, kernelTCP, swappiness, disableOOMKiller and useHierarchy have no cgroup v2 file; runc ignores
        // them there too (use `unified` for memory.oom.group and friends).
    }

    /// memory.swap.max is swap alone, converted from v1's memory+swap with the memory limit. Swap given without a
    /// limit (`update --memory-swap`) is converted with the limit in force, as runc's update takes it from the
    /// config it keeps; before create (`check`) or with no limit ("max") that is still an error.
    func memoryLimitForSwap(_ m: Resources.Memory) -> Int64 {
        if let limit = m.limit { return limit }
        guard (m.swap ?? 0) > 0, let text = try? CgroupFiles.read(v2Dir, "memory.max") else { return 0 }
        let current = trimmed(text)
        return current == "max" ? -1 : Int64(current) ?? 0
    }

    func applyCPUV2(_ c: Resources.CPU, _ d: String) throws {
        if let shares = c.shares, shares != 0 {
            try CgroupFiles.write(d, "cpu.weight", String(CgroupConversions.cpuWeight(shares: shares)))
        }
        var quota = c.quota ?? 0
        var period = c.period ?? 0
        // cpu.max holds both: the one not given keeps its current value (runc's update keeps it from its config;
        // written alone, a period would otherwise drop the quota to "max").
        if (quota == 0) != (period == 0), let current = try? CgroupFiles.read(d, "cpu.max") {
            let fields = trimmed(current).split(separator: " ")
            if fields.count == 2 {
                if quota == 0 { quota = fields[0] == "max" ? -1 : Int64(fields[0]) ?? 0 }
                if period == 0 { period = UInt64(fields[1]) ?? 0 }
            }
        }
        if quota != 0 || period != 0 {
            // "max" for no quota; the period is kept by the kernel when not given.
            var text = quota > 0 ? String(quota) : "max"
            if period != 0 { text += " \(period)" }
            try CgroupFiles.write(d, "cpu.max", text)
        }
        if let b = c.burst { try CgroupFiles.write(d, "cpu.max.burst", String(b)) }
        if let idle = c.idle { try CgroupFiles.write(d, "cpu.idle", String(idle)) }
    }

    func applyIOV2(_ b: Resources.BlockIO, _ d: String) throws {
        // BFQ's io.bfq.weight exists once the bfq scheduler is loaded and takes blkio.weight's range as is; runc
        // (fs2/io.go) uses it whenever it exists, else io.weight (blk-iocost) with the value converted.
        let bfq = Files.exists(d + "/io.bfq.weight")
        if let w = b.weight, w != 0 {
            if bfq {
                try CgroupFiles.write(d, "io.bfq.weight", String(w))
            } else {
                try CgroupFiles.write(d, "io.weight", String(CgroupConversions.ioWeight(blkioWeight: w)))
            }
        }
        // Per-device weights only BFQ has, and only since 5.4, whose file reads "default N" rather than a bare
        // number; elsewhere they are skipped as runc skips them.
        let perDevice = bfq && UInt64(trimmed((try? CgroupFiles.read(d, "io.bfq.weight")) ?? "")) == nil
        for wd in b.weightDevice where perDevice {
            if let w = wd.weight, w != 0 { try CgroupFiles.write(d, "io.bfq.weight", "\(wd.major):\(wd.minor) \(w)") }
        }
        // One io.max line per device with all of its limits.
        var order: [String] = []
        var limits: [String: [String]] = [:]
        for (devices, key) in [
            (b.throttleReadBpsDevice, "rbps"), (b.throttleWriteBpsDevice, "wbps"),
            (b.throttleReadIOPSDevice, "riops"), (b.throttleWriteIOPSDevice, "wiops"),
        ] {
            for t in devices {
                let dev = "\(t.major):\(t.minor)"
                if limits[dev] == nil { order.append(dev) }
                // rate 0 means "no limit" in v1; v2 spells it "max".
                limits[dev, default: []].append("\(key)=\(t.rate == 0 ? "max" : String(t.rate))")
            }
        }
        for dev in order { try CgroupFiles.write(d, "io.max", "\(dev) \(limits[dev]!.joined(separator: " "))") }
    }
}

extension Optional where Wrapped == Int64 {
    /// nil for 0: a resource value of 0 leaves the cgroup file as it is (runc).
    var unlessZero: Int64? { self == 0 ? nil : self }
}

/// Runs `body`; a SysError with one of `errnos` is swallowed. Returns true when it was.
@discardableResult
func ignoring(_ errnos: [Int32], _ body: () throws(SysError) -> Void) throws(SysError) -> Bool {
    do {
        try body()
        return false
    } catch {
        if errnos.contains(error.errno) { return true }
        throw error
    }
}
