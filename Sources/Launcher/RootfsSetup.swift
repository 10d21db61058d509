import Cgroups
import Glibc
import OCISpec
import Plan
import Sys

/// Mounts, pivot_root, devices, masked and read-only paths: the container's file-system view.
/// Runs in the child, in its new mount namespace, before the container's process exists.
struct RootfsSetup {
    let plan: ContainerPlan
    /// Bind sources the parent copied (by mount index): see openBindSources.
    var bindSources: [Int: FileDescriptor] = [:]
    /// Where the mount namespace comes from: a copy of the host's clone made, or (ContainerPlan.mayUseTreeNamespace)
    /// a tree or template namespace the parent opened, entered in its place.
    var mountNamespace = InitMountNamespace.copy

    /// In a user namespace the container's root is an unprivileged host uid: a bind source under a directory
    /// only the host's root may enter (mode 0700) is out of its reach. The parent takes a detached copy of each
    /// source (open_tree, recursive for rbind) before clone, and the init attaches it where the bind goes, as
    /// runc hands its init fds of the sources opened by the privileged parent. (A plain fd of the source would
    /// not do: a bind from another mount namespace's mount is refused with EINVAL.) A source the parent cannot
    /// copy (an unprivileged caller) is left to the init, as before.
    /// A tree or template namespace holds none of the host's mounts either, so there every bind source is copied.
    static func openBindSources(_ plan: ContainerPlan, forEnteredNamespace: Bool = false) -> [Int: FileDescriptor] {
        guard plan.inUserNamespace || forEnteredNamespace else { return [:] }
        var opened: [Int: FileDescriptor] = [:]
        for (index, mount) in plan.mounts.enumerated() where mount.options.isBind {
            guard let source = mount.source, source.hasBytePrefix("/") else { continue }
            opened[index] = try? Mounts.detachedCopy(of: source, recursive: mount.options.flags & Mounts.recursive != 0)
        }
        return opened
    }

    /// Returns the container's terminal when `process.terminal`: made here, because /dev/console is bound
    /// to it before the root may go read-only.
    /// `beforePivot` runs once every mount is made, still in the host's root (the create-time hooks).
    func prepare(beforePivot: (() throws -> Void)? = nil) throws -> (master: FileDescriptor, slave: FileDescriptor)? {
        let hostDevices = try DeviceSetup(plan: plan).openHostNodes()
        let root: FileDescriptor
        if let hostRoot = plan.hostRoot {
            // The runtime's own mount namespace: its / is left as it is; everything goes under hostRoot.
            try HostRoot.bind(rootfs: plan.rootfs, on: hostRoot)
            root = try Files.open(hostRoot, O_PATH | O_DIRECTORY)
        } else if case .tree(let namespace) = mountNamespace {
            root = try enterOpenedNamespace(namespace, movingIn: nil)
        } else if case .template(let namespace, let rootfs) = mountNamespace {
            root = try enterOpenedNamespace(namespace, movingIn: rootfs)
        } else {
            // runc's order: / takes rootfsPropagation when it is given (a shared one keeps rshared binds in the host's
            // peer groups, so mounts made inside reach the host), else everything we inherited becomes a slave:
            // nothing we mount propagates back.
            try Mounts.mount(source: nil, target: "/", type: nil, flags: plan.rootfsPropagation ?? Mounts.slave | Mounts.recursive,
                             data: nil, describe: "set propagation of /")
            // With / left shared, the bind below would propagate to the host, and pivot_root refuses a shared parent.
            if plan.rootfsPropagation != nil { try makeParentMountPrivate(plan.rootfs) }
            // pivot_root needs the new root to be a mount point.
            try Mounts.mount(source: plan.rootfs, target: plan.rootfs, type: nil, flags: Mounts.bind | Mounts.recursive,
                             data: nil, describe: "bind rootfs \(plan.rootfs)")
            root = try Files.open(plan.rootfs, O_PATH | O_DIRECTORY)
        }
        // Mounts are made on "." of their targets (Mounts.mount(on:)): the working directory is left at the last.
        // (createContainer hooks run in the rootfs: HookRunner enters it.)
        var freshTmpfs = FreshTmpfsMounts()
        for (index, mount) in plan.mounts.enumerated() {
            try perform(mount, in: root, copiedSource: bindSources[index], freshTmpfs: &freshTmpfs)
        }
        for copy in bindSources.values { copy.close() }
        Fault.point(.midMount)
        try beforePivot?()
        if plan.hostRoot != nil {
            try root.enterAsWorkingDirectory()
            try Files.chroot(".")
            try Files.chdir("/")
        } else {
            if !mountNamespace.isCopy {
                try enterTreeRoot(root)
            } else if plan.noPivot {
                try moveRoot()
            } else {
                try pivotRoot(root)
            }
            // The new root is a bind of a private mount: a given propagation is applied to it again (runc skips
            // private, which it already is); without one it goes rprivate, cut from the host both ways.
            if let propagation = plan.rootfsPropagation {
                if propagation & Mounts.private == 0 { try mount(nil, "/", nil, propagation, nil, "set rootfs propagation") }
            } else {
                try mount(nil, "/", nil, Mounts.private | Mounts.recursive, nil, "make / rprivate")
            }
        }
        try DeviceSetup(plan: plan).populate(hostNodes: hostDevices)
        var terminal: (master: FileDescriptor, slave: FileDescriptor)?
        if plan.process.terminal {
            let pty = try ProcessStart.openTerminal(plan)
            try bindConsole(pty.slave)
            terminal = pty
        }
        // sysctl goes through the container's /proc/sys, so before /proc/sys is made read-only below.
        try plan.kernel.applySysctl()
        var masks = MaskSources()
        for path in plan.maskedPaths { try mask(path, with: &masks) }
        var newMountAPI = true
        for path in plan.readonlyPaths { try makeReadonly(path, newMountAPI: &newMountAPI) }
        try remountDeferredReadonly()
        if plan.rootReadonly { try remountRootReadonly() }
        try enterWorkingDirectory()
        return terminal
    }

