import Glibc
import Sys

/// `--pidfd-socket` of run, create and exec (runc 1.2): a supervisor listening on an AF_UNIX socket gets a pidfd of
/// the container's process (SCM_RIGHTS), so it can signal it without racing a recycled pid. docs/idmap-and-pidfd.md.
struct PidfdSocket {
    let path: String
    let socket: FileDescriptor

    /// Connected before anything is made (as runc dials first): an unreachable socket fails with nothing to undo.
    static func connect(_ path: String?) throws -> PidfdSocket? {
        guard let path else { return nil }
        do {
            return PidfdSocket(path: path, socket: try Channels.connectUnix(path))
        } catch {
            throw RuntimeError("pidfd socket \(path): \(error)")
        }
    }

    /// One message: the pidfd attached, runc's words as payload ("standard" for an init, "setns" for an exec'd
    /// process); sent while the process waits before its program (the init before `start`), as runc's init does.
    func send(pid: pid_t, exec: Bool) throws {
        do {
            let pidfd = try Processes.pidfd(pid)
            try Channels.sendDescriptor(socket, pidfd.raw, payload: Array((exec ? "setns" : "standard").utf8))
            pidfd.close()
            socket.close()
        } catch {
            throw RuntimeError("pidfd socket \(path): \(error)")
        }
    }

    /// `crabcan check --pidfd-socket`: what create would find, without connecting (a listener takes one
    /// connection). nil when the kernel has pidfds and `path` is a socket.
    static func problem(_ path: String) -> String? {
        if (try? Processes.pidfd(getpid())) == nil { return "this kernel has no pidfd_open (Linux 5.3)" }
        guard let mode = Files.lstatMode(path) else { return "\(path) does not exist" }
        if mode & S_IFMT != S_IFSOCK { return "\(path) is not a socket" }
        return nil
    }
}
