import Sys

package enum CgroupVersion: String, Sendable { case v1, v2 }

/// What the host runs, read once: the v1 hierarchies (mount point + controllers) or the v2 unified mount,
/// and the caller's own cgroup in each.
package struct CgroupHost: Sendable {
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

    /// Reads /proc/self/mountinfo and /proc/self/cgroup.
    package static func detect() throws -> CgroupHost {
        CgroupHost(
            mountinfo: try Files.readText("/proc/self/mountinfo"),
            selfCgroup: try Files.readText("/proc/self/cgroup"))
    }

    /// Parses the two texts. On a hybrid host (v1 controllers plus a cgroup2 mount at /sys/fs/cgroup/unified)
    /// the v1 hierarchies win, as runc's fs driver does: the cgroup2 mount there holds no controllers we set.
    package init(mountinfo: String, selfCgroup: String) {
        struct Mount { var point: String; var root: String; var fsType: String; var superOptions: [String] }
        var mounts: [Mount] = []
        // Bytes, not Characters: a host has hundreds of mounts and only the cgroup ones matter; splitting each line
        // as a String showed as a quarter of `create`'s checks in profiles.
        let separator = Array(" - ".utf8)
        for line in Array(mountinfo.utf8).split(separator: UInt8(ascii: "\n")) {
            // "<id> <parent> <maj:min> <root> <mount point> <options> [optional fields...] - <fstype> <source> <superopts>"
            guard let dash = Self.firstIndex(of: separator, in: line) else { continue }
            let right = line[(dash + separator.count)...].split(separator: UInt8(ascii: " "), omittingEmptySubsequences: false)
            guard right.count >= 3 else { continue }
            let fsType = String(decoding: right[0], as: UTF8.self)
            guard fsType == "cgroup" || fsType == "cgroup2" else { continue }
            let left = line[..<dash].split(separator: UInt8(ascii: " "))
            guard left.count >= 5 else { continue }
            mounts.append(Mount(
                point: Self.unescape(String(decoding: left[4], as: UTF8.self)), root: Self.unescape(String(decoding: left[3], as: UTF8.self)),
                fsType: fsType, superOptions: right[2].split(separator: UInt8(ascii: ",")).map { String(decoding: $0, as: UTF8.self) }))
        }

        var v1: [Hierarchy] = []
        var unified: Hierarchy?
        for line in selfCgroup.split(separator: "\n") {
            // "<hierarchy id>:<controllers>:<path>"; the path may itself hold ':'.
            let parts = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            guard parts.count == 3 else { continue }
            let name = String(parts[1])
            let ownPath = String(parts[2])
            if name.isEmpty {
                if let m = mounts.first(where: { $0.fsType == "cgroup2" }) {
                    unified = Hierarchy(name: "", controllers: [], mountPoint: m.point, mountRoot: m.root, ownPath: ownPath)
                }
                continue
            }
            let controllers = name.split(separator: ",").map(String.init)
            // The mount whose super options list all of this hierarchy's controllers; prefer one of the whole
            // hierarchy (root "/") over a bind mount of a sub-cgroup.
            let candidates = mounts.filter { m in m.fsType == "cgroup" && controllers.allSatisfy(m.superOptions.contains) }
            guard let m = candidates.first(where: { $0.root == "/" }) ?? candidates.first else { continue }
            v1.append(Hierarchy(name: name, controllers: controllers, mountPoint: m.point, mountRoot: m.root, ownPath: ownPath))
        }
        let hasV1Controllers = v1.contains { h in h.controllers.contains { !$0.hasPrefix("name=") } }
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

    /// Where `needle` first starts in `haystack`.
    static func firstIndex(of needle: [UInt8], in haystack: ArraySlice<UInt8>) -> Int? {
        guard let first = needle.first, haystack.count >= needle.count else { return nil }
        var index = haystack.startIndex
        let last = haystack.endIndex - needle.count
        while index <= last {
            if haystack[index] == first && haystack[index..<(index + needle.count)].elementsEqual(needle) { return index }
            index += 1
        }
        return nil
    }

    /// mountinfo escapes space, tab, newline and backslash as \ooo.
    package static func unescape(_ text: String) -> String {
        guard text.contains("\\") else { return text }
        var out: [UInt8] = []
        let bytes = Array(text.utf8)
        var i = 0
        while i < bytes.count {
            if bytes[i] == UInt8(ascii: "\\"), i + 3 < bytes.count,
               let value = UInt8(String(decoding: bytes[(i + 1)...(i + 3)], as: UTF8.self), radix: 8) {
                out.append(value)
                i += 4
            } else {
                out.append(bytes[i])
                i += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
