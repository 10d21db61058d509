import Glibc
import StateStore
import Sys

extension Runtime {
    /// `kill`: signals the init (through a pidfd, so a recycled pid is never hit), or with `all` every
    /// process in the container's cgroup (frozen while signalled, so none forks away).
    public func kill(_ id: String, signal: Int32, all: Bool) throws {
        // runc's words: containerd's shim knows an already finished process only by "container not running".
        let notRunning = RuntimeError("cannot signal container \(id): container not running")
        let snap = try snapshot(try directory(id))
        guard let record = snap.record, snap.status != .creating else { throw notRunning }
        if snap.status == .stopped {
            // runc: `kill --all` of a stopped container signals what its init left in the cgroup and succeeds
            // (containerd's CRI plugin sends one after every exit).
            guard all else { throw notRunning }
            if let cgroups = Runtime.cgroups(record), let left = try? cgroups.pids(), !left.isEmpty {
                try cgroups.signalAll(signal)
            }
            return
        }
        // The init may exit at any point from here (a racing kill or delete): that is "not running", not ESRCH.
        do {
            let initFD = try Processes.pidfd(record.pid)
            // The pidfd is for the pid we checked; re-check the start time now that it cannot be recycled under us.
            guard Processes.startTime(of: record.pid) == record.startTime else { throw notRunning }
            if all, let cgroups = Runtime.cgroups(record) {
                try cgroups.signalAll(signal)
            }
            try Processes.signal(pidfd: initFD, signal)
            // In a paused container SIGKILL takes effect only once thawed (runc thaws for SIGKILL only).
            if snap.status == .paused && signal == SIGKILL { try Runtime.cgroups(record)?.thaw() }
        } catch {
            // A racing delete may have taken the init or the cgroup away meanwhile: say what the container is now.
            if (try? snapshot(try directory(id)))?.status ?? .stopped == .stopped { throw notRunning }
            throw error
        }
    }
}
