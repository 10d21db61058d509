import Glibc
import Sys

package enum CgroupVersion: String, Sendable { case v1, v2 }

/// What the host runs, read once: the v1 hierarchies (mount point + controllers) or the v2 unified mount,
/// and the caller's own cgroup in each.
package struct CgroupHost: Sendable, Equatable {
    /// One mounted hierarchy.
    package struct Hierarchy: Sendable, Equatable {
        /// The controller list as /proc/self/cgroup names it: "memory", "cpu,cpuacct", "name=systemd"; v2: "".
        package var name: String
        package var mountPoint: String
        /// The hierarchy directory mounted at `mountPoint` (not "/" when a parent cgroup was bind-mounted).
        package var mountRoot: String
        /// The caller's cgroup in this hierarchy, relative to the hierarchy root.
        package var ownPath: String

        package var controllers: [String] { name.commaSeparatedItems }
    }

    package var version: CgroupVersion
    package var hierarchies: [Hierarchy]

    /// Reads /proc/self/cgroup, then /proc/self/mountinfo only as far as it must: once every hierarchy is found
    /// at its root, no later mount can change the result (cgroup mounts come early in the table). Each line is
    /// parsed once, as it arrives, and each cgroup mount offered once to the hierarchies still open. With a
    /// `cache` whose mounts are all still in place the table is not read; a settled answer read from it is
    /// handed to the cache to keep.
    package static func detect(cache: CgroupHostCache? = nil) throws -> CgroupHost {
        let own = lines(ofSelfCgroup: try Files.readFile("/proc/self/cgroup"))
        if let cached = cache?.load(own: own) { return cached }
        var matcher = MountMatcher(own: own)
        try Files.open("/proc/self/mountinfo", O_RDONLY).readLines(chunk: 512) { lines in
            MountInfo.forEachLine(in: lines, ofType: isCgroupFileSystem) { matcher.add($0) }
            return matcher.isSettled
        }
        let host = matcher.host
        if let cache, matcher.isSettled { cache.take(host, tableIDs: matcher.tableIDs(of: host), own: own) }
        return host
    }

    /// This process's cgroups where the mounts are known already: `known` was detected by the runtime before it
    /// cloned this process, which shares its mount table, so only /proc/self/cgroup is read again (mountinfo costs
    /// ~70 µs of kernel formatting and a parse, and grows with the host's mounts). Without `known`, `detect()`.
    package static func detect(mountsOf known: CgroupHost?) throws -> CgroupHost {
        guard var host = known else { return try detect() }
        let own = lines(ofSelfCgroup: try Files.readFile("/proc/self/cgroup"))
        for index in host.hierarchies.indices {
            if let line = own.first(where: { $0.name == host.hierarchies[index].name }) { host.hierarchies[index].ownPath = line.path }
        }
        return host
    }

    /// /proc/self/cgroup's "<hierarchy id>:<controllers>:<path>" lines (the path may itself hold ':').
    static func lines(ofSelfCgroup text: String) -> [(name: String, path: String)] { lines(ofSelfCgroup: Array(text.utf8)) }

    /// On bytes: Character slicing would run the grapheme-break code on every create, and String's UTF-8 view
    /// checks its representation at every step.
    static func lines(ofSelfCgroup bytes: [UInt8]) -> [(name: String, path: String)] {
        var lines: [(name: String, path: String)] = []
        lines.reserveCapacity(bytes.count { $0 == UInt8(ascii: "\n") } + 1)
        var start = 0
        while start < bytes.count {
            let end = bytes[start...].firstIndex(of: UInt8(ascii: "\n")) ?? bytes.count
            defer { start = end + 1 }
            guard let first = bytes[start..<end].firstIndex(of: UInt8(ascii: ":")),
                  let second = bytes[(first + 1)..<end].firstIndex(of: UInt8(ascii: ":")) else { continue }
            lines.append((String(decoding: bytes[(first + 1)..<second], as: UTF8.self),
                          String(decoding: bytes[(second + 1)..<end], as: UTF8.self)))
        }
        return lines
    }

    init(version: CgroupVersion, hierarchies: [Hierarchy]) {
        self.version = version
        self.hierarchies = hierarchies
    }

    /// Parses the two texts (the whole table: see `MountMatcher` for which mount each hierarchy takes).
    package init(mountinfo: String, selfCgroup: String) {
        var matcher = MountMatcher(own: Self.lines(ofSelfCgroup: selfCgroup))
        MountInfo.forEachLine(in: Array(mountinfo.utf8)[...], ofType: Self.isCgroupFileSystem) { matcher.add($0) }
        self = matcher.host
    }

    static func isCgroupFileSystem(_ type: ArraySlice<UInt8>) -> Bool {
        type.elementsEqual(MountMatcher.cgroup1) || type.elementsEqual(MountMatcher.cgroup2)
    }

    /// Whether a /proc/self/cgroup hierarchy name lists a controller, not only a named hierarchy ("name=systemd").
    static func namesAController(_ name: String) -> Bool {
        Array(name.utf8)[...].containsCommaSeparatedItem { !$0.isEmpty && !$0.starts(with: "name=".utf8) }
    }

    /// The rule that picks each hierarchy's mount, fed one mount at a time in the table's order, so that a reader
    /// can stop early. A v1 hierarchy takes the first `cgroup` mount whose super options list all of its
    /// controllers, and a later one only if that one is at the hierarchy's root ("/", a bind of a sub-cgroup
    /// loses to the whole hierarchy); the unified hierarchy takes the first `cgroup2` mount.
    struct MountMatcher {
        private let own: [(name: String, path: String)]
        /// The lines' hierarchy names as bytes, compared with each mount's super options.
        private let names: [ArraySlice<UInt8>]
        /// Per line of /proc/self/cgroup, the chosen mount's point and root ("" while none), and whether that one
        /// is at the root. The table's fields are unescaped only for the mount chosen.
        private var chosenPoint: [String]
        private var chosenRoot: [String]
        /// The chosen mount's id in the table (0 when the line had none), for CgroupHostCache.
        private var chosenID: [UInt64]
        private var foundAtRoot: [Bool]
        private var unified: (point: String, root: String, id: UInt64)?
        /// Whether some line of /proc/self/cgroup names a v1 controller (not only "name=systemd"): then the host is
        /// v1, and settled once each named hierarchy has its mount at the root. Otherwise the first cgroup2 mount
        /// settles it.
        private let namesAV1Controller: Bool
        static let cgroup1 = Array("cgroup".utf8), cgroup2 = Array("cgroup2".utf8)

        init(own: [(name: String, path: String)]) {
            self.own = own
            names = own.map { Array($0.name.utf8)[...] }
            chosenPoint = Array(repeating: "", count: own.count)
            chosenRoot = chosenPoint
            chosenID = Array(repeating: 0, count: own.count)
            foundAtRoot = Array(repeating: false, count: own.count)
            namesAV1Controller = own.contains { !$0.name.isEmpty && CgroupHost.namesAController($0.name) }
        }

        /// One line of the table, of type cgroup or cgroup2, in the table's order.
        mutating func add(_ mount: MountInfoLine) {
            if mount.fsType.elementsEqual(Self.cgroup2) {
                if unified == nil { unified = (MountInfo.unescape(mount.mountPoint), MountInfo.unescape(mount.root), mount.mountID ?? 0) }
                return
            }
            guard mount.fsType.elementsEqual(Self.cgroup1) else { return }
            let atRoot = mount.isWholeFilesystem
            for index in own.indices where !foundAtRoot[index] && !names[index].isEmpty && (atRoot || chosenPoint[index].isEmpty) {
                if mount.hasSuperOptions(allOf: names[index]) {
                    chosenPoint[index] = MountInfo.unescape(mount.mountPoint)
                    chosenRoot[index] = MountInfo.unescape(mount.root)
                    chosenID[index] = mount.mountID ?? 0
                    foundAtRoot[index] = atRoot
                }
            }
        }

        var isSettled: Bool {
            if namesAV1Controller {
                return own.indices.allSatisfy { own[$0].name.isEmpty || foundAtRoot[$0] }
            }
            return unified != nil
        }

        /// The table's id of each of `host`'s mounts, in its order.
        func tableIDs(of host: CgroupHost) -> [UInt64] {
            host.hierarchies.map { hierarchy in
                if hierarchy.name.isEmpty { return unified?.id ?? 0 }
                return own.firstIndex { $0.name == hierarchy.name }.map { chosenID[$0] } ?? 0
            }
        }

        /// On a hybrid host (v1 controllers plus a cgroup2 mount at /sys/fs/cgroup/unified) the v1 hierarchies win,
        /// as runc's fs driver does: the cgroup2 mount there holds no controllers we set.
        var host: CgroupHost {
            var v1: [Hierarchy] = []
            v1.reserveCapacity(own.count)
            var unifiedHierarchy: Hierarchy?
            for (index, line) in own.enumerated() {
                if line.name.isEmpty {
                    if let unified {
                        unifiedHierarchy = Hierarchy(name: "", mountPoint: unified.point, mountRoot: unified.root, ownPath: line.path)
                    }
                } else if !chosenPoint[index].isEmpty {
                    v1.append(Hierarchy(name: line.name, mountPoint: chosenPoint[index], mountRoot: chosenRoot[index],
                                        ownPath: line.path))
                }
            }
            if let unifiedHierarchy, !v1.contains(where: { CgroupHost.namesAController($0.name) }) {
                return CgroupHost(version: .v2, hierarchies: [unifiedHierarchy])
            }
            return CgroupHost(version: .v1, hierarchies: v1)
        }
    }

    /// The v1 hierarchy that holds `controller`, if mounted.
    func hierarchy(for controller: String) -> Hierarchy? {
        hierarchies.first { $0.name.hasCommaSeparatedItem(controller) }
    }
}
