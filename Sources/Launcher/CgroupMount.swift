import Cgroups
import Glibc
import Plan
import Sys

/// A `cgroup` mount. On cgroup v2 it is a cgroup2 mount; on v1 a tmpfs with each of the host's hierarchies
/// bound in at the container's own cgroup, read-only when asked (what runc shows a container).
struct CgroupMount {
    let mount: ContainerPlan.PlannedMount
    /// In its own cgroup namespace the container mounts each hierarchy afresh: the kernel roots it at the
    /// namespace's root, the container's cgroup. Without one it gets binds of its own cgroup directories.
    let inCgroupNamespace: Bool
    /// The runtime's cgroup mounts (ContainerPlan.cgroupHost).
    let knownHost: CgroupHost?
    /// The cgroups the init was placed in, read before it made its cgroup namespace (the init is single-threaded).
    nonisolated(unsafe) static var placedHost: CgroupHost?

    func perform(in root: FileDescriptor) throws {
        let target = try Files.openOrCreateInRoot(root, mount.destination, directory: true)
        let flags = mount.options.flags & ~Mounts.bind
        // Read in the init after it joined its cgroups, so `ownPath` is the container's cgroup.
        let host = try CgroupMount.placedHost ?? CgroupHost.detect(mountsOf: knownHost)
        if host.version == .v2 {
            let fresh = Result { () throws(SysError) in
                try Mounts.mount(source: "cgroup2", on: target, type: "cgroup2", flags: flags, data: nil,
                                 describe: "cgroup2 on \(mount.destination)")
            }
            guard case .failure(let error) = fresh else { return }
            // The container's own cgroup directory is bound instead where the kernel refuses a fresh cgroup2
            // (runc's fallback): EPERM in a user namespace without its own cgroup namespace; EBUSY where the
            // target is the host's cgroup2 mount itself (a rootless config's rbind of /sys brings it along, and
            // the kernel refuses the same file system on its own root).
            guard error.errno == EPERM || error.errno == EBUSY, let unified = host.hierarchies.first else { throw error }
            try Mounts.mount(source: CgroupMount.ownDirectory(unified), on: target, type: nil,
                             flags: Mounts.bind | Mounts.recursive, data: nil, describe: "bind cgroup2 on \(mount.destination)")
            let bound = try Files.openOrCreateInRoot(root, mount.destination, directory: true)
            let locked = (try? Mounts.currentFlags(bound)) ?? 0
            try Mounts.mount(source: nil, on: bound, type: nil, flags: Mounts.remount | Mounts.bind | flags | locked,
                             data: nil, describe: "remount cgroup2 on \(mount.destination)")
            return
        }
        try Mounts.mount(source: "tmpfs", on: target, type: "tmpfs", flags: flags & ~Mounts.readOnly,
                         data: "mode=755", describe: "tmpfs on \(mount.destination)")
        for hierarchy in host.hierarchies {
            let name = hierarchy.mountPoint.split(separator: "/").last.map(String.init) ?? ""
            guard !name.isEmpty else { continue }
            let directory = try Files.openOrCreateInRoot(root, mount.destination + "/" + name, directory: true)
            if inCgroupNamespace {
                try Mounts.mount(source: "cgroup", on: directory, type: "cgroup",
                                 flags: flags | Mounts.noSUID | Mounts.noDev | Mounts.noExec,
                                 data: hierarchy.controllers.joinedText(","),
                                 describe: "cgroup \(name) on \(mount.destination)/\(name)")
                continue
            }
            try Mounts.mount(source: CgroupMount.ownDirectory(hierarchy), on: directory, type: nil,
                             flags: Mounts.bind, data: nil, describe: "bind cgroup \(name) on \(mount.destination)/\(name)")
            let bound = try Files.openOrCreateInRoot(root, mount.destination + "/" + name, directory: true)
            try Mounts.mount(source: nil, on: bound, type: nil,
                             flags: Mounts.remount | Mounts.bind | flags | Mounts.noSUID | Mounts.noDev | Mounts.noExec,
                             data: nil, describe: "remount cgroup \(name)")
        }
        if flags & Mounts.readOnly != 0 {
            let tmpfs = try Files.openOrCreateInRoot(root, mount.destination, directory: true)
            try Mounts.mount(source: nil, on: tmpfs, type: nil, flags: Mounts.remount | flags, data: "mode=755",
                             describe: "remount tmpfs on \(mount.destination) read-only")
        }
    }

    /// The directory of our own cgroup in `hierarchy` on the host (the mount may show a sub-tree only).
    static func ownDirectory(_ hierarchy: CgroupHost.Hierarchy) -> String {
        var relative = hierarchy.ownPath
        if hierarchy.mountRoot != "/", relative.hasBytePrefix(hierarchy.mountRoot) { relative.removeFirst(hierarchy.mountRoot.count) }
        return relative == "/" || relative.isEmpty ? hierarchy.mountPoint : hierarchy.mountPoint + relative
    }
}
