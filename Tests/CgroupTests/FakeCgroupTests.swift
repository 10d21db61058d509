import Foundation
import Testing

@testable import Cgroups
import OCISpec
import Sys

/// A fake cgroupfs in a temp dir: plain files, so writes land as the text the kernel would have been given.
/// Every fake lives below one directory, CgroupFiles' test mode root (set once: a static let runs once).
final class FakeRoot {
    let root: String

    static let parent: String = {
        let parent = NSTemporaryDirectory() + "crabcan-cgtest"
        CgroupFiles.testRoot = parent
        return parent
    }()

    init() throws {
        root = FakeRoot.parent + "/" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: root) }

    func read(_ path: String) -> String? { try? String(contentsOfFile: root + path, encoding: .utf8) }
    func write(_ path: String, _ text: String) throws {
        let dir = (root + path as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try text.write(toFile: root + path, atomically: false, encoding: .utf8)
    }
    func exists(_ path: String) -> Bool { FileManager.default.fileExists(atPath: root + path) }

    /// A hybrid v1 host like this machine: cpu and cpuacct separate, the caller's memory cgroup nested.
    func v1Host(coMountedCPU: Bool = false) throws -> CgroupHost {
        var mountinfo = "31 23 0:28 / \(root) rw,relatime - tmpfs tmpfs rw,mode=755\n"
        var selfCgroup = ""
        var controllers = ["cpuset", "memory", "devices", "freezer", "blkio", "pids", "hugetlb", "net_cls", "net_prio", "rdma"]
        controllers += coMountedCPU ? ["cpu,cpuacct"] : ["cpu", "cpuacct"]
        for (i, c) in controllers.enumerated() {
            let mountName = c.replacingOccurrences(of: ",", with: "_")
            mountinfo += "\(40 + i) 31 0:\(40 + i) / \(root)/\(mountName) rw,relatime - cgroup cgroup rw,\(c)\n"
            selfCgroup += "\(i + 1):\(c):\(c == "memory" ? "/agent/a1" : "/")\n"
            try FileManager.default.createDirectory(atPath: "\(root)/\(mountName)", withIntermediateDirectories: true)
        }
        mountinfo += "90 31 0:90 / \(root)/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd\n"
        selfCgroup += "20:name=systemd:/user.slice\n"
        mountinfo += "91 31 0:91 / \(root)/unified rw,relatime - cgroup2 cgroup2 rw\n"
        selfCgroup += "0::/\n"
        try write("/cpuset/cpuset.cpus", "0-1\n")
        try write("/cpuset/cpuset.mems", "0\n")
        return CgroupHost(mountinfo: mountinfo, selfCgroup: selfCgroup)
    }

    /// A pure v2 host with the caller in /user.slice/session-1.scope.
    func v2Host() throws -> CgroupHost {
        let mountinfo = """
            25 1 0:22 / / rw - ext4 /dev/root rw
            31 25 0:28 / \(root)/unified rw,nosuid - cgroup2 cgroup2 rw,nsdelegate

            """
        try write("/unified/cgroup.controllers", "cpuset cpu io memory hugetlb pids rdma\n")
        try write("/unified/cgroup.subtree_control", "")
        return CgroupHost(mountinfo: mountinfo, selfCgroup: "0::/user.slice/session-1.scope\n")
    }
}

@Suite struct PlanTests {
    @Test func v1HostIsParsedFromMountinfo() throws {
        let fake = try FakeRoot()
        let host = try fake.v1Host()
        #expect(host.version == .v1)
        #expect(host.hierarchies.map(\.name).sorted().contains("name=systemd"))
        #expect(host.hierarchies.first { $0.name == "cpu" }?.mountPoint == fake.root + "/cpu")
        #expect(host.hierarchies.first { $0.name == "cpuacct" }?.mountPoint == fake.root + "/cpuacct")
        #expect(host.hierarchies.allSatisfy { $0.name != "" }, "the hybrid cgroup2 mount is not a v1 hierarchy")
    }

