import Glibc
import Launcher
import StateStore
import Sys

extension Runtime {
    /// `run`: create + start, then (unless `detach`) stay as the init's parent: forward signals, reap it,
    /// delete the container and return its exit code (128 + signal when killed), as runc does.
    public func run(_ id: String, _ options: CreateOptions, detach: Bool) throws -> Int32 {
        // Signals are taken from a signalfd from here on, so none is lost (or kills us) while we set up.
        let (signals, previousMask) = try Channels.blockAllSignals()
        defer { Channels.restoreSignalMask(previousMask) }
        let initProcess = try create(id, options)
        let directory = try self.directory(id)
        do {
            try releaseInit(directory, pid: initProcess.pid)
        } catch {
            try? delete(id, force: true)
            throw RuntimeError("run \(id): \(error)")
        }
        if detach { return 0 }
        let status = try forwardSignalsUntilExit(initProcess.pid, signals: signals)
        try delete(id, force: true)
        return status.shellCode
    }

    /// Relays every signal we get to the init until it exits; SIGCHLD only means "look again".
    private func forwardSignalsUntilExit(_ pid: pid_t, signals: FileDescriptor) throws -> ExitStatus {
        let initFD = try Processes.pidfd(pid)
        while true {
            let ready = try Channels.poll([signals.raw, initFD.raw])
            if ready.contains(1) {
                guard let status = try Processes.wait(pid).status else { continue }
                return status
            }
            if ready.contains(0) {
                let signal = try Channels.readSignal(signals)
                if signal != SIGCHLD { _ = try? Processes.signal(pidfd: initFD, signal) }
            }
        }
    }
}