    /// runtime-spec config-linux.md: /dev/console is the pty's peer, bound over a file we create or find.
    /// /dev is resolved inside the root and `console` opened without following a link; it must be a file or
    /// a device, so a container that made it a symlink cannot aim the bind anywhere else (runc GHSA, Nov 2025).
    private func bindConsole(_ slave: FileDescriptor) throws {
        let root = try Files.open("/", O_PATH | O_DIRECTORY)
        let dev = try Files.openOrCreateInRoot(root, "/dev", directory: true)
        if (try? Files.openAt(dev, "console", O_PATH | O_NOFOLLOW)) == nil {
            try Files.createFile(in: dev, "console", mode: 0o600)
        }
        let target = try Files.openAt(dev, "console", O_PATH | O_NOFOLLOW)
        let type = try Files.status(target).st_mode & S_IFMT
        guard type == S_IFREG || type == S_IFCHR else {
            throw SysError("bind console: /dev/console is neither a file nor a device", errno: EPERM)
        }
        try Mounts.mount(source: slave.procPath, on: target, type: nil, flags: Mounts.bind, data: nil,
                         describe: "bind console on /dev/console")
    }

    // MARK: mounts

    /// `freshTmpfs`: the tmpfs mounts made before this one that targets may be made in directly.
    func mountOnce(_ mount: ContainerPlan.PlannedMount, in root: FileDescriptor, copiedSource: FileDescriptor? = nil,
                   freshTmpfs: inout FreshTmpfsMounts) throws {
        if mount.type == "cgroup" && !mount.options.isBind {
            freshTmpfs.forgetAll()
            return try CgroupMount(mount: mount, inCgroupNamespace: plan.createdNamespaces.contains(.cgroup),
                                   knownHost: plan.cgroupHost).perform(in: root)
        }
        let copied = mount.options.isBind ? copiedSource : nil
        let sourceIsDirectory = mount.options.isBind ? copied.map(Files.isDirectory) ?? Files.isDirectory(mount.source ?? "") : true
        if mount.options.isBind, copied == nil, let source = mount.source, !Files.exists(source) {
            throw SysError("bind mount source", path: source, errno: ENOENT)
        }
        let target = try freshTmpfs.target(mount.destination, in: root, directory: sourceIsDirectory)
            ?? Files.openOrCreateInRoot(root, mount.destination, directory: sourceIsDirectory)
        let describe = "\(mount.type ?? "bind") on \(mount.destination)"
        var flags = mount.options.flags
        if mount.options.isBind { flags &= Mounts.bind | Mounts.recursive }
        // Mount on the fd we resolved, not on a path the container could swap (CVE-2021-30465).
        // A new file system gets the SELinux mount label; a bind mount keeps its source's.
        let data = mount.options.isBind ? mount.options.dataString : plan.labels.labeledMountData(mount.options.dataString)
        // tmpcopyup: the covered directory stays reachable through this fd once the tmpfs hides it.
        let copyUp = mount.options.copyUp && mount.type == "tmpfs"
        let covered = copyUp ? try target.reopenedAsDirectory() : nil
        if let copied {
            try Mounts.attach(copied, to: target, describe: describe)
        } else {
            try Mounts.mount(source: mount.source, on: target, type: mount.type,
                             flags: RootfsSetup.defersReadonly(mount) ? flags & ~Mounts.readOnly : flags, data: data,
                             describe: describe)
        }
        if let covered {
            let filled = try Files.openOrCreateInRoot(root, mount.destination, directory: true).reopenedAsDirectory()
            try Files.copyTree(from: covered, to: filled)
        } else if mount.type == "tmpfs" && !mount.options.isBind {
            freshTmpfs.remember(mount.destination)
        }
        guard copied != nil || mount.options.needsRemount || !mount.options.propagation.isEmpty
                || mount.options.hasRecursiveAttributes
        else { return }
        // The fd we mounted on still names the covered directory; the new mount is reached by opening again.
        let mounted = try Files.openOrCreateInRoot(root, mount.destination, directory: sourceIsDirectory)
        if copied != nil {
            // A copy of a shared mount stays in its source's peer group: a mount the config nests under it would
            // reach the host and stay there (the cgroup2 guest saw it in a user namespace). It becomes a slave, as
            // a bind made in a copied namespace is, before anything is mounted under it.
            try Mounts.mount(source: nil, on: mounted, type: nil, flags: Mounts.slave | Mounts.recursive,
                             data: nil, describe: "make \(mount.destination) rslave")
        }
        if mount.options.needsRemount {
            try remountBind(mounted, flags: mount.options.flags, describe: describe)
        }
        for propagation in mount.options.propagation {
            try Mounts.mount(source: nil, on: mounted, type: nil, flags: propagation, data: nil,
                             describe: "set propagation of \(mount.destination)")
        }
        // rro and the like reach the submounts an rbind brought along, which a remount leaves writable (runc).
        if mount.options.hasRecursiveAttributes {
            try Mounts.setAttributesRecursively(mounted, set: mount.options.recursiveSet, clear: mount.options.recursiveClear,
                                                describe: "recursive options of \(mount.destination)")
        }
    }