    @Test func nilPathIsCrabcanIdInEveryHierarchy() throws {
        let fake = try FakeRoot()
        let set = try CgroupSet.plan(cgroupsPath: nil, id: "c1", host: try fake.v1Host())
        #expect(set.version == .v1)
        #expect(set.paths["memory"] == fake.root + "/memory/crabcan/c1")
        #expect(set.paths["cpu"] == fake.root + "/cpu/crabcan/c1")
        #expect(set.paths["name=systemd"] == fake.root + "/systemd/crabcan/c1")
        #expect(set.paths[""] == nil)
    }

    @Test func coMountedCpuIsOneHierarchy() throws {
        let fake = try FakeRoot()
        let set = try CgroupSet.plan(cgroupsPath: "/x", id: "c1", host: try fake.v1Host(coMountedCPU: true))
        #expect(set.paths["cpu,cpuacct"] == fake.root + "/cpu_cpuacct/x")
        #expect(set.paths["cpu"] == nil)
        #expect(CgroupManager(set).dir("cpuacct") == fake.root + "/cpu_cpuacct/x")
    }

    @Test func absoluteAndRelativePaths() throws {
        let fake = try FakeRoot()
        let host = try fake.v1Host()
        let abs = try CgroupSet.plan(cgroupsPath: "/a/b", id: "c1", host: host)
        #expect(abs.paths["memory"] == fake.root + "/memory/a/b")
        // Cleaned the same way under every hierarchy: "." and doubled or trailing slashes go.
        let untidy = try CgroupSet.plan(cgroupsPath: "//a/./b//", id: "c1", host: host)
        #expect(untidy == abs)
        // A hierarchy whose mount shows only part of it (a container's view): the path below what is mounted.
        let nested = CgroupHost(version: .v1, hierarchies: [
            CgroupHost.Hierarchy(name: "memory", mountPoint: "/sys/fs/cgroup/memory", mountRoot: "/kubepods/p1", ownPath: "/kubepods/p1/c"),
            CgroupHost.Hierarchy(name: "pids", mountPoint: "/sys/fs/cgroup/pids/", mountRoot: "/", ownPath: "/")])
        let inNested = try CgroupSet.plan(cgroupsPath: "/kubepods/p1/x", id: "c1", host: nested)
        #expect(inNested.paths == ["memory": "/sys/fs/cgroup/memory/x", "pids": "/sys/fs/cgroup/pids/kubepods/p1/x"])
        // Relative: below the caller's own cgroup in each hierarchy (runc).
        let rel = try CgroupSet.plan(cgroupsPath: "a/b", id: "c1", host: host)
        #expect(rel.paths["memory"] == fake.root + "/memory/agent/a1/a/b")
        #expect(rel.paths["pids"] == fake.root + "/pids/a/b")
        #expect(rel.paths["name=systemd"] == fake.root + "/systemd/user.slice/a/b")
    }

    @Test func v2Paths() throws {
        let fake = try FakeRoot()
        let host = try fake.v2Host()
        #expect(host.version == .v2)
        #expect(try CgroupSet.plan(cgroupsPath: nil, id: "c1", host: host) == CgroupSet(version: .v2, paths: ["": fake.root + "/unified/crabcan/c1"]))
        #expect(try CgroupSet.plan(cgroupsPath: "/m/n", id: "c1", host: host).paths[""] == fake.root + "/unified/m/n")
        #expect(try CgroupSet.plan(cgroupsPath: "m", id: "c1", host: host).paths[""] == fake.root + "/unified/user.slice/session-1.scope/m")
    }

    /// state.json keeps the old form (v1: hierarchy name → directory; v2: "" → directory): it reads back as the same layout.
    @Test func stateFormIsTheLayout() {
        let v1 = CgroupSet(version: .v1, paths: ["memory": "/m/c", "cpu,cpuacct": "/c/c"])
        #expect(v1.layout == .v1([.init(name: "cpu,cpuacct", directory: "/c/c"), .init(name: "memory", directory: "/m/c")]))
        #expect(v1.paths == ["memory": "/m/c", "cpu,cpuacct": "/c/c"])
        #expect(CgroupManager(v1).dir("cpuacct") == "/c/c")
        let v2 = CgroupSet(version: .v2, paths: ["": "/u/c"])
        #expect(v2.layout == .v2("/u/c") && v2.paths == ["": "/u/c"] && v2.directories == ["/u/c"])
        #expect(CgroupSet(version: .v2, paths: [:]).directories.isEmpty)
    }

