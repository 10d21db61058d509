import CShim
import Glibc

package enum Namespaces {
    package static let mount = CS_CLONE_NEWNS, uts = CS_CLONE_NEWUTS, ipc = CS_CLONE_NEWIPC, user = CS_CLONE_NEWUSER
    package static let pid = CS_CLONE_NEWPID, network = CS_CLONE_NEWNET, cgroup = CS_CLONE_NEWCGROUP, time = CS_CLONE_NEWTIME

    package static func join(_ fd: FileDescriptor, type: UInt, path: String) throws(SysError) {
        try check("setns", path) { cshim_setns(fd.raw, Int32(type)) }
    }

    package static func unshare(_ flags: UInt) throws(SysError) {
        try check("unshare") { cshim_unshare(Int32(flags)) }
    }

    /// Whether `fd` is open on a mount namespace's nsfs file (statfs's NSFS_MAGIC, then NS_GET_NSTYPE, Linux 4.11).
    package static func isMountNamespace(_ fd: FileDescriptor) -> Bool {
        let nsfsMagic = 0x6e73_6673, getNamespaceType: UInt = 0xb703  // _IO(0xb7, 3)
        return cshim_fd_fs_type(fd.raw) == nsfsMagic && cshim_ioctl_int(fd.raw, getNamespaceType, 0) == Int32(mount)
    }
}

package enum Mounts {
    package static let readOnly = CS_MS_RDONLY, noSUID = CS_MS_NOSUID, noDev = CS_MS_NODEV, noExec = CS_MS_NOEXEC
    package static let synchronous = CS_MS_SYNCHRONOUS, remount = CS_MS_REMOUNT, mandatoryLock = CS_MS_MANDLOCK
    package static let dirSync = CS_MS_DIRSYNC, noSymFollow = CS_MS_NOSYMFOLLOW, noAtime = CS_MS_NOATIME
    package static let noDirAtime = CS_MS_NODIRATIME, bind = CS_MS_BIND, move = CS_MS_MOVE, recursive = CS_MS_REC
    package static let unbindable = CS_MS_UNBINDABLE, `private` = CS_MS_PRIVATE, slave = CS_MS_SLAVE, shared = CS_MS_SHARED
    package static let relatime = CS_MS_RELATIME, strictAtime = CS_MS_STRICTATIME, lazyTime = CS_MS_LAZYTIME

    /// mount(2). `describe` names the mount in errors, which add the flags and data the kernel refused:
    /// `mount proc on /proc (nosuid,nodev,noexec): EPERM (operation not permitted)`.
    package static func mount(source: String?, target: String, type: String?, flags: UInt, data: String?,
                             describe: String? = nil) throws(SysError) {
        let result = withOptionalCString(source) { source in
            target.withCString { target in
                withOptionalCString(type) { type in withOptionalCString(data) { Glibc.mount(source, target, type, flags, $0) } }
            }
        }
        if result == -1 {
            let errno = Glibc.errno
            let settings = flagNames(flags) + (data.map { [$0] } ?? [])
            let subject = (describe ?? target) + (settings.isEmpty ? "" : " (\(settings.joined(separator: ",")))")
            throw SysError("mount", path: subject, errno: errno)
        }
    }

    /// mount(2) on what `target` is open on, as "/proc/self/fd/N" would name it but without the procfs walk (~4 µs
    /// here, most of a bind's cost): a directory is entered and mounted on as "." (the cwd names exactly the fd's
    /// mount and dentry, as the magic link does); what cannot be entered (a file, a directory the caller may not
    /// search, a kernel before 3.5 refusing fchdir on O_PATH) goes through /proc. The working directory is left
    /// at `target`: a caller that needs its own back keeps it.
    package static func mount(source: String?, on target: FileDescriptor, type: String?, flags: UInt, data: String?,
                              describe: String) throws(SysError) {
        try mount(source: source, target: name(of: target), type: type, flags: flags, data: data, describe: describe)
    }

    /// A bind of what `target` is open on onto itself (with its submounts when `recursive`), named as above.
    package static func bindOntoItself(_ target: FileDescriptor, recursive: Bool, describe: String) throws(SysError) {
        let name = name(of: target)
        try mount(source: name, target: name, type: nil, flags: bind | (recursive ? Mounts.recursive : 0), data: nil,
                  describe: describe)
    }

    /// A bind of what `source` is open on onto what `target` is open on, named by neither path: a detached copy
    /// (open_tree OPEN_TREE_CLONE) moved there (move_mount), Linux 5.2. Where those are refused (ENOSYS: an older
    /// kernel or a caller's seccomp profile; EPERM: a profile that denies them) the bind goes through /proc.
    package static func bind(_ source: FileDescriptor, onto target: FileDescriptor, describe: String) throws(SysError) {
        let copy = cshim_open_tree_clone(source.raw)
        guard copy >= 0 else {
            guard errno == ENOSYS || errno == EPERM else { throw SysError("open_tree", path: describe) }
            return try mount(source: source.procPath, on: target, type: nil, flags: bind, data: nil, describe: describe)
        }
        let moved = cshim_move_mount_to_fd(copy, target.raw) == 0 ? 0 : errno
        Glibc.close(copy)
        if moved != 0 { throw SysError("move_mount", path: describe, errno: moved) }
    }

    /// A recursive bind of what `target` is open on onto itself whose top mount gets `attributes` (MOUNT_ATTR_*)
    /// before it is attached: open_tree(OPEN_TREE_CLONE | AT_RECURSIVE), mount_setattr, move_mount (Linux 5.12).
    /// mount_setattr only adds flags, so those the kernel locks (a user namespace's nodev, nosuid) stay without being
    /// read first; the submounts keep theirs, as after a bind and a remount of its top. False, with nothing
    /// attached, where the kernel or a seccomp profile refuses one of the calls (ENOSYS, EPERM, EINVAL).
    package static func bindOntoItself(_ target: FileDescriptor, adding attributes: UInt64,
                                       describe: String) throws(SysError) -> Bool {
        let copy = cshim_open_tree_clone_recursive(target.raw)
        guard copy >= 0 else {
            if refusesNewMountAPI(errno) { return false }
            throw SysError("open_tree", path: describe)
        }
        // Closed unattached, the copy and its submounts go with it.
        defer { Glibc.close(copy) }
        if cshim_mount_setattr_top(copy, attributes) != 0 {
            if refusesNewMountAPI(errno) { return false }
            throw SysError("mount_setattr", path: describe)
        }
        if cshim_move_mount_to_fd(copy, target.raw) != 0 {
            if refusesNewMountAPI(errno) { return false }
            throw SysError("move_mount", path: describe)
        }
        return true
    }

    /// The kernel has not the call (ENOSYS), or refuses it where mount(2) may still work: a seccomp profile
    /// (EPERM), a mount it will not copy or change this way (EINVAL).
    private static func refusesNewMountAPI(_ error: Int32) -> Bool { error == ENOSYS || error == EPERM || error == EINVAL }

    /// "." once `target` is the working directory, else its /proc/self/fd path.
    private static func name(of target: FileDescriptor) -> String {
        Glibc.fchdir(target.raw) == 0 ? "." : target.procPath
    }

    /// mount(2) flags by their mount(8) names, in bit order.
    package static func flagNames(_ flags: UInt) -> [String] {
        let names: [(UInt, String)] = [
            (readOnly, "ro"), (noSUID, "nosuid"), (noDev, "nodev"), (noExec, "noexec"), (synchronous, "sync"),
            (remount, "remount"), (mandatoryLock, "mand"), (dirSync, "dirsync"), (noSymFollow, "nosymfollow"),
            (noAtime, "noatime"), (noDirAtime, "nodiratime"), (bind, "bind"), (move, "move"), (recursive, "rec"),
            (unbindable, "unbindable"), (`private`, "private"), (slave, "slave"), (shared, "shared"),
            (relatime, "relatime"), (strictAtime, "strictatime"), (lazyTime, "lazytime"),
        ]
        return names.filter { flags & $0.0 != 0 }.map(\.1)
    }

    /// MS_PRIVATE on `target`; false when it is not a mount point (EINVAL) or cannot be changed.
    package static func makePrivateIfMountPoint(_ target: String) -> Bool {
        target.withCString { Glibc.mount(nil, $0, nil, CS_MS_PRIVATE, nil) } == 0
    }

    package static func unmount(_ target: String, detach: Bool = false) throws(SysError) {
        try check("umount", target) { target.withCString { umount2($0, detach ? CS_MNT_DETACH : 0) } }
    }

    /// Lazily detaches every mount stacked on `target` (each with its submounts) until it is a plain directory.
    package static func detachAll(_ target: String) throws(SysError) {
        for _ in 0..<64 {
            if umount2(target, CS_MNT_DETACH) == 0 { continue }
            if errno == EINVAL || errno == ENOENT { return }
            throw SysError("umount", path: target)
        }
        throw SysError("umount: still mounted after 64 detaches", path: target, errno: EBUSY)
    }

    package static func pivotRoot(_ newRoot: String, _ putOld: String) throws(SysError) {
        try check("pivot_root", newRoot) { cshim_pivot_root(newRoot, putOld) }
    }
}

