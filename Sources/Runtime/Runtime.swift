import Cgroups
import Glibc
import JSON
import Launcher
import OCISpec
import StateStore
import Sys

/// The container facade: one function per subcommand; the CLI only parses flags and prints.
package struct Runtime {
    /// State root (`--root`, default /run/crabcan).
    package let root: String
    package let log: Log
    /// `--systemd-cgroup`: create puts the container in a systemd unit (the driver is recorded, so later
    /// commands use create's whatever they are given).
    package var systemdCgroup = false
    /// `--criu`: the criu binary checkpoint and restore run (a name is looked up in PATH).
    package var criu = "criu"

    package init(root: String, log: Log) {
        self.root = root
        self.log = log
    }

    package static let defaultRoot = "/run/crabcan"
    /// Under the default root whatever --root is: one per mount namespace (MountTemplate). `@` is not allowed in a
    /// container id, and `list` shows valid ids only.
    package static let mountTemplate = MountTemplate(directory: defaultRoot + "/@mount-template")
    /// The runtime-spec version crabcan implements (the `features` and default `spec` version).
    package static let specVersion = "1.3.0"

    func directory(_ id: String) throws -> ContainerDirectory { try ContainerDirectory(root: root, id: id) }

    /// A phase trace for one command: on with `--debug` (or CRABCAN_TRACE=1 with any log), logged at its end.
    func phaseTrace() -> PhaseTrace {
        PhaseTrace(enabled: log.debugEnabled || Processes.environmentValue("CRABCAN_TRACE") == "1")
    }

    /// A container as found on disk, with its status derived from the live system.
    package struct Snapshot: Sendable {
        package var record: ContainerRecord?
        package var status: ContainerStatus
        package var id: String
    }

    /// `locked`: the caller holds the container's lock, so no create of it is under way.
    func snapshot(_ directory: ContainerDirectory, locked: Bool = false) throws -> Snapshot {
        var record = try directory.read()
        // Without state.json a create is under way only while it holds the lock; with the lock free it either
        // finished just now (so read again) or died and left debris.
        var createInProgress = true
        if record == nil && (locked || !directory.isLocked) {
            record = try directory.read()
            createInProgress = false
        }
        let live = record.flatMap { Processes.stat(of: $0.pid) }
        let status = ContainerStatus.derive(recordedStartTime: record?.startTime, liveProcess: live,
                                            execFifoExists: directory.execFifoExists,
                                            frozen: record.flatMap(Runtime.cgroups)?.isFrozen() ?? false,
                                            createInProgress: createInProgress)
        return Snapshot(record: record, status: status, id: directory.id)
    }

    /// The OCI state document (runtime.md "State"), with runc's extras; pid 0 once stopped, as runc prints.
    package func state(_ id: String) throws -> [UInt8] {
        let snap = try snapshot(try directory(id))
        guard let record = snap.record else {
            return State(ociVersion: Runtime.specVersion, id: id, status: snap.status.rawValue, pid: nil, bundle: "",
                         annotations: [:]).encode(pretty: true)
        }
        return stateDocument(record, snap.status).encode(pretty: true)
    }

    /// The container's cgroups as recorded at create; nil for a record without them.
    static func cgroups(_ record: ContainerRecord) -> CgroupManager? {
        guard let version = CgroupVersion(rawValue: record.cgroupVersion), !record.cgroupPaths.isEmpty else { return nil }
        return CgroupManager(CgroupSet(version: version, paths: record.cgroupPaths))
    }

    func stateDocument(_ record: ContainerRecord, _ status: ContainerStatus) -> State {
        var state = State(ociVersion: record.ociVersion, id: record.id, status: status.rawValue,
                          pid: status == .stopped ? 0 : record.pid, bundle: record.bundle, annotations: record.annotations)
        state.rootfs = record.rootfs
        state.created = record.created
        state.owner = record.owner
        return state
    }
}