    @Test func refusedPaths() throws {
        let fake = try FakeRoot()
        let host = try fake.v1Host()
        #expect(throws: ConfigProblem.self) { try CgroupSet.plan(cgroupsPath: "system.slice:crabcan:c1", id: "c1", host: host) }
        #expect(throws: ConfigProblem.self) { try CgroupSet.plan(cgroupsPath: "/a/../../etc", id: "c1", host: host) }
        #expect(throws: ConfigProblem.self) { try CgroupSet.plan(cgroupsPath: "/", id: "c1", host: host) }
    }

    @Test func mountinfoEscapes() {
        #expect(MountInfo.unescape("/a\\040b") == "/a b")
        #expect(MountInfo.unescape("/plain") == "/plain")
    }

    @Test func conversions() throws {
        #expect(CgroupConversions.cpuWeight(shares: 1024) == 39)
        #expect(CgroupConversions.cpuWeight(shares: 2) == 1)
        #expect(CgroupConversions.cpuWeight(shares: 262144) == 10000)
        #expect(CgroupConversions.ioWeight(blkioWeight: 500) == 4950)
        #expect(CgroupConversions.ioWeight(blkioWeight: 10) == 1)
        #expect(CgroupConversions.ioWeight(blkioWeight: 1000) == 10000)
        #expect(try CgroupConversions.swapMax(swap: 2 << 30, limit: 1 << 30) == 1 << 30)
        #expect(try CgroupConversions.swapMax(swap: 0, limit: -1) == -1)
        #expect(throws: ConfigProblem.self) { try CgroupConversions.swapMax(swap: 1 << 30, limit: 2 << 30) }
    }
}

let rich = Resources(
    devices: [
        DeviceCgroupRule(allow: false, access: "rwm"),
        DeviceCgroupRule(allow: true, type: "c", major: 1, minor: 3, access: "rwm"),
        DeviceCgroupRule(allow: true, type: "c", major: 136, minor: nil, access: "rw"),
    ],
    memory: .init(limit: 1 << 30, reservation: 512 << 20, swap: 2 << 30, swappiness: 10, disableOOMKiller: true),
    cpu: .init(shares: 1024, quota: 50000, burst: 1000, period: 100000, cpus: "0", mems: "0", idle: 0),
    pids: .init(limit: 20),
    blockIO: .init(
        weight: 500, weightDevice: [.init(major: 8, minor: 0, weight: 300)],
        throttleReadBpsDevice: [.init(major: 8, minor: 0, rate: 1_048_576)],
        throttleWriteIOPSDevice: [.init(major: 8, minor: 0, rate: 100)]),
    hugepageLimits: [.init(pageSize: "2MB", limit: 4 << 20)],
    network: .init(classID: 0x10001, priorities: [.init(name: "eth0", priority: 5)]),
    rdma: ["mlx4_0": .init(hcaHandles: 3)])

@Suite struct FakeApplyTests {
    /// v1 cpuset: each empty value comes from the nearest ancestor that has it, level by level (runc's
    /// ensureParent); a value a level has already is kept and is what the levels below it get.
    @Test func v1CpusetValuesComeFromTheNearestAncestorThatHasThem() throws {
        let fake = try FakeRoot()
        let host = try fake.v1Host()
        try fake.write("/cpuset/crabcan/cpuset.cpus", "1\n")
        try fake.write("/cpuset/crabcan/cpuset.mems", "\n")
        let set = try CgroupSet.plan(cgroupsPath: "/crabcan/c1", id: "c1", host: host)
        try CgroupManager(set).create()
        #expect(fake.read("/cpuset/crabcan/cpuset.cpus") == "1\n")
        #expect(fake.read("/cpuset/crabcan/cpuset.mems") == "0")
        #expect(fake.read("/cpuset/crabcan/c1/cpuset.cpus") == "1")
        #expect(fake.read("/cpuset/crabcan/c1/cpuset.mems") == "0")
    }

