import CShim
import Glibc
import JSON
import OCISpec
import Plan
import Sys

/// The device nodes and /dev symlinks every container gets (runtime-spec config-linux.md "Default Devices"),
/// plus `linux.devices`. Runs inside the new root, so every path is the container's own.
struct DeviceSetup {
    let plan: ContainerPlan

    struct Node { var path: String; var type: mode_t; var major: UInt32; var minor: UInt32; var mode: mode_t; var uid: uid_t; var gid: gid_t }

    // The defaults are a switch and the links pairs in a `[String]`, not arrays of a type of their own: each such
    // array's storage class is made at run time once per process, and the two tables were ~6 µs of every create.
    static let defaultNodes = 6

    static func defaultNode(_ index: Int) -> Node {
        func node(_ path: String, _ major: UInt32, _ minor: UInt32) -> Node {
            Node(path: path, type: S_IFCHR, major: major, minor: minor, mode: 0o666, uid: 0, gid: 0)
        }
        switch index {
        case 0: return node("/dev/null", 1, 3)
        case 1: return node("/dev/zero", 1, 5)
        case 2: return node("/dev/full", 1, 7)
        case 3: return node("/dev/random", 1, 8)
        case 4: return node("/dev/urandom", 1, 9)
        default: return node("/dev/tty", 5, 0)
        }
    }

    /// Each link's path, then its target.
    static let links = [
        "/dev/fd", "/proc/self/fd", "/dev/stdin", "/proc/self/fd/0", "/dev/stdout", "/proc/self/fd/1",
        "/dev/stderr", "/proc/self/fd/2", "/dev/ptmx", "pts/ptmx", "/dev/core", "/proc/kcore",
    ]

    /// `hostNodes`: in a user namespace, the host's nodes to bind (openHostNodes), since mknod is refused there.
    func populate(hostNodes: [String: FileDescriptor] = [:]) throws {
        guard let dev = try? Files.status("/dev"), dev.st_mode & S_IFMT == S_IFDIR else { return }
        // Modes exactly as the config gives them: the umask is cleared once for every node.
        let previous = Files.umask(0)
        defer { _ = Files.umask(previous) }
        var parents = KnownDirectories(["/dev"])
        let madeOwner = DeviceSetup.ownerOfNewNodes(in: dev)
        try forEachWantedNode { node in
            try parents.make(parentOf: node.path)
            if let host = hostNodes[node.path] {
                try bind(host, node)
            } else {
                // A node mknod gives the owner it wants already needs no chown (the defaults, as root: six path walks).
                let owned = PathText.beforeLastSlash(node.path) == "/dev" && (node.uid, node.gid) == madeOwner
                try create(node, chown: !owned)
            }
        }
        // Made first and looked at only when something is there already: /dev is nearly always a fresh tmpfs.
        for index in stride(from: 0, to: DeviceSetup.links.count, by: 2) {
            do {
                try Files.symlink(target: DeviceSetup.links[index + 1], at: DeviceSetup.links[index])
            } catch {
                // Whatever the image or a mount put there stays. (No `catch where` with an empty body: Swift
                // 6.3.1 crashes compiling that with typed throws.)
                if error.errno != EEXIST { throw error }
            }
        }
    }

    /// The defaults, replaced or extended by `linux.devices`, one by one: the defaults no device replaces, then the
    /// devices in their order, each but the last of those that share a path.
    func forEachWantedNode(_ body: (Node) throws -> Void) throws {
        for index in 0..<DeviceSetup.defaultNodes {
            let node = DeviceSetup.defaultNode(index)
            if !plan.devices.contains(where: { $0.path == node.path }) { try body(node) }
        }
        for (index, device) in plan.devices.enumerated()
        where !plan.devices[(index + 1)...].contains(where: { $0.path == device.path }) {
            try body(try DeviceSetup.node(device, index: index))
        }
    }

