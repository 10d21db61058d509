import Glibc
import StateStore
import Sys

extension Runtime {
    /// `kill`: signals the init (through a pidfd, so a recycled pid is never hit), or with `all` every
    /// process in the container's cgroup (cgroup.kill, or frozen while signalled, so none forks away).
    package func kill(_ id: String, signal: Int32, all: Bool) throws {
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
            // Signal 0 delivers nothing: the init answering for the container is enough (no freeze round trip).
            if all, signal != 0, let cgroups = Runtime.cgroups(record) {
                // The init is in its cgroup, so it got the signal too: signalling it again would deliver it twice,
                // or, after cgroup.kill, find it already reaped (ESRCH) and report a killed container "not running".
                try cgroups.signalAll(signal)
                if signal == SIGKILL, snap.status == .paused { try cgroups.thawAfterKill() }
                return
            }
            try Processes.signal(pidfd: initFD, signal)
            if signal == SIGKILL, snap.status == .paused { try Runtime.cgroups(record)?.thawAfterKill() }
        } catch {
            // A racing delete may have taken the init or the cgroup away meanwhile: say what the container is now.
            if (try? snapshot(try directory(id)))?.status ?? .stopped == .stopped { throw notRunning }
            throw error
        }
    }
}