    /// A bind mount takes ro/nosuid/... only on a remount; locked flags of the source (nodev, nosuid of a
    /// mount we may not loosen) are kept, or the kernel refuses with EPERM.
    private func remountBind(_ target: FileDescriptor, flags: UInt, describe: String) throws {
        let locked = (try? Mounts.currentFlags(target)) ?? 0
        try Mounts.mount(source: nil, on: target, type: nil, flags: RootfsSetup.bindRemountFlags(flags, locked: locked),
                         data: nil, describe: "remount \(describe)")
    }

    private static func bindRemountFlags(_ flags: UInt, locked: UInt) -> UInt {
        Mounts.remount | Mounts.bind | (flags & ~(Mounts.bind | Mounts.recursive)) | locked
    }

    private func mount(_ source: String?, _ target: String, _ type: String?, _ flags: UInt, _ data: String?,
                       _ describe: String) throws {
        try Mounts.mount(source: source, target: target, type: type, flags: flags, data: data, describe: describe)
    }

    // MARK: root

    /// pivot_root(".", ".") and a lazy unmount of the old root, the way runc avoids needing a put_old directory.
    private func pivotRoot(_ root: FileDescriptor) throws {
        let oldRoot = try Files.open("/", O_PATH | O_DIRECTORY)
        try root.enterAsWorkingDirectory()
        try Mounts.pivotRoot(".", ".")
        try oldRoot.enterAsWorkingDirectory()
        // The old root must not propagate its unmount to the host.
        try mount(nil, ".", nil, Mounts.slave | Mounts.recursive, nil, "make old root rslave")
        try Mounts.unmount(".", detach: true)
        try Files.chdir("/")
    }

