@testable import Cgroups
import Sys
import Testing

/// `detect` stops reading mountinfo once the result is settled: at every prefix where `isSettled` says so, the
/// result must be the one the whole table gives, on every layout the fast stop could misjudge.
@Suite struct CgroupHostPrefixTests {
    static let hybridSelf = "4:memory:/a\n3:cpu,cpuacct:/\n2:name=systemd:/\n0::/\n"
    static let layouts: [(name: String, mountinfo: String, selfCgroup: String)] = [
        ("hybrid", """
            22 1 254:0 / / rw - ext4 /dev/vda rw
            30 22 0:26 / /sys/fs/cgroup rw - tmpfs tmpfs rw
            31 30 0:27 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory
            32 30 0:28 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct
            33 30 0:29 / /sys/fs/cgroup/systemd rw - cgroup cgroup rw,name=systemd
            34 30 0:30 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw
            40 22 0:40 / /proc rw - proc proc rw
            """, hybridSelf),
        ("a sub-cgroup bound first, the whole hierarchy mounted later", """
            22 1 254:0 / / rw - ext4 /dev/vda rw
            31 22 0:27 /a /mnt/memory-of-a rw - cgroup cgroup rw,memory
            32 22 0:28 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct
            33 22 0:29 / /sys/fs/cgroup/systemd rw - cgroup cgroup rw,name=systemd
            40 22 0:40 / /proc rw - proc proc rw
            41 22 0:27 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory
            """, hybridSelf),
        ("only a sub-cgroup bound", """
            22 1 254:0 / / rw - ext4 /dev/vda rw
            31 22 0:27 /a /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory
            32 22 0:28 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct
            33 22 0:29 / /sys/fs/cgroup/systemd rw - cgroup cgroup rw,name=systemd
            """, hybridSelf),
        ("a controller mounted after the unified one", """
            22 1 254:0 / / rw - ext4 /dev/vda rw
            34 22 0:30 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw
            33 22 0:29 / /sys/fs/cgroup/systemd rw - cgroup cgroup rw,name=systemd
            40 22 0:40 / /proc rw - proc proc rw
            31 22 0:27 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory
            32 22 0:28 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct
            """, hybridSelf),
        ("pure v2", """
            22 1 254:0 / / rw - ext4 /dev/vda rw
            30 22 0:26 / /sys/fs/cgroup rw,nsdelegate - cgroup2 cgroup2 rw
            40 22 0:40 / /proc rw - proc proc rw
            41 22 0:41 / /mnt/second rw - cgroup2 cgroup2 rw
            """, "0::/user.slice/session-1.scope\n"),
        ("v2 with a named v1 hierarchy", """
            22 1 254:0 / / rw - ext4 /dev/vda rw
            33 22 0:29 / /sys/fs/cgroup/systemd rw - cgroup cgroup rw,name=systemd
            30 22 0:26 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw
            """, "1:name=systemd:/\n0::/x\n"),
        ("a hierarchy not mounted at all", """
            22 1 254:0 / / rw - ext4 /dev/vda rw
            31 22 0:27 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory
            """, "5:pids:/\n4:memory:/a\n"),
    ]

    /// The matcher `detect` feeds, fed the cgroup mounts of `mountinfo` as detect's reads would.
    static func matcher(_ mountinfo: String, _ selfCgroup: String) -> CgroupHost.MountMatcher {
        var matcher = CgroupHost.MountMatcher(own: CgroupHost.lines(ofSelfCgroup: selfCgroup))
        MountInfo.forEachLine(in: Array(mountinfo.utf8)[...], ofType: CgroupHost.isCgroupFileSystem) { matcher.add($0) }
        return matcher
    }

    @Test(arguments: layouts.map(\.name)) func everySettledPrefixGivesTheWholeResult(_ name: String) {
        let layout = Self.layouts.first { $0.name == name }!
        let whole = CgroupHost(mountinfo: layout.mountinfo, selfCgroup: layout.selfCgroup)
        let lines = layout.mountinfo.split(separator: "\n", omittingEmptySubsequences: false)
        for count in 0...lines.count {
            let prefix = lines.prefix(count).joined(separator: "\n") + "\n"
            let matcher = Self.matcher(prefix, layout.selfCgroup)
            if matcher.isSettled {
                let partial = matcher.host
                #expect(partial.version == whole.version, "\(name), \(count) lines")
                #expect(partial.hierarchies == whole.hierarchies, "\(name), \(count) lines")
            }
        }
    }

    /// The stop is taken where it can be: on the hybrid layout after the last cgroup mount, not at the end.
    @Test func settlesBeforeTheEndWhereItCan() {
        let layout = Self.layouts[0]
        let lines = layout.mountinfo.split(separator: "\n")
        let upToUnified = lines.prefix(5).joined(separator: "\n") + "\n"
        #expect(Self.matcher(upToUnified, layout.selfCgroup).isSettled)
        let beforeSystemd = lines.prefix(4).joined(separator: "\n") + "\n"
        #expect(!Self.matcher(beforeSystemd, layout.selfCgroup).isSettled)
    }

    @Test func detectsThisHostAsTheWholeTableDoes() throws {
        let fast = try CgroupHost.detect()
        let whole = CgroupHost(mountinfo: try Files.readText("/proc/self/mountinfo"),
                               selfCgroup: try Files.readText("/proc/self/cgroup"))
        #expect(fast.version == whole.version)
        #expect(fast.hierarchies == whole.hierarchies)
    }
}

/// The init of a container with a `cgroup` mount reads only /proc/self/cgroup again: the mount table it shares
/// with the runtime that detected the host before clone is taken as it was.
@Suite struct CgroupHostKnownMountsTests {
    @Test func knownMountsGiveWhatAFullDetectGives() throws {
        let full = try CgroupHost.detect()
        #expect(try CgroupHost.detect(mountsOf: full) == full)
        #expect(try CgroupHost.detect(mountsOf: nil) == full)
    }

    /// What the runtime saw before the init moved into its cgroups: the mounts stay, the own paths are read now.
    @Test func ownPathsAreReadAgain() throws {
        let full = try CgroupHost.detect()
        var before = full
        for index in before.hierarchies.indices { before.hierarchies[index].ownPath = "/somewhere/else" }
        let again = try CgroupHost.detect(mountsOf: before)
        #expect(again.hierarchies.map(\.ownPath) == full.hierarchies.map(\.ownPath))
        #expect(again.hierarchies.map(\.mountPoint) == full.hierarchies.map(\.mountPoint))
    }
}
