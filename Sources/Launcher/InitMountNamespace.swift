import Capabilities
import Glibc
import Plan
import Sys

/// Where the init's mount namespace comes from (docs/design.md §2, step 5).
enum InitMountNamespace {
    /// clone copies the runtime's; the rootfs is bound, pivot_root'ed to, and the old root detached.
    case copy
    /// Linux 7: open_tree(OPEN_TREE_NAMESPACE) of the rootfs, a namespace whose root is the rootfs alone.
    case tree(FileDescriptor)
    /// Before 7: the template namespace (one empty read-only tmpfs), which the init enters and copies with
    /// unshare, and the rootfs's detached copy that it moves onto the copy's root.
    case template(FileDescriptor, rootfs: FileDescriptor)

    /// The one the plan and this kernel allow. `wantsTemplate`: only the template was missing, which the create
    /// makes once it has succeeded (MountTemplate.make).
    /// Entering a namespace (setns) and the chroots the init makes there need CAP_SYS_CHROOT, which the copy's
    /// pivot_root does not: a caller without it keeps the copy. (Asked only once a namespace is open: the copy
    /// costs nothing more than the refused or missing one.)
    static func choose(for plan: ContainerPlan, template: MountTemplate?) -> (InitMountNamespace, wantsTemplate: Bool) {
        guard plan.mayUseTreeNamespace else { return (.copy, false) }
        // A kernel before 7.0 refuses the flag (EINVAL): it pays this one call.
        if let tree = try? Mounts.treeNamespace(of: plan.rootfs) {
            guard OwnCapabilities.has("CAP_SYS_CHROOT") else {
                tree.close()
                return (.copy, false)
            }
            return (.tree(tree), false)
        }
        guard let template else { return (.copy, false) }
        guard let namespace = template.open() else { return (.copy, OwnCapabilities.has("CAP_SYS_CHROOT")) }
        guard OwnCapabilities.has("CAP_SYS_CHROOT"), let rootfs = try? Mounts.detachedCopy(of: plan.rootfs, recursive: true) else {
            namespace.close()
            return (.copy, false)
        }
        return (.template(namespace, rootfs: rootfs), false)
    }

    var isCopy: Bool {
        if case .copy = self { return true }
        return false
    }

    /// clone's flags for `plan`: no new mount namespace when the init enters one of these.
    func cloneFlags(_ plan: ContainerPlan) -> UInt {
        isCopy ? plan.cloneFlags : plan.cloneFlags & ~Namespaces.mount
    }

    /// The fds the init keeps for it (by number, for the close of everything else).
    var descriptorNumbers: [Int] {
        switch self {
        case .copy: return []
        case .tree(let namespace): return [Int(namespace.raw)]
        case .template(let namespace, let rootfs): return [Int(namespace.raw), Int(rootfs.raw)]
        }
    }

    /// The parent's copies after clone: closed, or (`byNumber`, for an init in our memory) closed by number only.
    func closeInParent(byNumber: Bool) {
        switch self {
        case .copy: break
        case .tree(let namespace): byNumber ? namespace.closeOurCopy() : namespace.close()
        case .template(let namespace, let rootfs):
            byNumber ? namespace.closeOurCopy() : namespace.close()
            byNumber ? rootfs.closeOurCopy() : rootfs.close()
        }
    }

    /// The clone step's name in --debug's trace (literals: it is named on every create, traced or not).
    func traceStep(sharesMemory: Bool) -> String {
        switch (self, sharesMemory) {
        case (.copy, false): return "clone"
        case (.copy, true): return "clone (shared memory)"
        case (.tree, false): return "clone (tree namespace)"
        case (.tree, true): return "clone (tree namespace, shared memory)"
        case (.template, false): return "clone (template namespace)"
        case (.template, true): return "clone (template namespace, shared memory)"
        }
    }
}

