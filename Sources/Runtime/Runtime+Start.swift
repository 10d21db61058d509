import Glibc
import Launcher
import StateStore
import Sys

extension Runtime {
    /// `start`: releases the init blocked on exec.fifo (runtime.md: start), then removes the fifo, which
    /// is what makes the status `running`.
    public func start(_ id: String) throws {
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
        try releaseInit(directory, pid: record.pid)
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
            let ready = try Channels.poll([fifo.raw, initFD.raw])
            if ready.contains(0) {
                let byte = try fifo.read(count: 1)
                if byte.isEmpty { throw RuntimeError("container init exited before it could start") }
                break
            }
            if ready.contains(1) { throw RuntimeError("container init exited before it could start") }
        }
    }
}
