import Cgroups
import Glibc
import Sys

/// A container without a mount namespace of its own (config-linux.md: the type is inherited from the runtime)
/// gets its mounts in the runtime's namespace. So that none is left behind and none reaches another namespace:
/// the rootfs is bound on `<state dir>/rootfs`, a mount point no one else uses, made private at once (our own
/// new mount only: the host's `/` keeps its propagation), and every mount of the container is made under it.
/// `delete`, a failed `create` and the debris of a killed one detach that one point, with everything on it.
/// The init enters it by chroot: pivot_root and MS_MOVE would act on the runtime's root.
package enum HostRoot {
    package static func path(stateDirectory: String) -> String { stateDirectory + "/rootfs" }

    /// Refused when the state dir is on a shared mount: our bind would be copied into its peers' namespaces,
    /// and those copies, made private with ours, would outlive our unmount.
    static func checkNotShared(_ target: String) throws {
        var best: (point: String, shared: Bool)?
        for entry in try MountInfo.read() {
            let point = entry.mountPoint
            let inside = point == "/" || target == point || target.hasBytePrefix(point + "/")
            guard inside, point.count >= (best?.point.count ?? -1) else { continue }
            best = (point, entry.optionalFields.contains { $0.hasBytePrefix("shared:") })
        }
        if let best, best.shared {
            throw SysError("a container without a mount namespace needs its state dir on a mount that is not shared "
                           + "(\(best.point) is shared); give it a mount namespace or a --root on a private mount", errno: EINVAL)
        }
    }

    /// In the init, in the runtime's mount namespace: bind the rootfs on `target`, private from the first instant.
    static func bind(rootfs: String, on target: String) throws {
        try checkNotShared(target)
        try Mounts.mount(source: rootfs, target: target, type: nil, flags: Mounts.bind | Mounts.recursive, data: nil,
                         describe: "bind rootfs \(rootfs) on \(target)")
        try Mounts.mount(source: nil, target: target, type: nil, flags: Mounts.private | Mounts.recursive, data: nil,
                         describe: "make \(target) rprivate")
    }

    /// In `delete` and after a failed `create`: every mount the container made goes, then the mount point.
    package static func remove(stateDirectory: String) throws {
        let target = path(stateDirectory: stateDirectory)
        guard Files.exists(target) else { return }
        try Mounts.detachAll(target)
        try Files.rmdir(target)
    }
}
