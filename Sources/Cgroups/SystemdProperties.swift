import DBus
import OCISpec
import Sys

/// `linux.resources` as systemd unit properties (systemd.resource-control(5)), by runc's translation, so that
/// systemd keeps the limits when it rewrites the unit's cgroup (daemon-reload). What has no property is
/// written to the cgroup files afterwards, as everything is (the files are the authority).
package enum SystemdProperties {
    /// systemd's USEC_INFINITY / CGROUP_LIMIT_MAX.
    static let infinity = UInt64.max
    /// The first systemd whose CPUWeight=0 means cpu.idle=1.
    static let idleSystemd = 252

    /// The properties of a new unit holding `pid`: a scope in `slice` with delegation, or a slice wanted by it.
    package static func unit(_ path: SystemdUnitPath, pid: Int32?, version: CgroupVersion) -> [UnitProperty] {
        var p = [UnitProperty("Description", .string("crabcan container \(path.unit)"))]
        if path.isSlice {
            p.append(UnitProperty("Wants", .strings([path.slice])))
        } else {
            p.append(UnitProperty("Slice", .string(path.slice)))
            p.append(UnitProperty("Delegate", .boolean(true)))
        }
        if let pid { p.append(UnitProperty("PIDs", .uint32s([UInt32(bitPattern: pid)]))) }
        // Accounting on for every controller, so its files exist whether or not a limit is set (runc).
        p.append(UnitProperty("MemoryAccounting", .boolean(true)))
        p.append(UnitProperty("CPUAccounting", .boolean(true)))
        p.append(UnitProperty(version == .v1 ? "BlockIOAccounting" : "IOAccounting", .boolean(true)))
        p.append(UnitProperty("TasksAccounting", .boolean(true)))
        p.append(UnitProperty("DefaultDependencies", .boolean(false)))
        return p
    }

    /// The resource properties of `r`, and `r` with the CPU quota rounded as systemd stores it (CPUQuotaPerSecUSec
    /// has 10 ms steps), so the files get the same value. `systemdVersion` leaves out what an older systemd refuses.
    package static func resources(_ r: Resources, version: CgroupVersion, systemdVersion: Int) throws(ConfigProblem) -> (properties: [UnitProperty], adjusted: Resources) {
        var r = r
        var p = devices(r.devices)
        func t(_ name: String, _ value: UInt64) { p.append(UnitProperty(name, .uint64(value))) }
        func limit(_ v: Int64) -> UInt64 { v < 0 ? infinity : UInt64(v) }
        if let m = r.memory {
            switch version {
            case .v1:
                if let v = m.limit, v != 0 { t("MemoryLimit", limit(v)) }
            case .v2:
                if let v = m.limit, v != 0 { t("MemoryMax", limit(v)) }
                if let v = m.reservation, v != 0 { t("MemoryLow", limit(v)) }
                let swap = try CgroupConversions.swapMax(swap: m.swap ?? 0, limit: m.limit ?? 0)
                if swap != 0 { t("MemorySwapMax", limit(swap)) }
            }
        }
        if var c = r.cpu {
            // cpu.idle=1 is CPUWeight=0 to systemd ≥ 252 (runc 1.2), which then leaves no room for the weight.
            let idle = version == .v2 && c.idle == 1 && systemdVersion >= idleSystemd
            if idle { t("CPUWeight", 0) }
            if let shares = c.shares, shares != 0, !idle {
                if version == .v1 { t("CPUShares", shares) } else { t("CPUWeight", CgroupConversions.cpuWeight(shares: shares)) }
            }
            let period = c.period ?? 0
            var quota = c.quota ?? 0
            if period != 0 && systemdVersion >= 242 { t("CPUQuotaPeriodUSec", period) }
            if quota != 0 || period != 0 {
                var perSecond = infinity
                if quota > 0 {
                    let effectivePeriod = period == 0 ? 100_000 : period
                    perSecond = UInt64(quota) * 1_000_000 / effectivePeriod
                    if perSecond % 10_000 != 0 {
                        perSecond = (perSecond / 10_000 + 1) * 10_000
                        quota = Int64(perSecond * effectivePeriod / 1_000_000)
                        c.quota = quota
                    }
                }
                t("CPUQuotaPerSecUSec", perSecond)
            }
            if systemdVersion >= 244 {
                if let cpus = c.cpus, !cpus.isEmpty { p.append(UnitProperty("AllowedCPUs", .bytes(try rangeToBits(cpus, ".linux.resources.cpu.cpus")))) }
                if let mems = c.mems, !mems.isEmpty { p.append(UnitProperty("AllowedMemoryNodes", .bytes(try rangeToBits(mems, ".linux.resources.cpu.mems")))) }
            }
            r.cpu = c
        }
        if let pids = r.pids {
            // systemd refuses TasksMax=0; 1 is the closest it takes.
            t("TasksMax", pids.limit < 0 ? infinity : max(1, UInt64(pids.limit)))
        }
        if let w = r.blockIO?.weight, w != 0 {
            if version == .v1 { t("BlockIOWeight", UInt64(w)) } else { t("IOWeight", CgroupConversions.ioWeight(blkioWeight: w)) }
        }
        if version == .v2 { p += try unified(r.unified, systemdVersion: systemdVersion) }
        return (p, r)
    }

    /// `linux.resources.unified` keys systemd has properties for (runc's unifiedResToSystemdProps).
    static func unified(_ keys: [String: String], systemdVersion: Int) throws(ConfigProblem) -> [UnitProperty] {
        var p: [UnitProperty] = []
        let idle = keys["cpu.idle"].map { trimmed($0) == "1" } == true && systemdVersion >= idleSystemd
        if idle { p.append(UnitProperty("CPUWeight", .uint64(0))) }
        let names = ["memory.high": "MemoryHigh", "memory.low": "MemoryLow", "memory.min": "MemoryMin",
                     "memory.max": "MemoryMax", "memory.swap.max": "MemorySwapMax", "pids.max": "TasksMax", "cpu.weight": "CPUWeight"]
        for key in keys.keys.sorted() where !(idle && key == "cpu.weight") {
            guard let name = names[key] else { continue }
            let text = trimmed(keys[key]!)
            guard let value = text == "max" && key != "cpu.weight" ? infinity : UInt64(text) else {
                throw ConfigProblem(".linux.resources.unified[\(key)]", "invalid value \"\(text)\"")
            }
            p.append(UnitProperty(name, .uint64(name == "TasksMax" ? max(1, value) : value)))
        }
        return p
    }

    /// Device rules as DevicePolicy=strict plus DeviceAllow entries, as runc 1.1's devices emulator and
    /// generateDeviceProperties make them, so a unit shows the same list under either runtime. systemd knows only
    /// allow lists: a deny-list config becomes "strict, nothing allowed" here and the cgroup's own device program
    /// or devices.* files carry the real rules.
    package static func devices(_ rules: [DeviceCgroupRule], names: DeviceNames = .host()) -> [UnitProperty] {
        if rules.isEmpty { return [] }
        // The rules' final effect, applied in order (runc's emulator): a rule of type "a" resets to allow-all or
        // deny-all; any other adds its access to an exception or takes it away, per (type, major, minor).
        var allowAll = false
        var exceptions: [DeviceKey: Set<Character>] = [:]
        for rule in rules {
            let type = rule.type?.first ?? "a"
            if type == "a" {
                allowAll = rule.allow
                exceptions = [:]
                continue
            }
            let key = DeviceKey(type: type, major: rule.major ?? -1, minor: rule.minor ?? -1)
            let access = Set((rule.access ?? "rwm").filter { "rwm".contains($0) })
            if rule.allow != allowAll {
                exceptions[key, default: []].formUnion(access)
            } else {
                exceptions[key]?.subtract(access)
                if exceptions[key]?.isEmpty == true { exceptions[key] = nil }
            }
        }
        if allowAll {
            // Allow-all with no exception is DevicePolicy=auto; denied exceptions cannot be said to systemd.
            return exceptions.isEmpty
                ? [UnitProperty("DevicePolicy", .string("auto")), UnitProperty("DeviceAllow", .array(element: "(ss)", []))]
                : [UnitProperty("DevicePolicy", .string("strict")), UnitProperty("DeviceAllow", .array(element: "(ss)", []))]
        }
        var allowed: [DBusValue] = []
        for key in exceptions.keys.sorted() {
            let access = String("rwm".filter { exceptions[key]!.contains($0) })
            guard let path = names.allowPath(key) else { continue }
            allowed.append(.structure([.string(path), .string(access)]))
        }
        // An empty DeviceAllow first clears what the unit had (an update replaces the list, not adds to it).
        return [UnitProperty("DevicePolicy", .string("strict")), UnitProperty("DeviceAllow", .array(element: "(ss)", [])),
                UnitProperty("DeviceAllow", .array(element: "(ss)", allowed))]
    }

    /// "0-3,8" → the little-endian CPU bitmask systemd's AllowedCPUs takes ([0x0f, 0x01]).
    package static func rangeToBits(_ list: String, _ field: String) throws(ConfigProblem) -> [UInt8] {
        var bits: [UInt8] = []
        for part in trimmed(list).split(separator: ",") {
            let ends = part.split(separator: "-", omittingEmptySubsequences: false)
            guard ends.count <= 2, let low = Int(trimmed(String(ends[0]))), let high = Int(trimmed(String(ends.last!))),
                  low >= 0, low <= high, high < 1 << 16 else {
                throw ConfigProblem(field, "invalid CPU or node list \"\(list)\"")
            }
            for n in low...high {
                while bits.count <= n / 8 { bits.append(0) }
                bits[n / 8] |= 1 << UInt8(n % 8)
            }
        }
        if bits.isEmpty { throw ConfigProblem(field, "invalid CPU or node list \"\(list)\"") }
        return bits
    }
}