    /// setns into the namespace the parent opened, which also moves our root and cwd to its root. A tree namespace's
    /// root is the rootfs; for the template (`movingIn`), unshare gives us a copy of our own and the rootfs's
    /// detached copy is moved onto its root. Then back to the host's root by chroot, so that the mounts below are
    /// made as in a copied namespace: on fds resolved in the rootfs, named through the host's /proc (a mount target
    /// reached that way is in our namespace, so the kernel takes it). Returns the rootfs. Its mounts begin in the
    /// host mount's peer group (an open_tree copy does): they become slaves first, as a copy's do, so that nothing
    /// mounted here reaches the host.
    private func enterOpenedNamespace(_ namespace: FileDescriptor, movingIn rootfsCopy: FileDescriptor?) throws -> FileDescriptor {
        let hostRoot = try Files.open("/", O_PATH | O_DIRECTORY)
        defer { hostRoot.close() }
        try Namespaces.join(namespace, type: Namespaces.mount,
                            path: rootfsCopy == nil ? "mount namespace of \(plan.rootfs)" : "the mount template")
        namespace.close()
        let root: FileDescriptor
        if let rootfsCopy {
            try Namespaces.unshare(Namespaces.mount)
            try Mounts.attach(rootfsCopy, to: "/")
            root = rootfsCopy
        } else {
            root = try Files.open("/", O_PATH | O_DIRECTORY)
        }
        try Files.fchdir(hostRoot)
        try Files.chroot(".")
        try Mounts.mount(source: nil, on: root, type: nil, flags: Mounts.slave | Mounts.recursive, data: nil,
                         describe: "make the rootfs rslave")
        return root
    }

    /// The end of a tree or template namespace's set-up, in pivot_root's place: chroot to the rootfs, with no old
    /// root to detach. A tree namespace's root is the rootfs (`..` of a namespace's root is itself; pivot_root is
    /// refused there: EINVAL). In a template's copy the rootfs covers the tmpfs's root: `..` from the rootfs's root
    /// crosses to the tmpfs's root, and the walk comes back into the rootfs that covers it.
    private func enterTreeRoot(_ root: FileDescriptor) throws {
        try root.enterAsWorkingDirectory()
        try Files.chroot(".")
        try Files.chdir("/")
    }

    /// The nearest mount at or above `path` becomes private (not recursive): mount(2) says EINVAL for a directory
    /// that is not a mount point, so walk up until it takes.
    private func makeParentMountPrivate(_ path: String) throws {
        var dir = path
        while !Mounts.makePrivateIfMountPoint(dir) && dir != "/" { dir = parentDirectory(dir) }
        if dir == "/" { try mount(nil, "/", nil, Mounts.private, nil, "make / private") }
    }

    private func parentDirectory(_ path: String) -> String {
        // On bytes: count and removeLast on a String walk Characters.
        var bytes = Array(path.utf8)
        while bytes.count > 1 && bytes.last == UInt8(ascii: "/") { bytes.removeLast() }
        guard let parent = PathText.beforeLastSlash(String(decoding: bytes, as: UTF8.self)), !parent.isEmpty else { return "/" }
        return parent
    }

    /// --no-pivot: move the rootfs over / and chroot, for ramdisk roots where pivot_root is refused.
    private func moveRoot() throws {
        try hideHostProcAndSys()
        try Files.chdir(plan.rootfs)
        try mount(plan.rootfs, "/", nil, Mounts.move, nil, "move rootfs to /")
        try Files.chroot(".")
        try Files.chdir("/")
    }