    @Test func v1WritesEveryField() throws {
        let fake = try FakeRoot()
        let set = try CgroupSet.plan(cgroupsPath: "/crabcan/c1", id: "c1", host: try fake.v1Host())
        let manager = CgroupManager(set)
        #expect(try manager.create(), "made now")
        for dir in set.paths.values { #expect(Files.isDirectory(dir)) }
        // cpuset: empty cpus/mems were copied down from the root through /crabcan.
        #expect(fake.read("/cpuset/crabcan/cpuset.cpus") == "0-1")
        #expect(fake.read("/cpuset/crabcan/c1/cpuset.mems") == "0")
        try fake.write("/memory/crabcan/c1/memory.limit_in_bytes", "9223372036854771712\n")

        try manager.apply(rich)
        let c = "/crabcan/c1/"
        // Last write wins in a plain file; per-rule writes are checked by the real test below.
        #expect(fake.read("/devices" + c + "devices.deny") == "a")
        #expect(fake.read("/devices" + c + "devices.allow") == "c 136:* rw")
        #expect(fake.read("/memory" + c + "memory.limit_in_bytes") == "1073741824")
        #expect(fake.read("/memory" + c + "memory.memsw.limit_in_bytes") == "2147483648")
        #expect(fake.read("/memory" + c + "memory.soft_limit_in_bytes") == "536870912")
        #expect(fake.read("/memory" + c + "memory.swappiness") == "10")
        #expect(fake.read("/memory" + c + "memory.oom_control") == "1")
        #expect(!fake.exists("/memory" + c + "memory.kmem.limit_in_bytes"))
        #expect(fake.read("/cpu" + c + "cpu.shares") == "1024")
        #expect(fake.read("/cpu" + c + "cpu.cfs_quota_us") == "50000")
        #expect(fake.read("/cpu" + c + "cpu.cfs_period_us") == "100000")
        #expect(fake.read("/cpu" + c + "cpu.cfs_burst_us") == "1000")
        #expect(fake.read("/cpu" + c + "cpu.idle") == "0")
        #expect(fake.read("/cpuset" + c + "cpuset.cpus") == "0")
        #expect(fake.read("/pids" + c + "pids.max") == "20")
        #expect(fake.read("/blkio" + c + "blkio.weight") == "500")
        #expect(fake.read("/blkio" + c + "blkio.weight_device") == "8:0 300")
        #expect(fake.read("/blkio" + c + "blkio.throttle.read_bps_device") == "8:0 1048576")
        #expect(fake.read("/blkio" + c + "blkio.throttle.write_iops_device") == "8:0 100")
        #expect(fake.read("/hugetlb" + c + "hugetlb.2MB.limit_in_bytes") == "4194304")
        #expect(fake.read("/net_cls" + c + "net_cls.classid") == "65537")
        #expect(fake.read("/net_prio" + c + "net_prio.ifpriomap") == "eth0 5")
        #expect(fake.read("/rdma" + c + "rdma.max") == "mlx4_0 hca_handle=3 hca_object=max")
        #expect(manager.dir("cpuacct") == fake.root + "/cpuacct/crabcan/c1")

        try manager.destroy()
        for dir in set.paths.values { #expect(!Files.exists(dir)) }
        #expect(Files.isDirectory(fake.root + "/memory/crabcan"), "parents are left as they are")
        try manager.destroy()  // missing is fine
    }

    @Test func v1RefusesUnifiedAndUnmountedControllers() throws {
        let fake = try FakeRoot()
        let host = try fake.v1Host()
        let manager = CgroupManager(try CgroupSet.plan(cgroupsPath: nil, id: "c1", host: host))
        try manager.create()
        #expect(throws: ConfigProblem(".linux.resources.unified", "cgroup v2 keys cannot be used on a cgroup v1 host")) {
            try manager.apply(Resources(pids: .init(limit: 5), unified: ["memory.high": "1G"]))
        }
        #expect(!fake.exists("/pids/crabcan/c1/pids.max"), "nothing is written when validation fails")
        // Without a pids hierarchy: unused is fine, used names the field.
        var withoutPids = manager.cgroups
        withoutPids.paths["pids"] = nil
        try CgroupManager(withoutPids).apply(Resources(memory: .init(limit: 1 << 20)))
        #expect(throws: ConfigProblem(".linux.resources.pids", "the pids cgroup controller is not mounted on this host")) {
            try CgroupManager(withoutPids).apply(Resources(pids: .init(limit: 5)))
        }
        try manager.destroy()
    }