    static func node(_ device: OCISpec.Device, index: Int) throws -> Node {
        let type: mode_t
        switch device.type {
        case "c", "u": type = S_IFCHR
        case "b": type = S_IFBLK
        case "p": type = S_IFIFO
        default: throw PlanError(".linux.devices[\(index)].type", "unknown device type \(jsonQuote(device.type))")
        }
        return Node(path: device.path, type: type, major: UInt32(truncatingIfNeeded: device.major ?? 0),
                    minor: UInt32(truncatingIfNeeded: device.minor ?? 0), mode: mode_t(device.fileMode ?? 0o666),
                    uid: device.uid ?? 0, gid: device.gid ?? 0)
    }

    /// Who owns what mknod makes directly in `dev`: the fsuid (crabcan never sets it apart from the euid), and the
    /// directory's group where it is set-group-ID, else the fsgid.
    static func ownerOfNewNodes(in dev: Glibc.stat) -> (uid_t, gid_t) {
        (Processes.effectiveUID, dev.st_mode & S_ISGID != 0 ? dev.st_gid : Processes.effectiveGID)
    }

    private func create(_ node: Node, chown: Bool) throws {
        let mode = node.type | (node.mode & 0o7777)
        do {
            try Files.mknod(node.path, mode: mode, major: node.major, minor: node.minor)
        } catch where error.errno == EEXIST {
            // A node bound in by a mount (or shipped in the image as the right type) is kept.
            if let existing = Files.lstatMode(node.path), existing & S_IFMT == node.type { return }
            try Files.unlink(node.path)
            try Files.mknod(node.path, mode: mode, major: node.major, minor: node.minor)
        }
        if chown { try Files.chown(node.path, uid: node.uid, gid: node.gid) }
    }

    /// The directories nodes go into, made (mkdir -p) the first time one is needed: nearly always only /dev,
    /// which exists, so there is no stat per node.
    struct KnownDirectories {
        var known: [String]
        init(_ known: [String]) { self.known = known }

        mutating func make(parentOf path: String) throws {
            let parent = PathText.beforeLastSlash(path) ?? ""
            if parent.isEmpty || known.contains(parent) { return }
            if !Files.isDirectory(parent) { try Files.makeDirectories(parent) }
            known.append(parent)
        }
    }

    static func major(_ device: dev_t) -> UInt32 { cshim_major(device) }
    static func minor(_ device: dev_t) -> UInt32 { cshim_minor(device) }
}

// MARK: in a user namespace: what needs privilege over the host, done the way runc does it there

extension DeviceSetup {
    /// mknod is refused in a user namespace, so each device node is the host's own, bind-mounted (runc's
    /// bindMountDeviceNode). They are copied as detached mounts while the host's /dev is still reachable (before
    /// pivot_root) and must be what the config asks for: the same type and numbers.
    func openHostNodes() throws -> [String: FileDescriptor] {
        guard plan.inUserNamespace else { return [:] }
        var opened: [String: FileDescriptor] = [:]
        try forEachWantedNode { node in
            let fd: FileDescriptor
            do throws(SysError) {
                fd = try Files.open(node.path, O_PATH | O_NOFOLLOW)
            } catch {
                throw SysError("device \(node.path): a user namespace cannot mknod, and the host has none to bind", errno: error.errno)
            }
            let st = try Files.status(fd)
            let same = st.st_mode & S_IFMT == node.type
                && (node.type == S_IFIFO || (DeviceSetup.major(st.st_rdev) == node.major && DeviceSetup.minor(st.st_rdev) == node.minor))
            guard same else {
                throw SysError("device \(node.path): the host's node is not \(node.major):\(node.minor) of the asked type", errno: EINVAL)
            }
            opened[node.path] = try Mounts.detachedCopy(of: fd, describe: node.path)
        }
        return opened
    }

    /// Attaches the host's node over an empty file; mode and owner stay the host's (a chown would change the
    /// host's node).
    func bind(_ host: FileDescriptor, _ node: Node) throws {
        if let existing = Files.lstatMode(node.path), existing & S_IFMT != S_IFREG { try Files.unlink(node.path) }
        if Files.lstatMode(node.path) == nil {
            try Files.open(node.path, O_WRONLY | O_CREAT | O_NOFOLLOW, mode: 0o600).close()
        }
        try Mounts.attach(host, to: node.path)
    }
}
