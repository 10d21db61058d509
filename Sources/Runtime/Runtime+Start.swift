import Glibc
import Launcher
import StateStore
import Sys

extension Runtime {
    /// `start`: releases the init blocked on exec.fifo (runtime.md: start), then removes the fifo, which
    /// is what makes the status `running`.
    package func start(_ id: String) throws {
        var trace = phaseTrace()
        let directory = try self.directory(id)
        let lock = try directory.lock()
        defer { lock.close() }
        let snap = try snapshot(directory, locked: true)
        // We hold the lock, so no create is under way: one died before it wrote state.json.
        guard let record = snap.record else {
            throw RuntimeError("cannot start container \(id): its create did not complete (delete it)")
        }
        switch snap.status {
        case .created: break
        case .stopped: throw RuntimeError("cannot start a container that has stopped")
        default: throw RuntimeError("cannot start an already running container")
        }
        trace.mark("lock")
        try releaseInit(directory, pid: record.pid)
        trace.mark("release")
        runPoststartHooks(record)
        trace.mark("poststart")
        if trace.enabled { log.debug("start \(id) took \(trace.summary)") }
    }

    /// config.md: after the user's process has started, before `start` returns; a failure is only a warning.
    func runPoststartHooks(_ record: ContainerRecord) {
        guard !record.hooks.poststart.isEmpty else { return }
        do {
            try HookRunner.run(record.hooks.poststart, kind: .poststart, state: stateDocument(record, .running).encode(pretty: true))
        } catch {
            log.warning("\(error)")
        }
    }

    /// Opens exec.fifo without blocking, then waits for the init's byte or its death, whichever comes first:
    /// a plain blocking open would hang forever on an init that died.
    /// The fifo goes as soon as it is open: from then on the init runs its process (or dies of SIGPIPE if we
    /// die before it writes), so `state` must not say `created` even if this start is killed half-way.
    func releaseInit(_ directory: ContainerDirectory, pid: pid_t) throws {
        let initFD = try Processes.pidfd(pid)
        let fifo = try Files.open(directory.execFifoPath, O_RDONLY | O_NONBLOCK)
        try Files.unlink(directory.execFifoPath)
        Fault.point(.midStart)
        while true {
            let ready = try Channels.poll([Int(fifo.raw), Int(initFD.raw)])
            if ready.contains(0) {
                // "0", or "!" and why the init will not run the process (a startContainer hook failed).
                let said = try fifo.read(count: 4096)
                if said.isEmpty { throw RuntimeError("container init exited before it could start") }
                if said.first == UInt8(ascii: "!") { throw RuntimeError(String(decoding: said.dropFirst(), as: UTF8.self)) }
                break
            }
            if ready.contains(1) { throw RuntimeError("container init exited before it could start") }
        }
    }
}