    @Test func v1SwapOrderAndUnlimitedPids() throws {
        let fake = try FakeRoot()
        let manager = CgroupManager(try CgroupSet.plan(cgroupsPath: nil, id: "c1", host: try fake.v1Host()))
        try manager.create()
        try fake.write("/memory/crabcan/c1/memory.memsw.limit_in_bytes", "0")
        try fake.write("/pids/crabcan/c1/pids.max", "50")
        try manager.apply(Resources(memory: .init(limit: -1), pids: .init(limit: 0)))
        #expect(fake.read("/memory/crabcan/c1/memory.limit_in_bytes") == "-1")
        #expect(fake.read("/memory/crabcan/c1/memory.memsw.limit_in_bytes") == "-1", "unlimited memory makes swap unlimited (runc)")
        #expect(fake.read("/pids/crabcan/c1/pids.max") == "50", "a pids limit of 0 leaves it as is (runc)")
        try manager.apply(Resources(pids: .init(limit: -1)))
        #expect(fake.read("/pids/crabcan/c1/pids.max") == "max")
        try manager.destroy()
    }

    @Test func v2WritesEveryField() throws {
        let fake = try FakeRoot()
        let set = try CgroupSet.plan(cgroupsPath: nil, id: "c1", host: try fake.v2Host())
        let manager = CgroupManager(set)
        #expect(try manager.create(), "made now")
        #expect(try manager.create() == false, "there already")
        #expect(fake.read("/unified/cgroup.subtree_control") == "+cpuset +cpu +io +memory +hugetlb +pids +rdma")
        // A real kernel fills these in; the fake leaf needs them for controller checks.
        try fake.write("/unified/crabcan/c1/cgroup.controllers", "cpuset cpu io memory hugetlb pids rdma\n")
        var r = rich
        r.network = nil
        r.unified = ["memory.oom.group": "1", "memory.high": "900000000"]
        try manager.apply(r)
        let c = "/unified/crabcan/c1/"
        #expect(fake.read(c + "memory.max") == "1073741824")
        #expect(fake.read(c + "memory.swap.max") == "1073741824")
        #expect(fake.read(c + "memory.low") == "536870912")
        #expect(fake.read(c + "cpu.weight") == "39")
        #expect(fake.read(c + "cpu.max") == "50000 100000")
        #expect(fake.read(c + "cpu.max.burst") == "1000")
        #expect(fake.read(c + "cpu.idle") == "0")
        #expect(fake.read(c + "cpuset.cpus") == "0")
        #expect(fake.read(c + "pids.max") == "20")
        #expect(fake.read(c + "io.weight") == "4950")
        #expect(fake.read(c + "io.max") == "8:0 rbps=1048576 wiops=100")
        #expect(fake.read(c + "hugetlb.2MB.max") == "4194304")
        #expect(fake.read(c + "rdma.max") == "mlx4_0 hca_handle=3 hca_object=max")
        #expect(fake.read(c + "memory.oom.group") == "1")
        #expect(fake.read(c + "memory.high") == "900000000")
        #expect(!fake.exists(c + "devices.allow"))

        try manager.apply(Resources(cpu: .init(quota: -1, period: 100000)))
        #expect(fake.read(c + "cpu.max") == "max 100000")
        try manager.apply(Resources(memory: .init(limit: 1 << 30, swap: 1 << 30)))
        #expect(fake.read(c + "memory.swap.max") == "0", "swap equal to the limit means no swap")

        #expect(throws: ConfigProblem.self) { try manager.apply(Resources(unified: ["../escape": "1"])) }
        #expect(throws: ConfigProblem.self) { try manager.apply(Resources(unified: ["a/b": "1"])) }
        #expect(throws: ConfigProblem.self) { try manager.apply(Resources(network: .init(classID: 1))) }
        // Swap without a memory limit in force cannot be converted to memory.swap.max.
        try fake.write(c + "memory.max", "max\n")
        #expect(throws: ConfigProblem.self) { try manager.apply(Resources(memory: .init(swap: 1 << 30))) }
        try manager.destroy()
        #expect(!fake.exists("/unified/crabcan/c1"))
    }