/// The template mount namespace: one empty read-only tmpfs, kept for the boot as a bind of its nsfs file at `file`
/// (docs/design.md §2). An init whose rootfs may stand alone (ContainerPlan.mayUseTreeNamespace) copies it and
/// chroots into the rootfs moved onto the copy's root: no copy of the host's mounts, and no old root to detach,
/// whose unmount waits for an RCU grace period. Made once, by the first create that succeeds without it.
package struct MountTemplate {
    /// One for the runtime's mount namespace, whatever --root: a mount under every root would be one that `rm -r`
    /// of the root cannot remove. A private bind of itself: a mount namespace's file cannot be bound where the
    /// bind would propagate (copy_tree refuses one: EINVAL), and /run is shared on a systemd host, with peers in
    /// the namespaces of services that have their own.
    package let directory: String
    /// The bind of the template's nsfs file, in `directory`.
    package var file: String { directory + "/mnt" }

    package init(directory: String) { self.directory = directory }

    /// The template, when `file` holds one: an empty file is left where it was unmounted.
    func open() -> FileDescriptor? {
        guard let fd = try? Files.open(file, O_RDONLY | O_CLOEXEC) else { return nil }
        guard Namespaces.isMountNamespace(fd) else {
            fd.close()
            return nil
        }
        return fd
    }

    /// Makes the template unless it is there, another process holds the directory's lock (it is making it), or
    /// making it failed earlier in this boot: then `file` holds the boot's id, so that a host where it cannot be
    /// made does not fork a helper for every create (an empty file, as an unmount leaves, is tried again).
    /// A helper process builds the namespace, and we bind its nsfs file at `file`. Throws what failed; the
    /// caller's create has succeeded regardless.
    package func make() throws(SysError) -> MakeOutcome {
        _ = try Files.makeDirectories(directory, mode: 0o700)
        let lock = try Files.open(directory, O_RDONLY | O_CLOEXEC | O_DIRECTORY)
        defer { lock.close() }
        guard Files.tryLock(lock) else { return .beingMade }
        if let made = open() {
            made.close()
            return .alreadyThere
        }
        let boot = Processes.bootID() ?? []
        if let left = try? Files.readFile(file), !left.isEmpty, left == boot { return .failedEarlierInThisBoot }
        do {
            try makeNow()
        } catch {
            try? Files.writeFile(file, boot, mode: 0o600)
            throw error
        }
        return .made
    }

    package enum MakeOutcome {
        case made, alreadyThere, beingMade, failedEarlierInThisBoot
    }

    private func makeNow() throws(SysError) {
        if !Mounts.makePrivateIfMountPoint(directory) {
            try Mounts.mount(source: directory, target: directory, type: nil, flags: Mounts.bind, data: nil,
                             describe: "bind the mount template's directory onto itself")
            try Mounts.mount(source: nil, target: directory, type: nil, flags: Mounts.private, data: nil,
                             describe: "make the mount template's directory private")
        }
        try Files.open(file, O_RDONLY | O_CREAT | O_CLOEXEC, mode: 0o600).close()
        // The helper says when its namespace is made, then waits for the end of file that releases it.
        let (readyRead, readyWrite) = try Channels.pipe()
        let (releaseRead, releaseWrite) = try Channels.pipe()
        let pid = try Processes.fork()
        if pid == 0 {
            readyRead.close()
            releaseWrite.close()
            // One byte: 0 once the namespace is made, else the errno of the step that failed.
            let failed = Self.buildNamespace(tmpfsOn: directory)
            try? readyWrite.write([UInt8(truncatingIfNeeded: failed?.errno ?? 0)])
            if failed == nil { _ = try? releaseRead.read(count: 1) }
            Processes.exit(failed == nil ? 0 : 1)
        }
        readyWrite.close()
        releaseRead.close()
        defer {
            releaseWrite.close()
            _ = try? Processes.wait(pid)
        }
        let answer = try? readyRead.read(count: 1)
        readyRead.close()
        guard let answer, answer == [0] else {
            throw SysError("make the mount template", path: file, errno: answer?.first.map { Int32($0) } ?? EIO)
        }
        try Mounts.mount(source: Processes.procPath(pid, "ns/mnt"), target: file, type: nil, flags: Mounts.bind, data: nil,
                         describe: "bind the mount template")
    }

    /// In the helper: a mount namespace of our own whose only mount is an empty read-only tmpfs (mounted on
    /// `directory` in our copy first, which pivot_root needs). nil when it is made.
    private static func buildNamespace(tmpfsOn directory: String) -> SysError? {
        do throws(SysError) {
            try Namespaces.unshare(Namespaces.mount)
            // Nothing done here reaches the host's mounts.
            try Mounts.mount(source: nil, target: "/", type: nil, flags: Mounts.private | Mounts.recursive, data: nil)
            // Read-only in its superblock too: every container's copy shares it, under the rootfs that covers it.
            try Mounts.mount(source: "tmpfs", target: directory, type: "tmpfs",
                             flags: Mounts.readOnly | Mounts.noSUID | Mounts.noDev | Mounts.noExec, data: "mode=555,size=4k",
                             describe: "the template's tmpfs")
            try Files.chdir(directory)
            try Mounts.pivotRoot(".", ".")
            try Mounts.unmount(".", detach: true)
            try Files.chdir("/")
        } catch {
            return error
        }
        return nil
    }
}