/// One device exception: "b" or "c", major and minor with -1 for "*". Ordered as runc's emulator lists them
/// (major, minor, type), which is the order systemd then shows, reversed.
package struct DeviceKey: Hashable, Comparable, Sendable {
    package var type: Character
    package var major: Int64
    package var minor: Int64

    package static func < (a: DeviceKey, b: DeviceKey) -> Bool {
        (a.major, a.minor, a.type) < (b.major, b.minor, b.type)
    }
}

/// How a device exception is named in DeviceAllow, from what the host has (runc reads the same places):
/// "char-*" for any, the group of /proc/devices ("char-pts") for a whole major, /dev/char/M:m for one device
/// (left out when neither it nor /sys/dev/char/M:m exists: systemd warns and ignores such a path anyway), and
/// nothing for "*:m" or a major /proc/devices does not list (the cgroup's own rules still cover them).
package struct DeviceNames: Sendable {
    /// The text of /proc/devices.
    package var procDevices: String
    package var exists: @Sendable (String) -> Bool

    package init(procDevices: String, exists: @escaping @Sendable (String) -> Bool) {
        self.procDevices = procDevices
        self.exists = exists
    }

    package static func host() -> DeviceNames {
        DeviceNames(procDevices: (try? Files.readText("/proc/devices")) ?? "", exists: { Files.exists($0) })
    }

    func allowPath(_ key: DeviceKey) -> String? {
        let prefix = key.type == "b" ? "block-" : "char-"
        switch (key.major, key.minor) {
        case (-1, -1): return prefix + "*"
        case (-1, _): return nil
        case (let major, -1): return group(key.type, major).map { prefix + $0 }
        case (let major, let minor):
            let path = "/dev/\(key.type == "b" ? "block" : "char")/\(major):\(minor)"
            return exists(path) || exists("/sys" + path) ? path : nil
        }
    }

    /// The name /proc/devices gives `major` in the section of `type` ("Character devices:" / "Block devices:").
    func group(_ type: Character, _ major: Int64) -> String? {
        var section: Character = " "
        for raw in procDevices.split(separator: "\n") {
            let line = raw.drop(while: { $0 == " " })
            if line.hasBytePrefix("Character devices:") { section = "c"; continue }
            if line.hasBytePrefix("Block devices:") { section = "b"; continue }
            guard section == type else { continue }
            let fields = line.split(separator: " ", maxSplits: 1)
            if fields.count == 2, Int64(fields[0]) == major { return String(fields[1]) }
        }
        return nil
    }
}
