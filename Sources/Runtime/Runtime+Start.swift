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
        let snap = try snapshot(directory)
        guard let record = snap.record else { throw RuntimeError("cannot start container \(id): it is still being created") }
        switch snap.status {
        case .created: break
        case .stopped: throw RuntimeError("cannot start a container that has stopped")
        default: throw RuntimeError("cannot start an already running container")
        }
        try releaseInit(directory, pid: record.pid)
    }

    /// Opens exec.fifo without blocking, then waits for the init's byte or its death, whichever comes first:
    /// a plain blocking open would hang forever on an init that died.
    func releaseInit(_ directory: ContainerDirectory, pid: pid_t) throws {
        let initFD = try Processes.pidfd(pid)
        let fifo = try Files.open(directory.execFifoPath, O_RDONLY | O_NONBLOCK)
        while true {
            let ready = try Channels.poll([fifo.raw, initFD.raw])
            if ready.contains(0) {
                let byte = try fifo.read(count: 1)
                if byte.isEmpty { throw RuntimeError("container init exited before it could start") }
                break
            }
            if ready.contains(1) { throw RuntimeError("container init exited before it could start") }
        }
        try Files.unlink(directory.execFifoPath)
    }
}
