import DBus
import Glibc
import OCISpec
import Sys

/// The systemd driver (runc's --systemd-cgroup): the container is a transient unit that systemd creates with the
/// init's pid in it and Delegate=yes, so systemd knows the cgroup is the container's and leaves its insides
/// alone. Limits go as unit properties where systemd has one, then to the files like every limit.
package final class SystemdDriver: CgroupDriver {
    let systemd: SystemdManager
    package let path: SystemdUnitPath
    package let manager: CgroupManager
    let systemdVersion: Int
    var started = false
    /// The device rules the unit is told of when they differ from what the files get: a rootless container's
    /// (its files get none: a user cannot set them), which runc still gives the user manager as DeviceAllow.
    package var unitDeviceRules: [DeviceCgroupRule]?
    package var unit: String { path.unit }

    /// How long a start or stop job may take (runc waits 30 s too).
    static let jobTimeout: Int32 = 30_000

    /// `started`: the unit exists already (a later command); create's driver starts it.
    package init(_ systemd: SystemdManager, path: SystemdUnitPath, manager: CgroupManager, started: Bool = false) {
        self.systemd = systemd
        self.path = path
        self.manager = manager
        self.started = started
        self.systemdVersion = systemd.version()
    }

    /// Connects to the manager that owns the caller's units: systemd for root, the user's own otherwise.
    package static func connect(rootless: Bool) throws -> SystemdManager {
        try SystemdManager(user: rootless, uid: UInt32(getuid()), environment: Processes.environment())
    }

    /// The manager's own cgroup, under which its units live ("" for the system manager).
    package static func managerRoot(_ systemd: SystemdManager, rootless: Bool) throws -> String {
        guard rootless else { return "" }
        let root = try systemd.managerProperty("ControlGroup")
        return root == "/" ? "" : root
    }

    package func prepare(_ resources: Resources) throws {
        if let problem = manager.problems(resources).first { throw problem }
        _ = try SystemdProperties.resources(resources, version: manager.cgroups.version, systemdVersion: systemdVersion)
    }

    package func placeFromParent(_ pid: pid_t, resources: Resources, initPlacesItself: Bool) throws {
        let version = manager.cgroups.version
        var forUnit = resources
        if let rules = unitDeviceRules { forUnit.devices = rules }
        var (limits, adjusted) = try SystemdProperties.resources(forUnit, version: version, systemdVersion: systemdVersion)
        adjusted.devices = resources.devices
        try start(SystemdProperties.unit(path, pid: pid, version: version) + limits)
        // v1: systemd manages only some hierarchies (not cpuset, freezer, net_cls...): make the rest and join
        // the init to every one, as runc's legacy manager does. v2: the unit's cgroup is the one directory.
        if version == .v1 {
            try manager.create()
            try manager.add(pid)
        }
        try manager.apply(adjusted)
    }

    /// The parent placed the init (the unit's pid, and on v1 every other hierarchy).
    package func selfPlacement(initPlacesItself: Bool) -> SelfPlacement { .none }
    /// None: the unit is started with the init's pid, after clone.
    package var cloneTarget: String? { nil }

    package func update(_ resources: Resources) throws {
        if let problem = manager.problems(resources).first { throw problem }
        let (limits, adjusted) = try SystemdProperties.resources(resources, version: manager.cgroups.version, systemdVersion: systemdVersion)
        if !limits.isEmpty {
            do { try systemd.setUnitProperties(unit, limits) } catch {
                throw SystemdFailure("set properties of \(unit): \(error)")
            }
        }
        try manager.apply(adjusted)
    }

    package func destroy() throws {
        // A unit this create did not start may be another container's (same name): leave it and its cgroup.
        guard started else { return }
        try SystemdDriver.stop(unit, systemd)
        // systemd removes the unit's cgroup; v1 hierarchies it does not manage, and sub-cgroups an older
        // systemd leaves, go here.
        try manager.destroy()
    }

    /// StopUnit and wait for its job; a unit already gone (its last process exited) is fine.
    package static func stop(_ unit: String, _ systemd: SystemdManager) throws {
        do {
            let job = try systemd.stopUnit(unit)
            // Whatever the job's result, the unit ends gone or failed; a failed one is reset below (runc only warns).
            _ = try systemd.waitForJob(job, timeoutMilliseconds: jobTimeout)
        } catch {
            if error.name != "org.freedesktop.systemd1.NoSuchUnit" { throw SystemdFailure("stop \(unit): \(error)") }
        }
        try? systemd.resetFailedUnit(unit)
    }

    /// StartTransientUnit, once more after ResetFailedUnit when a failed unit of that name is left over (runc).
    func start(_ properties: [UnitProperty]) throws {
        var retried = false
        while true {
            do {
                let job = try systemd.startTransientUnit(unit, properties)
                started = true
                let result = try systemd.waitForJob(job, timeoutMilliseconds: Self.jobTimeout)
                guard result == "done" else {
                    try? systemd.resetFailedUnit(unit)
                    throw SystemdFailure("systemd unit \(unit): start job \(result)")
                }
                return
            } catch let error as DBusError where error.name == "org.freedesktop.systemd1.UnitExists" && !retried {
                retried = true
                try? systemd.resetFailedUnit(unit)
            } catch let error as DBusError {
                throw SystemdFailure("start systemd unit \(unit) (\(properties.map(\.description).joined(separator: " "))): \(error)")
            }
        }
    }
}

package struct SystemdFailure: Error, CustomStringConvertible {
    package var description: String
    package init(_ description: String) { self.description = description }
}
