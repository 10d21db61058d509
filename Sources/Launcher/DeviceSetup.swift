import Cgroups
import CShim
import Glibc
import JSON
import OCISpec
import Sys

/// The device nodes and /dev symlinks every container gets (runtime-spec config-linux.md "Default Devices"),
/// plus `linux.devices`. Runs inside the new root, so every path is the container's own.
struct DeviceSetup {
    let plan: ContainerPlan

    struct Node { var path: String; var type: mode_t; var major: UInt32; var minor: UInt32; var mode: mode_t; var uid: uid_t; var gid: gid_t }

    static let defaults: [Node] = [
        Node(path: "/dev/null", type: S_IFCHR, major: 1, minor: 3, mode: 0o666, uid: 0, gid: 0),
        Node(path: "/dev/zero", type: S_IFCHR, major: 1, minor: 5, mode: 0o666, uid: 0, gid: 0),
        Node(path: "/dev/full", type: S_IFCHR, major: 1, minor: 7, mode: 0o666, uid: 0, gid: 0),
        Node(path: "/dev/random", type: S_IFCHR, major: 1, minor: 8, mode: 0o666, uid: 0, gid: 0),
        Node(path: "/dev/urandom", type: S_IFCHR, major: 1, minor: 9, mode: 0o666, uid: 0, gid: 0),
        Node(path: "/dev/tty", type: S_IFCHR, major: 5, minor: 0, mode: 0o666, uid: 0, gid: 0),
    ]

    static let links: [(path: String, target: String)] = [
        ("/dev/fd", "/proc/self/fd"), ("/dev/stdin", "/proc/self/fd/0"), ("/dev/stdout", "/proc/self/fd/1"),
        ("/dev/stderr", "/proc/self/fd/2"), ("/dev/ptmx", "pts/ptmx"), ("/dev/core", "/proc/kcore"),
    ]

    /// `hostNodes`: in a user namespace, the host's nodes to bind (openHostNodes), since mknod is refused there.
    func populate(hostNodes: [String: FileDescriptor] = [:]) throws {
        guard Files.isDirectory("/dev") else { return }
        for node in try wantedNodes() {
            if let host = hostNodes[node.path] { try bind(host, node) } else { try create(node) }
        }
        for link in DeviceSetup.links where Files.lstatMode(link.path) == nil {
            try Files.symlink(target: link.target, at: link.path)
        }
    }

    /// The defaults, replaced or extended by `linux.devices`.
    func wantedNodes() throws -> [Node] {
        var nodes = DeviceSetup.defaults
        for (index, device) in plan.devices.enumerated() {
            nodes.removeAll { $0.path == device.path }
            nodes.append(try DeviceSetup.node(device, index: index))
        }
        return nodes
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

    private func create(_ node: Node) throws {
        if let existing = Files.lstatMode(node.path) {
            // A node bound in by a mount (or shipped in the image as the right type) is kept.
            if existing & S_IFMT == node.type { return }
            try Files.unlink(node.path)
        }
        let parent = String(node.path[..<(node.path.lastIndex(of: "/") ?? node.path.startIndex)])
        if !parent.isEmpty { try Files.makeDirectories(parent) }
        let previous = Files.umask(0)
        defer { _ = Files.umask(previous) }
        try Files.mknod(node.path, mode: node.type | (node.mode & 0o7777), major: node.major, minor: node.minor)
        try Files.chown(node.path, uid: node.uid, gid: node.gid)
    }

    static func major(_ device: dev_t) -> UInt32 { cshim_major(device) }
    static func minor(_ device: dev_t) -> UInt32 { cshim_minor(device) }
}

/// A `cgroup` mount. On cgroup v2 it is a cgroup2 mount; on v1 a tmpfs with each of the host's hierarchies
/// bound in at the container's own cgroup, read-only when asked (what runc shows a container).
struct CgroupMount {
    let mount: ContainerPlan.PlannedMount
    /// In its own cgroup namespace the container mounts each hierarchy afresh: the kernel roots it at the
    /// namespace's root, the container's cgroup. Without one it gets binds of its own cgroup directories.
    let inCgroupNamespace: Bool
    /// The cgroups the init was placed in, read before it made its cgroup namespace (the init is single-threaded).
    nonisolated(unsafe) static var placedHost: CgroupHost?

