import Glibc
import JSON
import StateStore
import Sys

extension Runtime {
    /// `pause`: freezes every process of the container (v1 freezer, v2 cgroup.freeze).
    package func pause(_ id: String) throws {
        let (record, status, lock) = try lockedRecord(id)
        defer { lock.close() }
        // runc's words (containerd and podman pass them on).
        guard status == .running else {
            throw RuntimeError("cannot pause container \(id): \(status == .paused ? "container already paused" : "container not running")")
        }
        guard let cgroups = Runtime.cgroups(record) else { throw RuntimeError("container \(id) has no cgroup to freeze") }
        try cgroups.freeze()
    }

    /// `resume`: thaws a paused container.
    package func resume(_ id: String) throws {
        let (record, status, lock) = try lockedRecord(id)
        defer { lock.close() }
        guard status == .paused else { throw RuntimeError("cannot resume container \(id): container not paused (it is \(status.rawValue))") }
        try Runtime.cgroups(record)?.thaw()
    }

    /// `ps`: the host pids of every process in the container's cgroup, sorted.
    package func processes(_ id: String) throws -> [pid_t] {
        let snap = try snapshot(try directory(id))
        guard let record = snap.record, snap.status != .stopped else { throw RuntimeError("container \(id) is not running") }
        return try (Runtime.cgroups(record)?.pids() ?? [record.pid]).sorted()
    }

    package static func pidsJSON(_ pids: [pid_t]) -> [UInt8] {
        let writer = JSONWriter(pretty: false)
        writer.beginArray()
        for pid in pids { writer.int(Int64(pid)) }
        writer.endArray()
        return writer.bytes
    }

    private func lockedRecord(_ id: String) throws -> (ContainerRecord, ContainerStatus, FileDescriptor) {
        let directory = try self.directory(id)
        let lock = try directory.lock()
        let snap = try snapshot(directory, locked: true)
        guard let record = snap.record else {
            lock.close()
            throw RuntimeError("container \(id): its create did not complete (delete it)")
        }
        return (record, snap.status, lock)
    }
}