    /// chroot keeps the host's mounts in this namespace: a full procfs or sysfs there lets a new one be mounted
    /// unmasked wherever the kernel asks for one already visible (mount_too_revealing, in a user namespace), and
    /// is what anything entering the namespace sees. Each outside the rootfs is detached, or covered with an
    /// empty tmpfs where it is locked to its parent (a user namespace), as runc's msMoveRoot does.
    private func hideHostProcAndSys() throws {
        let rootfs = plan.rootfs.hasByteSuffix("/") ? plan.rootfs : plan.rootfs + "/"
        var targets: [String] = []
        for entry in try MountInfo.parse(Files.readText("/proc/self/mountinfo"), fsTypes: ["proc", "sysfs"]) where entry.root == "/" {
            let point = entry.mountPoint
            if point != plan.rootfs && !point.hasBytePrefix(rootfs) { targets.append(point) }
        }
        for point in targets {
            // An earlier detach may have taken this one along (a sysfs under another): nothing left to hide.
            let slave = Result { () throws(SysError) in
                try Mounts.mount(source: nil, target: point, type: nil, flags: Mounts.slave | Mounts.recursive, data: nil,
                                 describe: "make \(point) rslave")
            }
            if case .failure(let error) = slave {
                if error.errno == ENOENT || error.errno == EINVAL { continue }
                throw error
            }
            let detached = Result { () throws(SysError) in try Mounts.unmount(point, detach: true) }
            if case .failure(let error) = detached {
                guard error.errno == EINVAL || error.errno == EPERM else { throw error }
                try Mounts.mount(source: "tmpfs", target: point, type: "tmpfs", flags: 0, data: "size=4k,mode=555",
                                 describe: "cover \(point)")
            }
        }
    }

    /// A read-only tmpfs (and /dev) is mounted writable: device nodes, /dev/pts, /dev/shm, a copy-up and the
    /// mount points of later entries are made in it first. It goes read-only once the rest is done, as runc's
    /// finalizeRootfs does (a bind remount: the mount is read-only, its superblock as asked otherwise).
    static func defersReadonly(_ mount: ContainerPlan.PlannedMount) -> Bool {
        guard !mount.options.isBind, mount.options.flags & Mounts.readOnly != 0 else { return false }
        // On bytes: Character count and removeLast run the grapheme-break code.
        var destination = mount.destination.utf8[...]
        while destination.count > 1, destination.last == UInt8(ascii: "/") { destination = destination.dropLast() }
        return mount.type == "tmpfs" || destination.elementsEqual("/dev".utf8)
    }

    private func remountDeferredReadonly() throws {
        let deferred = plan.mounts.filter(RootfsSetup.defersReadonly)
        guard !deferred.isEmpty else { return }
        let root = try Files.open("/", O_PATH | O_DIRECTORY)
        for mount in deferred {
            let mounted = try Files.openOrCreateInRoot(root, mount.destination, directory: true)
            try remountBind(mounted, flags: mount.options.flags, describe: "\(mount.type ?? "mount") on \(mount.destination) read-only")
        }
    }

    private func remountRootReadonly() throws {
        let locked = (try? Mounts.currentFlags("/")) ?? 0
        try mount(nil, "/", nil, RootfsSetup.bindRemountFlags(Mounts.readOnly, locked: locked), nil, "remount root readonly")
    }

    // MARK: masked and read-only paths (already inside the new root)

    /// What masks are bound from, made once per container: the empty read-only tmpfs of the first masked
    /// directory (each later one gets a bind of it: one superblock to make and to tear down, not one per mask,
    /// as runc 1.5 and crun 1.24 do) and the checked /dev/null.
    struct MaskSources {
        var emptyDirectory: FileDescriptor?
        var null: FileDescriptor?
    }

    /// A masked file gets /dev/null bound over it, a masked directory an empty read-only tmpfs.
    /// /dev/null is opened and checked to be the real 1:3 character device before it is bound, so a
    /// container that replaced it cannot have a host file mounted instead (runc GHSA of November 2025).
    /// The path is looked up once: its O_PATH fd says what it is (fstat of a symlink's own fd is its lstat).
    private func mask(_ path: String, with sources: inout MaskSources) throws {
        guard let target = try? Files.open(path, O_PATH | O_NOFOLLOW) else { return }
        if try Files.status(target).st_mode & S_IFMT == S_IFDIR {
            if let empty = sources.emptyDirectory {
                try Mounts.bind(empty, onto: target, describe: "mask \(path)")
            } else {
                try Mounts.mount(source: "tmpfs", on: target, type: "tmpfs", flags: Mounts.readOnly, data: nil, describe: "mask \(path)")
                sources.emptyDirectory = try Files.open(path, O_PATH | O_NOFOLLOW | O_DIRECTORY)
            }
            return
        }
        if sources.null == nil {
            let null = try Files.open("/dev/null", O_PATH | O_NOFOLLOW)
            let st = try Files.status(null)
            guard st.st_mode & S_IFMT == S_IFCHR, DeviceSetup.major(st.st_rdev) == 1, DeviceSetup.minor(st.st_rdev) == 3 else {
                throw SysError("mask \(path): /dev/null is not the null device", errno: EPERM)
            }
            sources.null = null
        }
        try Mounts.bind(sources.null!, onto: target, describe: "mask \(path)")
    }

