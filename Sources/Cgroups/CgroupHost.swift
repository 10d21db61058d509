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
        package var controllers: [String]
        package var mountPoint: String
        /// The hierarchy directory mounted at `mountPoint` (not "/" when a parent cgroup was bind-mounted).
        package var mountRoot: String
        /// The caller's cgroup in this hierarchy, relative to the hierarchy root.
        package var ownPath: String
    }

    package var version: CgroupVersion
    package var hierarchies: [Hierarchy]

    /// Reads /proc/self/cgroup, then /proc/self/mountinfo only as far as it must: once every hierarchy is found
    /// at its root, no later mount can change the result (cgroup mounts come early in the table). Each line is
    /// parsed once, as it arrives, and each cgroup mount offered once to the hierarchies still open.
    package static func detect() throws -> CgroupHost {
        var matcher = MountMatcher(own: lines(ofSelfCgroup: try Files.readText("/proc/self/cgroup")))
        try Files.open("/proc/self/mountinfo", O_RDONLY).readLines(chunk: 512) { lines in
            for mount in MountInfo.parse(lines, fsTypes: cgroupFileSystems) { matcher.add(mount) }
            return matcher.isSettled
        }
        return matcher.host
    }

    /// This process's cgroups where the mounts are known already: `known` was detected by the runtime before it
    /// cloned this process, which shares its mount table, so only /proc/self/cgroup is read again (mountinfo costs
    /// ~70 µs of kernel formatting and a parse, and grows with the host's mounts). Without `known`, `detect()`.
    package static func detect(mountsOf known: CgroupHost?) throws -> CgroupHost {
        guard var host = known else { return try detect() }
        let own = lines(ofSelfCgroup: try Files.readText("/proc/self/cgroup"))
        for index in host.hierarchies.indices {
            if let line = own.first(where: { $0.name == host.hierarchies[index].name }) { host.hierarchies[index].ownPath = line.path }
        }
        return host
    }

    /// /proc/self/cgroup's "<hierarchy id>:<controllers>:<path>" lines (the path may itself hold ':').
    static func lines(ofSelfCgroup text: String) -> [(name: String, path: String)] {
        // On UTF-8 bytes: Character slicing would run the grapheme-break code on every create.
        text.utf8[...].split(separator: UInt8(ascii: "\n")).compactMap { line in
            guard let first = line.firstIndex(of: UInt8(ascii: ":")),
                  let second = line[line.index(after: first)...].firstIndex(of: UInt8(ascii: ":")) else { return nil }
            return (String(decoding: line[line.index(after: first)..<second], as: UTF8.self),
                    String(decoding: line[line.index(after: second)...], as: UTF8.self))
        }
    }

    init(version: CgroupVersion, hierarchies: [Hierarchy]) {
        self.version = version
        self.hierarchies = hierarchies
    }

    /// Parses the two texts (the whole table: see `MountMatcher` for which mount each hierarchy takes).
    package init(mountinfo: String, selfCgroup: String) {
        self.init(mounts: MountInfo.parse(mountinfo, fsTypes: Self.cgroupFileSystems), own: Self.lines(ofSelfCgroup: selfCgroup))
    }

    static let cgroupFileSystems: Set<String> = ["cgroup", "cgroup2"]

    /// Whether a /proc/self/cgroup hierarchy name lists a controller, not only a named hierarchy ("name=systemd").
    static func namesAController(_ name: String) -> Bool {
        name.commaSeparatedItems.contains { !$0.hasBytePrefix("name=") }
    }

    /// From the cgroup mounts of the table (in its order) and /proc/self/cgroup's lines.
    init(mounts: [MountInfoEntry], own: [(name: String, path: String)]) {
        var matcher = MountMatcher(own: own)
        for mount in mounts { matcher.add(mount) }
        self = matcher.host
    }

    /// The rule that picks each hierarchy's mount, fed one mount at a time in the table's order, so that a reader
    /// can stop early. A v1 hierarchy takes the first `cgroup` mount whose super options list all of its
    /// controllers, and a later one only if that one is at the hierarchy's root ("/", a bind of a sub-cgroup
    /// loses to the whole hierarchy); the unified hierarchy takes the first `cgroup2` mount.
    struct MountMatcher {
        private let own: [(name: String, path: String)]
        private let controllers: [[String]]
        private var chosen: [MountInfoEntry?]
        /// Per line, whether its mount is chosen and whether that one is at the root: kept apart so that the
        /// checks of each new mount copy no entry.
        private var found: [Bool]
        private var foundAtRoot: [Bool]
        private var unified: MountInfoEntry?
        /// Whether some line of /proc/self/cgroup names a v1 controller (not only "name=systemd"): then the host is
        /// v1, and settled once each named hierarchy has its mount at the root. Otherwise the first cgroup2 mount
        /// settles it.
        private let namesAV1Controller: Bool

        init(own: [(name: String, path: String)]) {
            self.own = own
            controllers = own.map { $0.name.commaSeparatedItems }
            chosen = Array(repeating: nil, count: own.count)
            found = Array(repeating: false, count: own.count)
            foundAtRoot = found
            namesAV1Controller = own.contains { !$0.name.isEmpty && CgroupHost.namesAController($0.name) }
        }

        mutating func add(_ mount: MountInfoEntry) {
            if mount.fsType == "cgroup2" {
                if unified == nil { unified = mount }
                return
            }
            guard mount.fsType == "cgroup" else { return }
            let atRoot = mount.root == "/"
            for index in own.indices where !foundAtRoot[index] && !own[index].name.isEmpty && (atRoot || !found[index]) {
                if controllers[index].allSatisfy(mount.superOptions.contains) {
                    chosen[index] = mount
                    found[index] = true
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

        /// On a hybrid host (v1 controllers plus a cgroup2 mount at /sys/fs/cgroup/unified) the v1 hierarchies win,
        /// as runc's fs driver does: the cgroup2 mount there holds no controllers we set.
        var host: CgroupHost {
            var v1: [Hierarchy] = []
            var unifiedHierarchy: Hierarchy?
            for (index, line) in own.enumerated() {
                if line.name.isEmpty {
                    if let m = unified {
                        unifiedHierarchy = Hierarchy(name: "", controllers: [], mountPoint: m.mountPoint, mountRoot: m.root, ownPath: line.path)
                    }
                } else if let m = chosen[index] {
                    v1.append(Hierarchy(name: line.name, controllers: controllers[index], mountPoint: m.mountPoint,
                                        mountRoot: m.root, ownPath: line.path))
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
        hierarchies.first { $0.controllers.contains(controller) }
    }
}
