import JSON
import OCISpec
import Sys

/// Where a container's cgroup directories are, in the host's cgroup version.
package enum CgroupLayout: Sendable, Equatable {
    /// One directory per mounted hierarchy, sorted by hierarchy name.
    case v1([Hierarchy])
    /// The one directory; nil when there is none to use (an unprivileged caller without a delegated cgroup).
    case v2(String?)

    /// A v1 hierarchy's directory for the container.
    package struct Hierarchy: Sendable, Equatable {
        /// As /proc/self/cgroup names it: "memory", "cpu,cpuacct", "name=systemd".
        package var name: String
        package var directory: String
        package var controllers: [String] { name.commaSeparatedItems }
        package func holds(_ controller: String) -> Bool { name.hasCommaSeparatedItem(controller) }

        package init(name: String, directory: String) {
            self.name = name
            self.directory = directory
        }
    }
}

/// The container's cgroup(s): v1 = one directory per hierarchy, v2 = one directory.
package struct CgroupSet: Sendable, Equatable {
    package var layout: CgroupLayout

    package init(_ layout: CgroupLayout) { self.layout = layout }

    /// From state.json's form (`cgroupVersion`, `cgroupPaths`): v1 hierarchy name → directory; v2 "" → directory.
    package init(version: CgroupVersion, paths: [String: String]) {
        switch version {
        case .v1: layout = .v1(paths.keys.sorted().map { CgroupLayout.Hierarchy(name: $0, directory: paths[$0]!) })
        case .v2: layout = .v2(paths[""])
        }
    }

    package var version: CgroupVersion {
        switch layout {
        case .v1: .v1
        case .v2: .v2
        }
    }

    /// state.json's form of the layout (kept as it was, so a container made by an older binary is still found).
    package var paths: [String: String] {
        get {
            switch layout {
            case .v1(let hierarchies):
                // A loop, not Dictionary(pairs): the array of pairs is a type made at run time for it alone.
                var paths = [String: String](minimumCapacity: hierarchies.count)
                for h in hierarchies where paths[h.name] == nil { paths[h.name] = h.directory }
                return paths
            case .v2(let directory): return directory.map { ["": $0] } ?? [:]
            }
        }
        set { self = CgroupSet(version: version, paths: newValue) }
    }

    /// Every directory, sorted by hierarchy name.
    package var directories: [String] {
        switch layout {
        case .v1(let hierarchies): hierarchies.map(\.directory)
        case .v2(let directory): directory.map { [$0] } ?? []
        }
    }

    /// Where a container's cgroup goes. An absolute `cgroupsPath` is relative to each hierarchy's root; a relative
    /// one to the caller's own cgroup in each hierarchy (runc's fs driver); nil means "/crabcan/<id>".
    package static func plan(cgroupsPath: String?, id: String, host: CgroupHost) throws(ConfigProblem) -> CgroupSet {
        let field = ".linux.cgroupsPath"
        let requested = cgroupsPath ?? "/crabcan/\(id)"
        if requested.isEmpty { throw ConfigProblem(field, "must not be empty") }
        // "slice:prefix:name" is the systemd driver's form: without the flag it would be misread as a directory.
        if !PathText.isAbsolute(requested) && requested.utf8.contains(UInt8(ascii: ":")) {
            throw ConfigProblem(field, "a systemd cgroup path (\"slice:prefix:name\") needs --systemd-cgroup: \(jsonQuote(requested))")
        }
        let components = PathText.components(requested)
        // A ".." would place the container's cgroup outside the subtree it names (and could hand it a
        // cgroup the runtime does not own), so refuse rather than clean it like filepath.Clean would.
        if components.contains("..") { throw ConfigProblem(field, "must not contain \"..\": \(jsonQuote(requested))") }
        let cleaned = PathText.joined(components.filter { $0 != "." })
        if cleaned.isEmpty { throw ConfigProblem(field, "must name a cgroup below the root: \(jsonQuote(requested))") }
        if host.hierarchies.isEmpty { throw ConfigProblem(field, "no cgroup hierarchy is mounted on this host") }

        // Sized once: growing it rehashed every key at each doubling (a tenth of `check`'s cgroup work).
        var paths = [String: String](minimumCapacity: host.hierarchies.count)
        let absolute = PathText.isAbsolute(requested)
        for h in host.hierarchies {
            // The usual case, an absolute path under a hierarchy mounted whole: `cleaned` as it is below the mount
            // point (it is joined components already). Made for each hierarchy, it was five strings and arrays.
            if absolute && h.mountRoot == "/" {
                paths[h.name] = join(h.mountPoint, cleaned)
                continue
            }
            // Path inside the hierarchy, then made relative to what is mounted at the mount point.
            let inHierarchy = absolute ? "/" + cleaned : join(h.ownPath, cleaned)
            var belowMount = inHierarchy
            if h.mountRoot != "/" && (inHierarchy == h.mountRoot || inHierarchy.hasBytePrefix(h.mountRoot + "/")) {
                belowMount = String(decoding: inHierarchy.utf8.dropFirst(h.mountRoot.utf8.count), as: UTF8.self)
            }
            paths[h.name] = join(h.mountPoint, belowMount)
        }
        return CgroupSet(version: host.version, paths: paths)
    }

    static func join(_ a: String, _ b: String) -> String {
        let tail = PathText.relativeNormalized(b)
        if tail.isEmpty { return a }
        var joined = a
        joined.reserveCapacity(a.utf8.count + 1 + tail.utf8.count)
        if a.utf8.last != UInt8(ascii: "/") { joined += "/" }
        joined += tail
        return joined
    }
}
