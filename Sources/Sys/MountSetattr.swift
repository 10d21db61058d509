import CShim
import Glibc

/// Idmapped mounts (mount_setattr(2), MOUNT_ATTR_IDMAP, Linux 5.12): a detached copy of a mount shows its files'
/// owners through the mappings of a user namespace, without a chown of the files themselves.
extension Mounts {
    /// Whether the kernel has mount_setattr, and with it MOUNT_ATTR_IDMAP (a probe that changes nothing).
    package static var idmapSupported: Bool { cshim_idmap_supported() == 1 }

    /// Sets MOUNT_ATTR_IDMAP on the detached copy `fd` (open_tree OPEN_TREE_CLONE, never attached yet: the kernel
    /// refuses a mount already in a namespace), taking the mappings of `userNamespace`; `recursive` for every mount
    /// of the copied tree. EINVAL: the filesystem does not allow idmapped mounts on this kernel.
    package static func setIDMapping(_ fd: FileDescriptor, userNamespace: FileDescriptor, recursive: Bool,
                                    describe: String) throws(SysError) {
        try check("mount_setattr MOUNT_ATTR_IDMAP", describe) {
            cshim_mount_setattr_idmap(fd.raw, userNamespace.raw, recursive ? 1 : 0)
        }
    }
}

package enum UserNamespaces {
    /// An fd of a new user namespace with these maps ("inside outside count" lines) and nothing in it: a child is
    /// cloned into it, its maps written from here (we need CAP_SETUID and CAP_SETGID over our own namespace), the
    /// namespace opened through /proc and the child killed. The fd keeps the namespace alive (runc's userns helper).
    package static func withMappings(uidMap: String, gidMap: String) throws(SysError) -> FileDescriptor {
        let parent = getpid()
        let pid = try Processes.clone(flags: Namespaces.user)
        if pid == 0 {
            // Only holds the namespace open until the parent has it; goes with the parent if that dies first.
            _ = try? Processes.dieWithParent()
            if getppid() != parent { _exit(0) }
            while true { pause() }
        }
        defer {
            _ = try? Processes.kill(pid, SIGKILL)
            _ = try? Processes.wait(pid)
        }
        try IDMaps.write(pid: pid, file: "uid_map", uidMap)
        try IDMaps.write(pid: pid, file: "gid_map", gidMap)
        return try Files.open("/proc/\(pid)/ns/user", O_RDONLY | O_CLOEXEC)
    }
}
