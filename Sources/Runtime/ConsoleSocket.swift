import Sys

extension Runtime {
    /// Hands a pty master to the listener at --console-socket as runc does: one message on an AF_UNIX
    /// stream connection, the fd attached (SCM_RIGHTS) and the file's name as payload. conmon and
    /// containerd's shim read it there.
    static func sendConsole(_ master: FileDescriptor, to path: String) throws {
        do {
            let socket = try Channels.connectUnix(path)
            try Channels.sendDescriptor(socket, master.raw, payload: Array("/dev/ptmx".utf8))
        } catch {
            throw RuntimeError("console socket \(path): \(error)", cause: error)
        }
    }
}
