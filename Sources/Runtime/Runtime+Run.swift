import Glibc
import Launcher
import StateStore
import Sys

extension Runtime {
    /// `run`: create + start, then (unless `detach`) stay as the init's parent: forward signals, reap it,
    /// delete the container (unless `keep`: it stays, stopped, for `state` and `delete`) and return its exit code
    /// (128 + signal when killed), as runc does.
    package func run(_ id: String, _ options: CreateOptions, detach: Bool, keep: Bool = false) throws -> Int32 {
        // Signals are taken from a signalfd from here on, so none is lost (or kills us) while we set up.
        let (signals, previousMask) = try Channels.blockAllSignals()
        defer { Channels.restoreSignalMask(previousMask) }
        let created = try create(id, options, relayTerminal: !detach, startsAtOnce: true)
        let initProcess = created.initProcess
        let directory = try self.directory(id)
        do {
            if initProcess.startsThroughSocket {
                // In the foreground with no poststart hook, nothing needs the execve first: the exit tells.
                try initProcess.start(awaitingExec: detach || !created.record.hooks.poststart.isEmpty)
            } else {
                try releaseInit(directory, pid: initProcess.pid)
            }
            // The record create wrote: its hooks are the config's, and reading state.json back parsed it again.
            runPoststartHooks(created.record)
        } catch {
            if !keep { try? delete(id, force: true) }
            throw RuntimeError("run \(id): \(error)", cause: error)
        }
        if detach { return 0 }
        let relayed = options.consoleSocket == nil ? initProcess.console : nil
        let status = try Supervision(pid: initProcess.pid, signals: signals, terminal: relayed).untilExit()
        if !keep { try delete(id, force: true, reaped: created) }
        return status.shellCode
    }
}
