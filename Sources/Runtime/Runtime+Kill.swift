import Glibc
import StateStore
import Sys

extension Runtime {
    /// `kill`: signals the init (through a pidfd, so a recycled pid is never hit), or with `all` every
    /// process in the container's cgroup (cgroup.kill, or frozen while signalled, so none forks away).
    public func kill(_ id: String, signal: Int32, all: Bool) throws {
        let snap = try snapshot(try directory(id))
        guard let record = snap.record, snap.status != .stopped, snap.status != .creating else {
            throw RuntimeError("container \(id) is not running")
        }
        // The init may exit at any point from here (a racing kill or delete): that is "not running", not ESRCH.
        do {
            let initFD = try Processes.pidfd(record.pid)
            // The pidfd is for the pid we checked; re-check the start time now that it cannot be recycled under us.
            guard Processes.startTime(of: record.pid) == record.startTime else {
                throw RuntimeError("container \(id) is not running")
            }
            // Signal 0 delivers nothing: the init answering for the container is enough (no freeze round trip).
            if all, signal != 0, let cgroups = Runtime.cgroups(record) {
                // The init is in its cgroup, so it got the signal too: signalling it again would deliver it twice,
                // or, after cgroup.kill, find it already reaped (ESRCH) and report a killed container "not running".
                try cgroups.signalAll(signal)
                if signal == SIGKILL, snap.status == .paused { try cgroups.thawAfterKill() }
                try cgroups.signalAll(signal)
                return
            }
            try Processes.signal(pidfd: initFD, signal)
            if signal == SIGKILL, snap.status == .paused { try Runtime.cgroups(record)?.thawAfterKill() }
        } catch {
            // A racing delete may have taken the init or the cgroup away meanwhile: say what the container is now.
            if (try? snapshot(try directory(id)))?.status ?? .stopped == .stopped {
                throw RuntimeError("container \(id) is not running")
            }
            throw error
        }
    }
}
