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
    /// at its root, no later mount can change the result (cgroup mounts come early in the table). The lines are
    /// parsed as they arrive, each once.
    package static func detect() throws -> CgroupHost {
        let own = lines(ofSelfCgroup: try Files.readText("/proc/self/cgroup"))
        var mounts: [MountInfoEntry] = []
        var host: CgroupHost?
        try Files.open("/proc/self/mountinfo", O_RDONLY).readLines(chunk: 512) { lines in
            let found = MountInfo.parse(lines, fsTypes: cgroupFileSystems)
            // No cgroup mount in these lines: the result so far, not settled, stays as it was.
            if found.isEmpty { return false }
            mounts += found
            let sofar = CgroupHost(mounts: mounts, own: own)
            host = sofar
            return sofar.isSettled(own)
        }
        return host ?? CgroupHost(mounts: [], own: own)
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

    /// Whether this result, parsed from the start of a mount table, is the one the whole table gives. A v1
    /// hierarchy takes the first mount at its root (a later one cannot win over it) and the unified one the first
    /// cgroup2 mount; the version is v1 as soon as a v1 controller is mounted. With a controller named in
    /// /proc/self/cgroup, v1 is settled when every named hierarchy is found at its root; without one, v2 is
    /// settled by its first cgroup2 mount.
    func isSettled(_ own: [(name: String, path: String)]) -> Bool {
        let named = own.map(\.name).filter { !$0.isEmpty }
        let withController = named.contains(where: Self.namesAController)
        if withController {
            return version == .v1 && hierarchies.count == named.count && hierarchies.allSatisfy { $0.mountRoot == "/" }
        }
        return version == .v2
    }

    /// /proc/self/cgroup's "<hierarchy id>:<controllers>:<path>" lines (the path may itself hold ':').
    static func lines(ofSelfCgroup text: String) -> [(name: String, path: String)] {
        // On UTF-8 bytes: Character slicing would run the grapheme-break code on every create.
        text.utf8[...].split(separator: UInt8(ascii: "\n")).compactMap { line in
            let parts = line.split(separator: UInt8(ascii: ":"), maxSplits: 2, omittingEmptySubsequences: false)
            guard parts.count == 3 else { return nil }
            return (String(decoding: parts[1], as: UTF8.self), String(decoding: parts[2], as: UTF8.self))
        }
    }

    /// Parses the two texts. On a hybrid host (v1 controllers plus a cgroup2 mount at /sys/fs/cgroup/unified)
    /// the v1 hierarchies win, as runc's fs driver does: the cgroup2 mount there holds no controllers we set.
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
        var v1: [Hierarchy] = []
        var unified: Hierarchy?
        for (name, ownPath) in own {
            if name.isEmpty {
                if let m = mounts.first(where: { $0.fsType == "cgroup2" }) {
                    unified = Hierarchy(name: "", controllers: [], mountPoint: m.mountPoint, mountRoot: m.root, ownPath: ownPath)
                }
                continue
            }
            let controllers = name.commaSeparatedItems
            // The mount whose super options list all of this hierarchy's controllers; prefer one of the whole
            // hierarchy (root "/") over a bind mount of a sub-cgroup.
            let candidates = mounts.filter { m in m.fsType == "cgroup" && controllers.allSatisfy(m.superOptions.contains) }
            guard let m = candidates.first(where: { $0.root == "/" }) ?? candidates.first else { continue }
            v1.append(Hierarchy(name: name, controllers: controllers, mountPoint: m.mountPoint, mountRoot: m.root, ownPath: ownPath))
        }
        let hasV1Controllers = v1.contains { Self.namesAController($0.name) }
        if hasV1Controllers || unified == nil {
            version = .v1
            hierarchies = v1
        } else {
            version = .v2
            hierarchies = [unified!]
        }
    }

    /// The v1 hierarchy that holds `controller`, if mounted.
    func hierarchy(for controller: String) -> Hierarchy? {
        hierarchies.first { $0.controllers.contains(controller) }
    }
}