extension Mounts {
    /// The flags the mount at `path` has now, as MS_* (ro excluded): what a bind remount must keep.
    package static func currentFlags(_ path: String) throws(SysError) -> UInt {
        let flags = path.withCString { cshim_mount_flags($0) }
        if flags == -1 { throw SysError("statvfs", path: path) }
        return UInt(flags) & ~readOnly
    }

    /// The same for the mount `fd` is on (fstatvfs: no path walk).
    package static func currentFlags(_ fd: FileDescriptor) throws(SysError) -> UInt {
        let flags = cshim_mount_flags_fd(fd.raw)
        if flags == -1 { throw SysError("fstatvfs") }
        return UInt(flags) & ~readOnly
    }

    /// True when `path` is on a cgroup2 file system.
    package static func isCgroup2(_ path: String) -> Bool { cshim_fs_type(path) == 0x6367_7270 }
}

extension Mounts {
    /// mount_setattr(2) flags, for runc's recursive options (`rro`, `rnosuid`, ...).
    package static let attrReadOnly = CS_MOUNT_ATTR_RDONLY, attrNoSUID = CS_MOUNT_ATTR_NOSUID
    package static let attrNoDev = CS_MOUNT_ATTR_NODEV, attrNoExec = CS_MOUNT_ATTR_NOEXEC
    package static let attrAtimeMask = CS_MOUNT_ATTR__ATIME, attrRelatime = CS_MOUNT_ATTR_RELATIME
    package static let attrNoAtime = CS_MOUNT_ATTR_NOATIME, attrStrictAtime = CS_MOUNT_ATTR_STRICTATIME
    package static let attrNoDirAtime = CS_MOUNT_ATTR_NODIRATIME, attrNoSymFollow = CS_MOUNT_ATTR_NOSYMFOLLOW

    /// mount_setattr(AT_RECURSIVE) on the mount at `fd` and every mount below it.
    package static func setAttributesRecursively(_ fd: FileDescriptor, set: UInt64, clear: UInt64,
                                                describe: String) throws(SysError) {
        try check("mount_setattr", describe) { cshim_mount_setattr_recursive(fd.raw, set, clear) }
    }
}
