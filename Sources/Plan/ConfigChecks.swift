import Glibc
import JSON
import OCISpec
import Sys

/// Checks of a config against what the kernel and the rootfs will accept, made before clone so that a
/// mistake is named by its JSON path instead of surfacing as an errno from inside the container's init.
package enum ConfigChecks {
    /// The kernel takes at most this many lines in uid_map and gid_map (UID_GID_MAP_MAX_EXTENTS, Linux 4.15+).
    static let maxMappingLines = 340
    /// (uid_t)-1 is no id; the kernel refuses a map line that reaches it or wraps around.
    static let highestID: UInt64 = UInt64(UInt32.max) - 1

    /// The kernel takes a map in one write of less than a page.
    static let maxMappingText = 4095

    /// uid_map/gid_map rules (user_namespaces(7)): a non-empty range that stays below 2^32-1, no two lines
    /// overlapping on either side, at most 340 lines in under a page; the kernel refuses anything else with a
    /// bare EINVAL. The one rule for a user namespace's maps and an idmapped mount's.
    package static func mappings(_ maps: [IDMapping], path: String, kind: String, required: Bool = false) -> [PlanError] {
        var problems: [PlanError] = []
        // Most configs have no user namespace: nothing to check, and no tuple metadata to build by name.
        if maps.isEmpty { return required ? [PlanError(path, "a new user namespace needs \(kind) mappings")] : [] }
        let bytes = UserNamespacePlan.text(maps).utf8.count
        if bytes > maxMappingText { problems.append(PlanError(path, "the map is \(bytes) bytes; the kernel takes at most \(maxMappingText)")) }
        if maps.count > maxMappingLines {
            problems.append(PlanError(path, "\(maps.count) mappings; the kernel takes at most \(maxMappingLines)"))
        }
        var valid: [(index: Int, mapping: IDMapping)] = []
        for (index, map) in maps.enumerated() {
            let entry = "\(path)[\(index)]"
            if map.size == 0 {
                problems.append(PlanError(entry + ".size", "must be greater than zero"))
                continue
            }
            var inRange = true
            for (side, first, field) in [("container", map.containerID, "containerID"), ("host", map.hostID, "hostID")] {
                let last = UInt64(first) + UInt64(map.size) - 1
                if last > highestID {
                    problems.append(PlanError(entry + "." + field, "\(side) \(kind)s \(first)...\(last) go past \(highestID), the highest \(kind)"))
                    inRange = false
                }
            }
            if !inRange { continue }
            for (otherIndex, other) in valid {
                if overlap(map.containerID, map.size, other.containerID, other.size) {
                    problems.append(PlanError(entry + ".containerID", "container \(kind)s \(range(map.containerID, map.size)) overlap \(path)[\(otherIndex)] (\(range(other.containerID, other.size)))"))
                } else if overlap(map.hostID, map.size, other.hostID, other.size) {
                    problems.append(PlanError(entry + ".hostID", "host \(kind)s \(range(map.hostID, map.size)) overlap \(path)[\(otherIndex)] (\(range(other.hostID, other.size)))"))
                }
            }
            valid.append((index, map))
        }
        return problems
    }

    static func overlap(_ a: UInt32, _ aSize: UInt32, _ b: UInt32, _ bSize: UInt32) -> Bool {
        UInt64(a) < UInt64(b) + UInt64(bSize) && UInt64(b) < UInt64(a) + UInt64(aSize)
    }

    static func range(_ first: UInt32, _ size: UInt32) -> String { "\(first)...\(UInt64(first) + UInt64(size) - 1)" }

    /// A new user namespace needs both maps (an unmapped process is nobody and cannot set up anything);
    /// maps without any user namespace would be ignored; the process's ids must be mapped or setuid fails.
    static func userNamespace(linux: OCISpec.Linux?, process: OCISpec.Process?, created: NamespaceSet,
                              joined: [ContainerPlan.NamespaceJoin]) -> [PlanError] {
        guard let linux else { return [] }
        let uidProblems = mappings(linux.uidMappings, path: ".linux.uidMappings", kind: "uid")
        let gidProblems = mappings(linux.gidMappings, path: ".linux.gidMappings", kind: "gid")
        var problems = uidProblems + gidProblems
        // Mappings are for a new user namespace: a joined one has its own.
        guard created.contains(.user) else {
            // Two ifs, not a loop over (mappings, path) pairs: that array's type was made at run time by every
            // `run`, user namespace or not (docs/performance.md, session 22).
            if !linux.uidMappings.isEmpty { problems.append(PlanError(".linux.uidMappings", "needs a new user namespace in .linux.namespaces")) }
            if !linux.gidMappings.isEmpty { problems.append(PlanError(".linux.gidMappings", "needs a new user namespace in .linux.namespaces")) }
            return problems
        }
        if linux.uidMappings.isEmpty { problems.append(PlanError(".linux.uidMappings", "a new user namespace needs uid mappings")) }
        if linux.gidMappings.isEmpty { problems.append(PlanError(".linux.gidMappings", "a new user namespace needs gid mappings")) }
        if let user = process?.user {
            let mapped = { (id: UInt32, maps: [IDMapping]) in UserNamespacePlan.maps(id, in: maps) }
            // Against a list that is itself wrong, "not mapped" would only repeat its problem.
            if !linux.uidMappings.isEmpty && uidProblems.isEmpty && !mapped(user.uid, linux.uidMappings) {
                problems.append(PlanError(".process.user.uid", "\(user.uid) is not mapped by .linux.uidMappings"))
            }
            if !linux.gidMappings.isEmpty && gidProblems.isEmpty {
                if !mapped(user.gid, linux.gidMappings) {
                    problems.append(PlanError(".process.user.gid", "\(user.gid) is not mapped by .linux.gidMappings"))
                }
                for (index, gid) in user.additionalGids.enumerated() where !mapped(gid, linux.gidMappings) {
                    problems.append(PlanError(".process.user.additionalGids[\(index)]", "\(gid) is not mapped by .linux.gidMappings"))
                }
            }
        }
        return problems
    }

    /// True when `..` components take the path above `/`. The mount code would stop them at the root (it walks
    /// fd by fd), so this cannot escape, but such a destination never means what its author thought.
    static func climbsAboveRoot(_ path: String) -> Bool {
        // Component by component as the bytes go by: no list of them is made.
        var depth = 0
        var length = 0
        var dots = 0
        func endOfComponent() -> Bool {
            defer { (length, dots) = (0, 0) }
            if length == 2 && dots == 2 {
                if depth == 0 { return true }
                depth -= 1
            } else if length > 0 && !(length == 1 && dots == 1) {
                depth += 1
            }
            return false
        }
        for byte in path.utf8 {
            if byte == UInt8(ascii: "/") {
                if endOfComponent() { return true }
            } else {
                length += 1
                if byte == UInt8(ascii: ".") { dots += 1 }
            }
        }
        return endOfComponent()
    }

    /// `/a/./b/../c` → `/a/c`, lexically (no symlinks followed); `..` stops at `/`.
    package static func clean(_ path: String) -> String {
        // On UTF-8 bytes, in one pass: a path is bytes, and Character slicing runs the grapheme-break code. No
        // list of components: each array type is made at run time once per process (docs/performance.md).
        let input = Array(path.utf8)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(input.count + 1)
        var start = 0
        while start < input.count {
            var end = start
            while end < input.count && input[end] != UInt8(ascii: "/") { end += 1 }
            let length = end - start
            if length == 2 && input[start] == UInt8(ascii: ".") && input[start + 1] == UInt8(ascii: ".") {
                // `..` drops the last component; at the root it stays there.
                if let slash = bytes.lastIndex(of: UInt8(ascii: "/")) { bytes.removeSubrange(slash...) }
            } else if length > 0 && !(length == 1 && input[start] == UInt8(ascii: ".")) {
                bytes.append(UInt8(ascii: "/"))
                bytes.append(contentsOf: input[start..<end])
            }
            start = end + 1
        }
        return bytes.isEmpty ? "/" : String(decoding: bytes, as: UTF8.self)
    }

    enum Probe {
        case executable, missing, unknown
        case notExecutable(String)
    }

    /// Where `process.args[0]` would be found, searched as the init will search it (`Executables.candidates`),
    /// in the rootfs before any mount, or in a bind mount's source when the path lies under its destination.
    /// nil when found, or when a mount of another kind covers it (what it will hold is not known before).
    static func program(_ process: OCISpec.Process, rootfs: String, mounts: [ContainerPlan.PlannedMount],
                        searchPath: String) -> PlanError? {
        guard let name = process.args.first else { return nil }
        let path = ".process.args[0]"
        if name.isEmpty { return PlanError(path, "must not be empty") }
        guard let root = try? Files.open(rootfs, O_PATH | O_DIRECTORY) else { return nil }
        var refusal: String?
        for candidate in ProgramSearch.candidates(name, searchPath: searchPath, cwd: process.cwd) {
            let absolute = candidate.hasBytePrefix("/") ? candidate : process.cwd + "/" + candidate
            switch probe(clean(absolute), root: root, mounts: mounts) {
            case .executable, .unknown: return nil
            case .missing: continue
            // runc's words, which podman and dockerd map to exit code 126.
            case .notExecutable(let reason): if refusal == nil { refusal = "\(jsonQuote(candidate)): permission denied (\(reason))" }
            }
        }
        if let refusal { return PlanError(path, refusal) }
        // runc's words, which podman maps to exit code 127 ("no such file or directory", "executable file not found").
        if name.contains("/") { return PlanError(path, "\(jsonQuote(name)): no such file or directory in the rootfs") }
        return PlanError(path, "\(jsonQuote(name)): executable file not found in $PATH (\(searchPath))")
    }

    static func probe(_ path: String, root: FileDescriptor, mounts: [ContainerPlan.PlannedMount]) -> Probe {
        // The last mount whose destination holds the path hides what is below it.
        for mount in mounts.reversed() {
            let destination = clean(mount.destination)
            let prefix = destination == "/" ? "/" : destination + "/"
            guard path == destination || path.hasBytePrefix(prefix) else { continue }
            guard mount.options.isBind, let source = mount.source else { return .unknown }
            let rest = path == destination ? "" : "/" + path.dropFirst(prefix.count)
            return kind(Files.statIfExists(source + rest))
        }
        return kind(Files.statInRoot(root, path))
    }

    static func kind(_ status: Glibc.stat?) -> Probe {
        guard let status else { return .missing }
        switch status.st_mode & S_IFMT {
        case S_IFDIR: return .notExecutable("is a directory")
        case S_IFREG: return status.st_mode & 0o111 != 0 ? .executable : .notExecutable("is not executable")
        default: return .notExecutable("is not a regular file")
        }
    }
}
