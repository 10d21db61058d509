import Glibc
import OCISpec
import Sys

/// Who makes and removes a container's cgroups: crabcan itself through cgroupfs (the default), or systemd
/// (`--systemd-cgroup`). Either way the cgroups end up as directories (`manager`), and reading them (pids,
/// freeze, stats, kill) goes through the files; only their lifecycle and limits differ.
package protocol CgroupDriver: AnyObject {
    /// The container's directories.
    var manager: CgroupManager { get }
    /// The systemd unit holding them; "" for cgroupfs.
    var unit: String { get }
    /// Before the init exists: cgroupfs makes the directories and writes the limits; systemd checks them.
    func prepare(_ resources: Resources) throws
    /// In the parent right after clone, before the init runs anything.
    func placeFromParent(_ pid: pid_t, resources: Resources, initPlacesItself: Bool) throws
    /// What the init writes itself after the parent's go-ahead (SelfPlacement).
    func selfPlacement(initPlacesItself: Bool) -> SelfPlacement
    /// Where the init can be cloned straight into (cgroup v2), when nothing else than its pid goes there at step 0.
    var cloneTarget: String? { get }
    /// New limits for a live container (`update`).
    func update(_ resources: Resources) throws
    /// Removes whatever create made; the processes are dead or killed.
    func destroy() throws
}

/// crabcan's own cgroupfs driver: the CgroupManager as before.
package final class CgroupfsDriver: CgroupDriver {
    package let manager: CgroupManager
    package var unit: String { "" }

    package init(_ manager: CgroupManager) { self.manager = manager }

    package func prepare(_ resources: Resources) throws {
        let madeNow = try manager.create()
        try manager.apply(resources, madeNow: madeNow)
    }

    package func placeFromParent(_ pid: pid_t, resources: Resources, initPlacesItself: Bool) throws {
        try manager.placeFromParent(pid, initPlacesItself: initPlacesItself)
    }

    package func selfPlacement(initPlacesItself: Bool) -> SelfPlacement { manager.selfPlacement(initPlacesItself: initPlacesItself) }
    package var cloneTarget: String? { manager.cloneTarget }
    package func update(_ resources: Resources) throws { try manager.apply(resources) }
    package func destroy() throws { try manager.destroy() }
}
