import JSON
import OCISpec
import Sys

/// Where the systemd driver puts a container: `linux.cgroupsPath` as "slice:prefix:name" (runc --systemd-cgroup),
/// read as a parent slice and a unit: a scope "<prefix>-<name>.scope", or the slice "<name>" itself.
package struct SystemdUnitPath: Sendable, Equatable {
    /// The parent slice ("system.slice"); "-.slice" is the root slice.
    package var slice: String
    /// "crabcan-c1.scope", or a slice name.
    package var unit: String

    package init(slice: String, unit: String) {
        self.slice = slice
        self.unit = unit
    }

    package var isSlice: Bool { unit.hasByteSuffix(".slice") }

    static let field = ".linux.cgroupsPath"

    /// Without a cgroupsPath: ":crabcan:<id>". An empty slice is system.slice (user.slice for a rootless caller).
    package static func parse(_ cgroupsPath: String?, id: String, rootless: Bool) throws(ConfigProblem) -> SystemdUnitPath {
        let requested = (cgroupsPath ?? "").isEmpty ? ":crabcan:\(id)" : cgroupsPath!
        let parts = requested.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 3 else {
            throw ConfigProblem(field, "expected \"slice:prefix:name\" for the systemd cgroup driver, got \(jsonQuote(requested))")
        }
        let slice = parts[0].isEmpty ? (rootless ? "user.slice" : "system.slice") : parts[0]
        _ = try expandSlice(slice)
        guard !parts[2].isEmpty else { throw ConfigProblem(field, "the name (after the second ':') must not be empty: \(jsonQuote(requested))") }
        let unit = parts[2].hasByteSuffix(".slice") ? parts[2] : "\(parts[1])-\(parts[2]).scope"
        if unit.hasByteSuffix(".slice") { _ = try expandSlice(unit) }
        // systemd's unit name alphabet (unit_name_is_valid); anything else it would refuse less clearly.
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789:-_.\\@")
        guard unit.count <= 255, unit.allSatisfy(allowed.contains) else {
            throw ConfigProblem(field, "\(jsonQuote(unit)) is not a valid systemd unit name")
        }
        return SystemdUnitPath(slice: slice, unit: unit)
    }

    /// "a-b.slice" → "/a.slice/a-b.slice", as systemd nests slices by their dashes; "-.slice" → "/".
    package static func expandSlice(_ slice: String) throws(ConfigProblem) -> String {
        guard slice.hasByteSuffix(".slice"), slice.count > 6, !slice.contains("/") else {
            throw ConfigProblem(field, "invalid slice name \(jsonQuote(slice)) (a name ending in .slice, without '/')")
        }
        let stem = slice.dropLast(6)
        if stem == "-" { return "/" }
        var path = "", prefix = ""
        for component in stem.split(separator: "-", omittingEmptySubsequences: false) {
            guard !component.isEmpty else { throw ConfigProblem(field, "invalid slice name \(jsonQuote(slice)) (empty part between dashes)") }
            path += "/" + prefix + component + ".slice"
            prefix += component + "-"
        }
        return path
    }

    /// The unit's cgroup relative to the manager's own: a scope sits in its slice; a slice is where its name says.
    package var relativePath: String {
        let parent = isSlice ? "" : ((try? Self.expandSlice(slice)) ?? "")
        let own = isSlice ? ((try? Self.expandSlice(unit)) ?? "/" + unit) : "/" + unit
        return (parent == "/" ? "" : parent) + own
    }

    /// The unit's directory in each mounted hierarchy. `managerRoot` is the manager's own cgroup ("" for the
    /// system manager; "/user.slice/user-1000.slice/user@1000.service" for a user's).
    package func plan(host: CgroupHost, managerRoot: String = "") throws(ConfigProblem) -> CgroupSet {
        if host.hierarchies.isEmpty { throw ConfigProblem(Self.field, "no cgroup hierarchy is mounted on this host") }
        let inHierarchy = CgroupSet.join(managerRoot.isEmpty ? "/" : managerRoot, relativePath)
        var paths: [String: String] = [:]
        for h in host.hierarchies {
            var belowMount = inHierarchy
            if h.mountRoot != "/" && (inHierarchy == h.mountRoot || inHierarchy.hasBytePrefix(h.mountRoot + "/")) {
                belowMount = String(inHierarchy.dropFirst(h.mountRoot.count))
            }
            paths[h.name] = CgroupSet.join(h.mountPoint, belowMount)
        }
        return CgroupSet(version: host.version, paths: paths)
    }
}
