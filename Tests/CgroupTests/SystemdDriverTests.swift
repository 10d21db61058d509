import DBus
import Testing

@testable import Cgroups
import OCISpec

/// The systemd driver's pure parts: "slice:prefix:name" → unit and cgroup paths, and resources → unit properties
/// (runc's translation), checked value by value.
@Suite struct SystemdUnitPathTests {
    @Test func aScopeInTheNamedSlice() throws {
        let p = try SystemdUnitPath.parse("system.slice:crabcan:c1", id: "ignored", rootless: false)
        #expect(p == SystemdUnitPath(slice: "system.slice", unit: "crabcan-c1.scope"))
        #expect(p.relativePath == "/system.slice/crabcan-c1.scope")
        #expect(!p.isSlice)
    }

    @Test func defaultsWithoutACgroupsPath() throws {
        #expect(try SystemdUnitPath.parse(nil, id: "c9", rootless: false) == SystemdUnitPath(slice: "system.slice", unit: "crabcan-c9.scope"))
        #expect(try SystemdUnitPath.parse("", id: "c9", rootless: true) == SystemdUnitPath(slice: "user.slice", unit: "crabcan-c9.scope"))
        #expect(try SystemdUnitPath.parse("::n", id: "x", rootless: false).unit == "-n.scope")
    }

    @Test func nestedSlicesExpandByTheirDashes() throws {
        #expect(try SystemdUnitPath.expandSlice("a-b.slice") == "/a.slice/a-b.slice")
        #expect(try SystemdUnitPath.expandSlice("test-a-b.slice") == "/test.slice/test-a.slice/test-a-b.slice")
        #expect(try SystemdUnitPath.expandSlice("-.slice") == "/")
        let p = try SystemdUnitPath.parse("machine-pods.slice:libpod:abc", id: "x", rootless: false)
        #expect(p.relativePath == "/machine.slice/machine-pods.slice/libpod-abc.scope")
        #expect(try SystemdUnitPath.parse("-.slice:p:n", id: "x", rootless: false).relativePath == "/p-n.scope")
    }

    @Test func aNameEndingInSliceIsASliceUnit() throws {
        let p = try SystemdUnitPath.parse("system.slice:ignored:kube-pod1.slice", id: "x", rootless: false)
        #expect(p.unit == "kube-pod1.slice")
        #expect(p.isSlice)
        #expect(p.relativePath == "/kube.slice/kube-pod1.slice")
    }

    @Test(arguments: ["/crabcan/c1", "a:b", "a:b:c:d", "system:p:n", "sys/tem.slice:p:n", "a--b.slice:p:n",
                      "-a.slice:p:n", ".slice:p:n", "system.slice:p:", "system.slice:p:n/x", "system.slice:p:bad-.slice"])
    func invalidFormsNameTheField(_ path: String) {
        do {
            let parsed = try SystemdUnitPath.parse(path, id: "x", rootless: false)
            Issue.record("accepted \(path) as \(parsed)")
        } catch {
            #expect(error.path == ".linux.cgroupsPath")
        }
    }

    @Test func pathsInEachHierarchy() throws {
        let fake = try FakeRoot()
        let v2 = try SystemdUnitPath.parse("system.slice:crabcan:c1", id: "x", rootless: false).plan(host: try fake.v2Host())
        #expect(v2 == CgroupSet(version: .v2, paths: ["": fake.root + "/unified/system.slice/crabcan-c1.scope"]))
        let user = try SystemdUnitPath.parse(nil, id: "c1", rootless: true)
            .plan(host: try fake.v2Host(), managerRoot: "/user.slice/user-1000.slice/user@1000.service")
        #expect(user.paths[""] == fake.root + "/unified/user.slice/user-1000.slice/user@1000.service/user.slice/crabcan-c1.scope")
        let v1 = try SystemdUnitPath.parse("system.slice:crabcan:c1", id: "x", rootless: false).plan(host: try fake.v1Host())
        #expect(v1.version == .v1)
        #expect(v1.paths["memory"] == fake.root + "/memory/system.slice/crabcan-c1.scope")
        #expect(v1.paths["name=systemd"] == fake.root + "/systemd/system.slice/crabcan-c1.scope")
    }
}

@Suite struct SystemdPropertiesTests {
    func value(_ props: [UnitProperty], _ name: String) -> DBusValue? { props.last { $0.name == name }?.value }