    /// A paused container's cgroup is thawed after SIGKILL when a freeze is asked for, whatever the kernel reports
    /// of it: on v2 a frozen task woken to die reads "frozen 0" in cgroup.events until it has gone, and a thaw
    /// decided by that left the emptied cgroup frozen (seen once in RealCgroupV2Tests). v1: FREEZING counts too.
    @Test func thawAfterKillFollowsTheFreezeAskedFor() throws {
        let fake = try FakeRoot()
        let v2 = CgroupManager(CgroupSet(version: .v2, paths: ["": fake.root + "/unified/c1"]))
        try fake.write("/unified/c1/cgroup.freeze", "1\n")
        try fake.write("/unified/c1/cgroup.events", "populated 1\nfrozen 0\n")
        #expect(!v2.isFrozen())
        try v2.thawAfterKill()
        #expect(fake.read("/unified/c1/cgroup.freeze") == "0")
        try fake.write("/unified/c1/cgroup.freeze", "0\n")
        try v2.thawAfterKill()
        #expect(fake.read("/unified/c1/cgroup.freeze") == "0\n", "not asked: nothing written")

        let v1 = CgroupManager(CgroupSet(version: .v1, paths: ["freezer": fake.root + "/freezer/c1"]))
        try fake.write("/freezer/c1/freezer.state", "FREEZING\n")
        try v1.thawAfterKill()
        #expect(fake.read("/freezer/c1/freezer.state") == "THAWED")
    }

    /// blkio.weight goes to io.bfq.weight as is whenever that file exists (runc fs2/io.go), to io.weight converted
    /// only without it; per-device weights only where io.bfq.weight takes them (it reads "default N").
    @Test func v2BlockIOWeightPrefersBFQ() throws {
        let fake = try FakeRoot()
        let manager = CgroupManager(CgroupSet(version: .v2, paths: ["": fake.root + "/unified/c1"]))
        let c = "/unified/c1/"
        try fake.write(c + "cgroup.controllers", "io\n")
        try fake.write(c + "io.bfq.weight", "default 100\n")
        try manager.apply(Resources(blockIO: .init(weight: 500)))
        #expect(fake.read(c + "io.bfq.weight") == "500")
        #expect(!fake.exists(c + "io.weight"))
        try fake.write(c + "io.bfq.weight", "default 500\n")  // what the kernel reads back
        try manager.apply(Resources(blockIO: .init(weightDevice: [.init(major: 8, minor: 0, weight: 300)])))
        #expect(fake.read(c + "io.bfq.weight") == "8:0 300")
        // A kernel before 5.4: the file holds one number and takes no device lines.
        try fake.write(c + "io.bfq.weight", "100\n")
        try manager.apply(Resources(blockIO: .init(weightDevice: [.init(major: 8, minor: 0, weight: 300)])))
        #expect(fake.read(c + "io.bfq.weight") == "100\n")
        // Without BFQ: io.weight, converted; device weights are skipped rather than written to a missing file.
        try Files.unlink(fake.root + c + "io.bfq.weight")
        try manager.apply(Resources(blockIO: .init(weight: 500, weightDevice: [.init(major: 8, minor: 0, weight: 300)])))
        #expect(fake.read(c + "io.weight") == "4950")
        #expect(!fake.exists(c + "io.bfq.weight"))
    }

    /// `update` with one of quota and period keeps the other, and with swap alone converts it with the memory limit
    /// in force (runc's update takes both from the config it keeps; cpu.max written with a period alone drops the quota).
    @Test func v2UpdateKeepsWhatIsNotGiven() throws {
        let fake = try FakeRoot()
        let manager = CgroupManager(CgroupSet(version: .v2, paths: ["": fake.root + "/unified/c1"]))
        let c = "/unified/c1/"
        try fake.write(c + "cgroup.controllers", "cpu memory\n")
        try fake.write(c + "cpu.max", "30000 100000\n")
        try manager.apply(Resources(cpu: .init(period: 200000)))
        #expect(fake.read(c + "cpu.max") == "30000 200000")
        try fake.write(c + "cpu.max", "max 200000\n")
        try manager.apply(Resources(cpu: .init(quota: 40000)))
        #expect(fake.read(c + "cpu.max") == "40000 200000")
        try fake.write(c + "cpu.max", "max 100000\n")
        try manager.apply(Resources(cpu: .init(period: 50000)))
        #expect(fake.read(c + "cpu.max") == "max 50000")
        try fake.write(c + "memory.max", "104857600\n")
        try manager.apply(Resources(memory: .init(swap: 209715200)))
        #expect(fake.read(c + "memory.swap.max") == "104857600")
        #expect(fake.read(c + "memory.max") == "104857600\n", "the limit itself is not rewritten")
    }