    /// A path that cannot be looked up is left alone, as one that is not there.
    /// The bind is made read-only (and nosuid, nodev, noexec) before it is attached, on the fd opened once: no
    /// second lookup, no fstatfs for the locked flags. Where the kernel or a profile refuses the new calls, this and
    /// every later path (`newMountAPI` goes false) get the bind and the remount.
    private func makeReadonly(_ path: String, newMountAPI: inout Bool) throws {
        guard let target = try? Files.open(path, O_PATH | O_NOFOLLOW) else { return }
        if newMountAPI {
            let attributes = Mounts.attrReadOnly | Mounts.attrNoSUID | Mounts.attrNoDev | Mounts.attrNoExec
            if try Mounts.bindOntoItself(target, adding: attributes, describe: "readonly \(path)") { return }
            newMountAPI = false
        }
        try Mounts.bindOntoItself(target, recursive: true, describe: "bind \(path)")
        let mounted = try Files.open(path, O_PATH | O_NOFOLLOW)
        try remountBind(mounted, flags: Mounts.readOnly | Mounts.noSUID | Mounts.noDev | Mounts.noExec,
                        describe: "readonly \(path)")
    }

    /// cwd is created if missing (runc does) and entered; it is resolved inside the new root.
    private func enterWorkingDirectory() throws {
        let cwd = plan.process.cwd
        if cwd != "/" { try Files.makeDirectories(cwd) }  // the root is there: no mkdir to EEXIST and stat
        try Files.chdir(cwd)
    }
}

// MARK: in a user namespace: fresh sysfs and mqueue need their namespaces; else the host's is bound

extension RootfsSetup {
    /// One `mounts` entry. In a user namespace the kernel refuses a fresh sysfs unless the network namespace
    /// is ours too, and a fresh mqueue unless the ipc namespace is: the host's is bind-mounted recursively
    /// instead, with the entry's flags (runc falls back the same way).
    /// `copiedSource`: the parent's detached copy of a bind source (openBindSources).
    func perform(_ mount: ContainerPlan.PlannedMount, in root: FileDescriptor, copiedSource: FileDescriptor? = nil,
                 freshTmpfs: inout FreshTmpfsMounts) throws {
        guard plan.inUserNamespace, !mount.options.isBind, let host = RootfsSetup.hostSource(mount.type) else {
            return try mountOnce(mount, in: root, copiedSource: copiedSource, freshTmpfs: &freshTmpfs)
        }
        let owned: NamespaceType = mount.type == "sysfs" ? .network : .ipc
        guard plan.createdNamespaces.contains(owned) else {
            return try mountOnce(try RootfsSetup.hostBind(mount, host), in: root, freshTmpfs: &freshTmpfs)
        }
        do {
            try mountOnce(mount, in: root, freshTmpfs: &freshTmpfs)
        } catch let error as SysError where error.errno == EPERM {
            try mountOnce(try RootfsSetup.hostBind(mount, host), in: root, freshTmpfs: &freshTmpfs)
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

extension FileDescriptor {
    /// A real (non-O_PATH) directory fd for this one, reopened through /proc: for reading what is there.
    func reopenedAsDirectory() throws -> FileDescriptor { try Files.open(procPath, O_RDONLY | O_DIRECTORY) }

    /// fchdir here. The kernel takes an O_PATH fd since Linux 3.5; one before it refuses (EBADF), and gets the
    /// directory reopened through /proc.
    func enterAsWorkingDirectory() throws {
        do {
            try Files.fchdir(self)
        } catch {
            guard error.errno == EBADF else { throw error }
            try Files.fchdir(reopenedAsDirectory())
        }
    }
}

