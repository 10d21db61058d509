import CShim
import Glibc

/// Starting a helper program (criu swrk) with exactly the fds it is given: `checkpoint` and `restore`.
extension Processes {
    /// fork + execve of `path`: `descriptors[i]` becomes fd i of the child and nothing else stays open there;
    /// signals are reset (a `restore` in the foreground has them all blocked). Returns the child's pid.
    package static func spawn(path: String, arguments: [String], environment: [String],
                             descriptors: [Int32]) throws(SysError) -> pid_t {
        let prepared = PreparedExec(path: path, arguments: arguments, environment: environment)
        let pid = try fork()
        if pid != 0 { return pid }
        // Copies above every target first: dup2 onto a target could otherwise close a source not yet moved, and
        // a dup2 of an fd onto itself would keep its close-on-exec flag.
        let base = Int32(100 + descriptors.count)
        var copies: [Int32] = []
        for fd in descriptors {
            let copy = cshim_fcntl_int(fd, F_DUPFD_CLOEXEC, base)
            if copy == -1 { exit(126) }
            copies.append(copy)
        }
        for (target, copy) in copies.enumerated() where Glibc.dup2(copy, Int32(target)) == -1 { exit(126) }
        do { try closeDescriptors(from: Int32(descriptors.count), except: []) } catch { exit(126) }
        Channels.resetSignals()
        let error = prepared.exec()
        StandardStreams.writeError("\(error)\n")
        exit(127)
    }

    /// The first executable `name` in the colon-separated `searchPath` (a name with a slash is taken as is).
    package static func findExecutable(_ name: String, searchPath: String) -> String? {
        if name.contains("/") { return access(name, X_OK) == 0 ? name : nil }
        for directory in searchPath.split(separator: ":") {
            let candidate = "\(directory)/\(name)"
            if access(candidate, X_OK) == 0 && !Files.isDirectory(candidate) { return candidate }
        }
        return nil
    }
}

extension Channels {
    /// shutdown(SHUT_WR): the peer reads end-of-file while we can still read its answer (criu swrk then exits
    /// quietly; a close would reset the connection under its pending read).
    package static func shutdownWrite(_ socket: FileDescriptor) throws(SysError) {
        try check("shutdown") { Glibc.shutdown(socket.raw, Int32(SHUT_WR)) }
    }
}
