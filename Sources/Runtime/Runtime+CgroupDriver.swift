import Cgroups
import DBus
import OCISpec
import StateStore
import Sys

/// Which cgroup driver a container has: chosen by create (`--systemd-cgroup`), recorded in its state
/// (`systemdUnit`), and taken from there by every later command.
extension Runtime {
    /// create's driver, and the resources it writes (an ordinary user's cut to what is delegated to it).
    func cgroupDriverForCreate(_ planned: CgroupSet, _ unit: SystemdUnitPath?, _ linux: Linux?) throws -> (any CgroupDriver, Resources) {
        guard systemdCgroup, let unit else {
            let (manager, resources) = cgroupsForCaller(planned, linux)
            return (CgroupfsDriver(manager), resources)
        }
        let rootless = Processes.effectiveUID != 0
        let systemd: SystemdManager
        let set: CgroupSet
        do {
            systemd = try SystemdDriver.connect(rootless: rootless)
            let root = try SystemdDriver.managerRoot(systemd, rootless: rootless)
            set = root.isEmpty ? planned : try unit.plan(host: try CgroupHost.detect(), managerRoot: root)
        } catch {
            throw RuntimeError("--systemd-cgroup: \(error)", cause: error)
        }
        let (manager, resources) = cgroupsForCaller(set, linux)
        let driver = SystemdDriver(systemd, path: unit, manager: manager)
        // The files of a rootless container get no device rules; its unit gets them as runc gives them.
        if rootless { driver.unitDeviceRules = DeviceRules.effective(linux).devices }
        return (driver, resources)
    }

    /// The driver of a created container, for update and delete: its unit's when it has one.
    static func driver(_ record: ContainerRecord, _ manager: CgroupManager) throws -> any CgroupDriver {
        guard !record.systemdUnit.isEmpty else { return CgroupfsDriver(manager) }
        let systemd = try SystemdDriver.connect(rootless: Processes.effectiveUID != 0)
        return SystemdDriver(systemd, path: SystemdUnitPath(slice: "", unit: record.systemdUnit), manager: manager, started: true)
    }

    /// Stops a unit create recorded but may not have finished (debris of a create that died).
    static func stopRecordedUnit(_ unit: String) {
        guard let systemd = try? SystemdDriver.connect(rootless: Processes.effectiveUID != 0) else { return }
        try? SystemdDriver.stop(unit, systemd)
    }

    /// `check --systemd-cgroup`: nil when the manager answers, else why not.
    static func systemdReachability() -> String? {
        do {
            let systemd = try SystemdDriver.connect(rootless: Processes.effectiveUID != 0)
            systemd.connection.close()
            return nil
        } catch {
            return "the systemd cgroup driver cannot be used: \(error)"
        }
    }
}