    @Test func statsFromFakeFiles() throws {
        let fake = try FakeRoot()
        let manager = CgroupManager(try CgroupSet.plan(cgroupsPath: nil, id: "c1", host: try fake.v1Host()))
        try manager.create()
        let c = "/crabcan/c1/"
        try fake.write("/memory" + c + "memory.usage_in_bytes", "4096\n")
        try fake.write("/memory" + c + "memory.limit_in_bytes", "67108864\n")
        try fake.write("/memory" + c + "memory.stat", "cache 10\nrss 20\ntotal_cache 11\ntotal_rss 21\n")
        try fake.write("/cpuacct" + c + "cpuacct.usage", "123\n")
        try fake.write("/cpuacct" + c + "cpuacct.usage_percpu", "100 23 \n")
        try fake.write("/cpuacct" + c + "cpuacct.stat", "user 2\nsystem 3\n")
        try fake.write("/cpu" + c + "cpu.stat", "nr_periods 5\nnr_throttled 1\nthrottled_time 77\n")
        try fake.write("/pids" + c + "pids.current", "3\n")
        try fake.write("/pids" + c + "pids.max", "max\n")
        try fake.write("/blkio" + c + "blkio.throttle.io_service_bytes_recursive", "8:0 Read 4096\n8:0 Write 0\nTotal 4096\n")
        try fake.write("/hugetlb" + c + "hugetlb.2MB.limit_in_bytes", "0\n")
        try fake.write("/hugetlb" + c + "hugetlb.2MB.usage_in_bytes", "2097152\n")
        let s = try manager.stats()
        #expect(s.memory?.usage == .init(usage: 4096, maxUsage: 0, failcnt: 0, limit: 67108864))
        #expect(s.memory?.cache == 11 && s.memory?.rss == 21)
        #expect(s.cpu == .init(total: 123, perCPU: [100, 23], user: 20_000_000, kernel: 30_000_000, periods: 5, throttledPeriods: 1, throttledTime: 77))
        #expect(s.pids == .init(current: 3, limit: UInt64.max))
        #expect(s.ioServiceBytes == [.init(major: 8, minor: 0, op: "Read", value: 4096), .init(major: 8, minor: 0, op: "Write", value: 0)])
        #expect(s.hugetlb["2MB"]?.usage == 2097152)
        try manager.destroy()
    }
}

/// The binary never creates a control file: only a fake hierarchy below the test root gets one made.
@Suite struct CgroupFilesTests {
    @Test func aMissingFileOutsideTheTestRootIsAnErrorNamingTheValue() throws {
        let dir = NSTemporaryDirectory() + "crabcan-cgfiles-\(getpid())-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        _ = FakeRoot.parent  // test mode on, as in every other test of this process
        #expect(!CgroupFiles.isFake(dir))
        #expect(throws: SysError("write memory.max = \"1048576\" in", path: dir, errno: ENOENT)) {
            try CgroupFiles.write(dir, "memory.max", "1048576")
        }
        #expect(!FileManager.default.fileExists(atPath: dir + "/memory.max"))
        // A value with a line break stays on one line.
        #expect(throws: SysError("write x.y = \"a\\nb\" in", path: dir, errno: ENOENT)) { try CgroupFiles.write(dir, "x.y", "a\nb") }
    }

    @Test func aFakeHierarchyGetsTheFileMade() throws {
        let fake = try FakeRoot()
        #expect(CgroupFiles.isFake(fake.root))
        try CgroupFiles.write(fake.root, "pids.max", "20")
        #expect(fake.read("/pids.max") == "20")
    }
}