    func perform(in root: FileDescriptor) throws {
        let target = try Files.openOrCreateInRoot(root, mount.destination, directory: true)
        let flags = mount.options.flags & ~Mounts.bind
        // Read in the init after it joined its cgroups, so `ownPath` is the container's cgroup.
        let host = try CgroupMount.placedHost ?? CgroupHost.detect()
        if host.version == .v2 {
            let fresh = Result { () throws(SysError) in
                try Mounts.mount(source: "cgroup2", target: target.procPath, type: "cgroup2", flags: flags, data: nil,
                                 describe: "cgroup2 on \(mount.destination)")
            }
            guard case .failure(let error) = fresh else { return }
            // The container's own cgroup directory is bound instead where the kernel refuses a fresh cgroup2
            // (runc's fallback): EPERM in a user namespace without its own cgroup namespace; EBUSY where the
            // target is the host's cgroup2 mount itself (a rootless config's rbind of /sys brings it along, and
            // the kernel refuses the same file system on its own root).
            guard error.errno == EPERM || error.errno == EBUSY, let unified = host.hierarchies.first else { throw error }
            try Mounts.mount(source: CgroupMount.ownDirectory(unified), target: target.procPath, type: nil,
                             flags: Mounts.bind | Mounts.recursive, data: nil, describe: "bind cgroup2 on \(mount.destination)")
            let bound = try Files.openOrCreateInRoot(root, mount.destination, directory: true)
            let locked = (try? Mounts.currentFlags(bound.procPath)) ?? 0
            try Mounts.mount(source: nil, target: bound.procPath, type: nil, flags: Mounts.remount | Mounts.bind | flags | locked,
                             data: nil, describe: "remount cgroup2 on \(mount.destination)")
            return
        }
        try Mounts.mount(source: "tmpfs", target: target.procPath, type: "tmpfs", flags: flags & ~Mounts.readOnly,
                         data: "mode=755", describe: "tmpfs on \(mount.destination)")
        for hierarchy in host.hierarchies {
            let name = hierarchy.mountPoint.split(separator: "/").last.map(String.init) ?? ""
            guard !name.isEmpty else { continue }
            let directory = try Files.openOrCreateInRoot(root, mount.destination + "/" + name, directory: true)
            if inCgroupNamespace {
                try Mounts.mount(source: "cgroup", target: directory.procPath, type: "cgroup",
                                 flags: flags | Mounts.noSUID | Mounts.noDev | Mounts.noExec,
                                 data: hierarchy.controllers.joined(separator: ","),
                                 describe: "cgroup \(name) on \(mount.destination)/\(name)")
                continue
            }
            try Mounts.mount(source: CgroupMount.ownDirectory(hierarchy), target: directory.procPath, type: nil,
                             flags: Mounts.bind, data: nil, describe: "bind cgroup \(name) on \(mount.destination)/\(name)")
            let bound = try Files.openOrCreateInRoot(root, mount.destination + "/" + name, directory: true)
            try Mounts.mount(source: nil, target: bound.procPath, type: nil,
                             flags: Mounts.remount | Mounts.bind | flags | Mounts.noSUID | Mounts.noDev | Mounts.noExec,
                             data: nil, describe: "remount cgroup \(name)")
        }
        if flags & Mounts.readOnly != 0 {
            let tmpfs = try Files.openOrCreateInRoot(root, mount.destination, directory: true)
            try Mounts.mount(source: nil, target: tmpfs.procPath, type: nil, flags: Mounts.remount | flags, data: "mode=755",
                             describe: "remount tmpfs on \(mount.destination) read-only")
        }
    }

    /// The directory of our own cgroup in `hierarchy` on the host (the mount may show a sub-tree only).
    static func ownDirectory(_ hierarchy: CgroupHost.Hierarchy) -> String {
        var relative = hierarchy.ownPath
        if hierarchy.mountRoot != "/", relative.hasPrefix(hierarchy.mountRoot) { relative.removeFirst(hierarchy.mountRoot.count) }
        return relative == "/" || relative.isEmpty ? hierarchy.mountPoint : hierarchy.mountPoint + relative
    }
}