    @Test func aNewScope() throws {
        let path = try SystemdUnitPath.parse("system.slice:crabcan:c1", id: "x", rootless: false)
        let p = SystemdProperties.unit(path, pid: 4242, version: .v2)
        #expect(p.map(\.description) == [
            "Description=\"crabcan container crabcan-c1.scope\"", "Slice=\"system.slice\"", "Delegate=true", "PIDs=[4242]",
            "MemoryAccounting=true", "CPUAccounting=true", "IOAccounting=true", "TasksAccounting=true", "DefaultDependencies=false",
        ])
        #expect(value(p, "PIDs") == .uint32s([4242]))
        #expect(SystemdProperties.unit(path, pid: 1, version: .v1).contains { $0.name == "BlockIOAccounting" })
        let slice = SystemdProperties.unit(try SystemdUnitPath.parse("system.slice:p:kube.slice", id: "x", rootless: false), pid: nil, version: .v2)
        #expect(value(slice, "Wants") == .strings(["system.slice"]))
        #expect(value(slice, "Delegate") == nil && value(slice, "PIDs") == nil)
    }

    @Test func v2Resources() throws {
        var r = Resources()
        r.memory = Resources.Memory(limit: 1 << 30, reservation: 1 << 29, swap: 2 << 30)
        r.cpu = Resources.CPU(shares: 1024, quota: 12345, period: 100_000, cpus: "0-3,8", mems: "0")
        r.pids = Resources.Pids(limit: 0)
        r.blockIO = Resources.BlockIO(weight: 500)
        r.unified = ["memory.high": "max", "pids.max": "77", "io.max": "8:0 rbps=1"]
        let (p, adjusted) = try SystemdProperties.resources(r, version: .v2, systemdVersion: 252)
        #expect(value(p, "MemoryMax") == .uint64(1 << 30))
        #expect(value(p, "MemoryLow") == .uint64(1 << 29))
        #expect(value(p, "MemorySwapMax") == .uint64(1 << 30))  // memory+swap 2G less memory 1G
        #expect(value(p, "CPUWeight") == .uint64(39))
        #expect(value(p, "CPUQuotaPeriodUSec") == .uint64(100_000))
        // 12345 µs per 100 ms is 123450 µs per second, rounded up to systemd's 10 ms step; the files get the same.
        #expect(value(p, "CPUQuotaPerSecUSec") == .uint64(130_000))
        #expect(adjusted.cpu?.quota == 13_000)
        #expect(value(p, "AllowedCPUs") == .bytes([0x0f, 0x01]))
        #expect(value(p, "AllowedMemoryNodes") == .bytes([0x01]))
        #expect(p.first { $0.name == "TasksMax" }?.value == .uint64(1))  // systemd refuses 0
        #expect(value(p, "IOWeight") == .uint64(CgroupConversions.ioWeight(blkioWeight: 500)))
        #expect(value(p, "MemoryHigh") == .uint64(UInt64.max))
        #expect(value(p, "TasksMax") == .uint64(77))  // the unified key comes after and wins, as in runc
        #expect(!p.contains { $0.name == "MemoryLimit" || $0.name == "CPUShares" })
    }

    @Test func v1ResourcesAndOldSystemd() throws {
        var r = Resources()
        r.memory = Resources.Memory(limit: -1)
        r.cpu = Resources.CPU(shares: 512, quota: -1, cpus: "1")
        r.pids = Resources.Pids(limit: -1)
        r.blockIO = Resources.BlockIO(weight: 300)
        let (p, _) = try SystemdProperties.resources(r, version: .v1, systemdVersion: 241)
        #expect(value(p, "MemoryLimit") == .uint64(UInt64.max))
        #expect(value(p, "CPUShares") == .uint64(512))
        #expect(value(p, "CPUQuotaPerSecUSec") == .uint64(UInt64.max))
        #expect(value(p, "TasksMax") == .uint64(UInt64.max))
        #expect(value(p, "BlockIOWeight") == .uint64(300))
        // Older than 244: no AllowedCPUs (the file still gets it).
        #expect(value(p, "AllowedCPUs") == nil)
        #expect(!p.contains { $0.name == "MemoryMax" || $0.name == "CPUWeight" })
    }

    @Test func badListsAndUnifiedValuesNameTheirField() {
        var r = Resources()
        r.cpu = Resources.CPU(cpus: "3-1")
        #expect(throws: ConfigProblem.self) { try SystemdProperties.resources(r, version: .v2, systemdVersion: 252) }
        var u = Resources()
        u.unified = ["memory.max": "lots"]
        do {
            _ = try SystemdProperties.resources(u, version: .v2, systemdVersion: 252)
            Issue.record("accepted memory.max=lots")
        } catch {
            #expect(error.path == ".linux.resources.unified[memory.max]")
        }
    }

    /// A host as the systemd guest is: /proc/devices names 136 "pts"; no /dev/char (no udev); /sys/dev/char has
    /// the devices of loaded drivers, not 10:200 (tun not loaded).
    static let guestHost = DeviceNames(
        procDevices: "Character devices:\n  1 mem\n  4 /dev/vc/0\n  5 /dev/tty\n  5 /dev/console\n  5 /dev/ptmx\n 10 misc\n136 pts\n\nBlock devices:\n  8 sd\n254 virtblk\n",
        exists: { ["/sys/dev/char/1:3", "/sys/dev/char/1:5", "/sys/dev/char/1:7", "/sys/dev/char/1:8", "/sys/dev/char/1:9",
                   "/sys/dev/char/5:0", "/sys/dev/char/5:1", "/sys/dev/char/5:2"].contains($0) })

    static func pairs(_ p: [UnitProperty]) -> [String] {
        guard case .array(_, let entries)? = p.last?.value else { return [] }
        return entries.map { entry -> String in
            guard case .structure(let f) = entry else { return "" }
            return "\(f[0].stringValue!) \(f[1].stringValue!)"
        }
    }

    /// runc 1.1.5's list for its default rules in the systemd guest, as systemctl showed it (newest first):
    /// char-pts rwm,/dev/char/5:2 rwm,/dev/char/5:0 rwm,/dev/char/1:9 ... /dev/char/1:3 rwm,char-* m,block-* m.
    @Test func defaultDeviceRulesBecomeRuncsStrictAllowList() {
        let p = SystemdProperties.devices(DeviceRules.effective(nil).devices, names: Self.guestHost)
        #expect(p.map(\.name) == ["DevicePolicy", "DeviceAllow", "DeviceAllow"])
        #expect(p[0].value == .string("strict"))
        #expect(p[1].value == .array(element: "(ss)", []))
        // Sorted by (major, minor, type) as runc's emulator; 136:* by its /proc/devices group; 10:200 left out
        // (no node for it on this host, as runc does).
        #expect(Self.pairs(p) == ["block-* m", "char-* m", "/dev/char/1:3 rwm", "/dev/char/1:5 rwm", "/dev/char/1:7 rwm",
                                  "/dev/char/1:8 rwm", "/dev/char/1:9 rwm", "/dev/char/5:0 rwm",
                                  "/dev/char/5:2 rwm", "char-pts rwm"])
        // Where tun's node exists, it is listed, between 5:2 and 136:*.
        var withTun = Self.guestHost
        withTun.exists = { $0 == "/dev/char/10:200" || Self.guestHost.exists($0) }
        #expect(Self.pairs(SystemdProperties.devices(DeviceRules.effective(nil).devices, names: withTun)).suffix(2)
                == ["/dev/char/10:200 rwm", "char-pts rwm"])
    }

    @Test func deviceAccessMergesAndMajorsWithoutAGroupAreLeftOut() {
        let p = SystemdProperties.devices([
            DeviceCgroupRule(allow: false, type: "a", major: nil, minor: nil, access: "rwm"),
            DeviceCgroupRule(allow: true, type: "c", major: 1, minor: 3, access: "m"),
            DeviceCgroupRule(allow: true, type: "c", major: 1, minor: 3, access: "wr"),
            DeviceCgroupRule(allow: true, type: "c", major: 1, minor: 5, access: "rwm"),
            DeviceCgroupRule(allow: false, type: "c", major: 1, minor: 5, access: "w"),
            DeviceCgroupRule(allow: true, type: "c", major: 99, minor: nil, access: "rwm"),  // no group 99
            DeviceCgroupRule(allow: true, type: "b", major: 254, minor: nil, access: "r"),
            DeviceCgroupRule(allow: true, type: "c", major: nil, minor: 3, access: "rwm"),  // *:3: no systemd form
        ], names: Self.guestHost)
        #expect(Self.pairs(p) == ["/dev/char/1:3 rwm", "/dev/char/1:5 rm", "block-virtblk r"])
    }

    /// cpu.idle=1 (the resource or the unified key) is CPUWeight=0 for systemd ≥ 252, instead of the weight
    /// (runc 1.2's rule; runc 1.1.5 leaves the unit's weight alone and writes only the file).
    @Test func cpuIdleIsAZeroWeight() throws {
        var r = Resources()
        r.cpu = Resources.CPU(shares: 1024, idle: 1)
        func weights(_ r: Resources, _ systemd: Int) throws -> [DBusValue] {
            try SystemdProperties.resources(r, version: .v2, systemdVersion: systemd).properties.filter { $0.name == "CPUWeight" }.map(\.value)
        }
        #expect(try weights(r, 252) == [.uint64(0)])
        #expect(try weights(r, 251) == [.uint64(39)])
        r.cpu = Resources.CPU(shares: 1024, idle: 0)
        #expect(try weights(r, 252) == [.uint64(39)])
        var u = Resources()
        u.unified = ["cpu.idle": " 1\n", "cpu.weight": "50"]
        #expect(try weights(u, 252) == [.uint64(0)])
        #expect(try weights(u, 250) == [.uint64(50)])
        // v1 has no cpu.idle: CPUShares as ever.
        let v1 = try SystemdProperties.resources(r, version: .v1, systemdVersion: 252).properties.map(\.name)
        #expect(v1.contains("CPUShares") && !v1.contains("CPUWeight"))
    }

    @Test func allowAllAndDenyLists() {
        let all = SystemdProperties.devices([DeviceCgroupRule(allow: true, type: "a", major: nil, minor: nil, access: "rwm")])
        #expect(all.map(\.description) == ["DevicePolicy=\"auto\"", "DeviceAllow=[]"])
        // allow all, then deny one: systemd cannot say it; strict with nothing, the cgroup's own rules decide.
        let deny = SystemdProperties.devices([
            DeviceCgroupRule(allow: true, type: "a", major: nil, minor: nil, access: "rwm"),
            DeviceCgroupRule(allow: false, type: "c", major: 1, minor: 3, access: "rwm"),
        ])
        #expect(deny.map(\.description) == ["DevicePolicy=\"strict\"", "DeviceAllow=[]"])
        // allow all, deny one, allow it again: allow-all.
        let again = SystemdProperties.devices([
            DeviceCgroupRule(allow: true, type: "a", major: nil, minor: nil, access: "rwm"),
            DeviceCgroupRule(allow: false, type: "c", major: 1, minor: 3, access: "rwm"),
            DeviceCgroupRule(allow: true, type: "c", major: 1, minor: 3, access: "rwm"),
        ])
        #expect(again.map(\.description) == ["DevicePolicy=\"auto\"", "DeviceAllow=[]"])
        // deny all, allow one, deny it again: nothing left.
        let none = SystemdProperties.devices([
            DeviceCgroupRule(allow: false, type: "a", major: nil, minor: nil, access: "rwm"),
            DeviceCgroupRule(allow: true, type: "c", major: 1, minor: 3, access: "rwm"),
            DeviceCgroupRule(allow: false, type: "c", major: 1, minor: 3, access: "rwm"),
        ], names: Self.guestHost)
        #expect(none.map(\.description) == ["DevicePolicy=\"strict\"", "DeviceAllow=[]", "DeviceAllow=[]"])
    }

    /// The StartTransientUnit body as it goes on the wire: name, mode, a(sv), and the empty a(sa(sv)).
    @Test func startTransientUnitBody() {
        var e = DBusEncoder()
        for v: DBusValue in [.string("u"), .string("replace"), UnitProperty.array([UnitProperty("PIDs", .uint32s([5]))]),
                             .array(element: "(sa(sv))", [])] { e.encode(v) }
        // Laid out: 0 "u"(8) | 8 "replace"(12 → 20) | 20 len=24 | 24 struct: "PIDs"(4+5 → 33) sig "au"(4 → 37)
        // pad → 40 len=4 | 44 pid 5 → 48 | 48 len=0 of a(sa(sv)), pad → 56.
        var want: [UInt8] = [1, 0, 0, 0, 0x75, 0, 0, 0, 7, 0, 0, 0] + Array("replace".utf8) + [0]
        want += [24, 0, 0, 0]
        want += [4, 0, 0, 0] + Array("PIDs".utf8) + [0] + [2] + Array("au".utf8) + [0] + [0, 0, 0]
        want += [4, 0, 0, 0, 5, 0, 0, 0]
        want += [0, 0, 0, 0, 0, 0, 0, 0]
        #expect(e.bytes == want)
    }
}
