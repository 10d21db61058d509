import Glibc
import OCISpec
import Sys

/// What needs privilege over the host, done the way runc does it inside a user namespace.
extension DeviceSetup {
    /// mknod is refused in a user namespace, so each device node is the host's own, bind-mounted (runc's
    /// bindMountDeviceNode). They are copied as detached mounts while the host's /dev is still reachable (before
    /// pivot_root) and must be what the config asks for: the same type and numbers.
    func openHostNodes() throws -> [String: FileDescriptor] {
        guard plan.inUserNamespace else { return [:] }
        var opened: [String: FileDescriptor] = [:]
        for node in try wantedNodes() {
            let fd: FileDescriptor
            do {
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
        let parent = String(node.path[..<(node.path.lastIndex(of: "/") ?? node.path.startIndex)])
        if !parent.isEmpty { try Files.makeDirectories(parent) }
        if Files.lstatMode(node.path) == nil {
            try Files.open(node.path, O_WRONLY | O_CREAT | O_NOFOLLOW, mode: 0o600).close()
        }
        try Mounts.attach(host, to: node.path)
    }
}

extension RootfsSetup {
    /// One `mounts` entry. In a user namespace the kernel refuses a fresh sysfs unless the network namespace
    /// is ours too, and a fresh mqueue unless the ipc namespace is: the host's is bind-mounted recursively
    /// instead, with the entry's flags (runc falls back the same way).
    /// `copiedSource`: the parent's detached copy of a bind source (openBindSources).
    func perform(_ mount: ContainerPlan.PlannedMount, in root: FileDescriptor, copiedSource: FileDescriptor? = nil) throws {
        guard plan.inUserNamespace, !mount.options.isBind, let host = RootfsSetup.hostSource(mount.type) else {
            return try mountOnce(mount, in: root, copiedSource: copiedSource)
        }
        let owned: NamespaceType = mount.type == "sysfs" ? .network : .ipc
        guard plan.createdNamespaces.contains(owned) else { return try mountOnce(try RootfsSetup.hostBind(mount, host), in: root) }
        do {
            try mountOnce(mount, in: root)
        } catch let error as SysError where error.errno == EPERM {
            try mountOnce(try RootfsSetup.hostBind(mount, host), in: root)
        }
    }

    static func hostSource(_ type: String?) -> String? {
        switch type {
        case "sysfs": return "/sys"
        case "mqueue": return "/dev/mqueue"
        default: return nil
        }
    }

    /// The same mount as an rbind of the host's `source`; flags (ro, nosuid, ...) come with the remount.
    static func hostBind(_ mount: ContainerPlan.PlannedMount, _ source: String) throws -> ContainerPlan.PlannedMount {
        guard Files.exists(source) else {
            throw SysError("\(mount.type ?? "mount") on \(mount.destination): refused in this user namespace (its namespace is "
                           + "not the container's own), and the host has no \(source) to bind instead", errno: EPERM)
        }
        var options = mount.options
        options.isBind = true
        options.flags |= Mounts.bind | Mounts.recursive
        options.data = []
        return ContainerPlan.PlannedMount(source: source, destination: mount.destination, type: nil, options: options)
    }
}
