import Glibc
import StateStore
import Sys

extension Runtime {
    /// `kill`: signals the init (through a pidfd, so a recycled pid is never hit), or with `all` every
    /// process in the container.
    public func kill(_ id: String, signal: Int32, all: Bool) throws {
        let snap = try snapshot(try directory(id))
        guard let record = snap.record, snap.status != .stopped, snap.status != .creating else {
            throw RuntimeError("container \(id) is not running")
        }
        let initFD = try Processes.pidfd(record.pid)
        // The pidfd is for the pid we checked; re-check the start time now that it cannot be recycled under us.
        guard Processes.startTime(of: record.pid) == record.startTime else {
            throw RuntimeError("container \(id) is not running")
        }
        if all {
            for pid in Runtime.processesSharingPidNamespace(with: record.pid) where pid != record.pid {
                _ = try? Processes.kill(pid, signal)
            }
        }
        try Processes.signal(pidfd: initFD, signal)
    }

    /// Every process in the init's pid namespace. Empty when the container shares our pid namespace, so
    /// `--all` can never reach host processes (cgroup-based `--all` comes with the cgroup manager).
    static func processesSharingPidNamespace(with initPID: pid_t) -> [pid_t] {
        guard let target = try? Files.readLink("/proc/\(initPID)/ns/pid"),
              target != (try? Files.readLink("/proc/self/ns/pid")),
              let entries = try? Files.listDirectory("/proc") else { return [] }
        return entries.compactMap { pid_t($0) }.filter { (try? Files.readLink("/proc/\($0)/ns/pid")) == target }
    }
}
