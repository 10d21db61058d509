import CShim
import Glibc

/// The /proc files through which a new user namespace gets its id mappings (user_namespaces(7)).
package enum IDMaps {
    /// Writes a whole map ("inside outside count" lines) to /proc/<pid>/uid_map or gid_map. The kernel takes
    /// exactly one write per file, and only from a process in the namespace's parent with CAP_SETUID there
    /// (or, unprivileged, a single line mapping the writer's own id).
    package static func write(pid: pid_t, file: String, _ text: String) throws(SysError) {
        let path = "/proc/\(pid)/\(file)"
        let fd = try Files.open(path, O_WRONLY)
        let bytes = Array(text.utf8)
        let written = bytes.withUnsafeBytes { Glibc.write(fd.raw, $0.baseAddress, bytes.count) }
        if written != bytes.count { throw SysError("write", path: path, errno: written == -1 ? errno : EIO) }
    }

    /// An unprivileged writer may map its own gid only once setgroups(2) is off for good in the namespace,
    /// or the container could drop a group the host uses to deny it access (CVE-2014-8989).
    package static func denySetgroups(pid: pid_t) throws(SysError) {
        try Files.open("/proc/\(pid)/setgroups", O_WRONLY).write("deny")
    }

    /// False in a user namespace whose setgroups was denied: setgroups(2) then fails with EPERM.
    package static var setgroupsAllowed: Bool {
        guard let text = try? Files.readText("/proc/self/setgroups") else { return true }
        return !text.hasBytePrefix("deny")
    }
}

extension Processes {
    package static var effectiveGID: gid_t { getegid() }

    /// The first executable `name` in $PATH (or the usual system directories when PATH is unset).
    package static func findProgram(_ name: String, path: String?) -> String? {
        let directories = (path ?? "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin").split(separator: ":")
        for directory in directories where !directory.isEmpty {
            let candidate = "\(directory)/\(name)"
            if access(candidate, X_OK) == 0, !Files.isDirectory(candidate) { return candidate }
        }
        return nil
    }

    /// Runs a short helper (newuidmap, newgidmap, ps) to completion and returns how it ended with what it printed.
    /// It gets default signals and none of our fds but stdio; its stdout and stderr come back through a pipe.
    package static func runTool(_ path: String, _ arguments: [String],
                               environment: [String] = ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"]) throws(SysError)
        -> (status: ExitStatus, output: String) {
        var fds: [Int32] = [-1, -1]
        try check("pipe") { pipe(&fds) }
        let reader = FileDescriptor(fds[0])
        let writer = FileDescriptor(fds[1])
        try reader.setCloseOnExec(true)
        let pid = try fork()
        if pid == 0 {
            _ = Glibc.dup2(writer.raw, 1)
            _ = Glibc.dup2(writer.raw, 2)
            Channels.resetSignals()
            _ = cshim_close_range_cloexec(3)
            let error = exec(path: path, arguments: [path] + arguments, environment: environment)
            StandardStreams.writeError("\(error)\n")
            exit(127)
        }
        writer.close()
        let output = (try? reader.readAll()) ?? []
        reader.close()
        guard let status = try wait(pid).status else { throw SysError("waitpid", path: path, errno: ECHILD) }
        return (status, String(decoding: output, as: UTF8.self))
    }
}

extension Files {
    /// access(2) with W_OK|X_OK for the real ids: can the caller make entries in the directory `path`?
    package static func canCreateEntries(in path: String) -> Bool { access(path, W_OK | X_OK) == 0 }
}

extension Namespaces {
    /// CLONE_PARENT: the child gets our parent, so a helper can clone a process that is still its caller's child.
    package static let cloneParent = CS_CLONE_PARENT
}

extension Mounts {
    /// A detached copy of the mount at `fd` (open_tree OPEN_TREE_CLONE): attachable with `attach` later, even
    /// after pivot_root has detached the tree it came from.
    package static func detachedCopy(of fd: FileDescriptor, describe: String) throws(SysError) -> FileDescriptor {
        FileDescriptor(try check("open_tree", describe) { cshim_open_tree_clone(fd.raw) })
    }

    /// A detached copy of the mount tree at `path` (with its submounts when `recursive`: an rbind).
    package static func detachedCopy(of path: String, recursive: Bool) throws(SysError) -> FileDescriptor {
        FileDescriptor(try check("open_tree", path) { cshim_open_tree_clone_path(path, recursive ? 1 : 0) })
    }

    /// A mount namespace of its own holding only a copy of the tree at `path` (open_tree OPEN_TREE_NAMESPACE,
    /// Linux 7.0), to be entered with setns: no copy of the caller's mounts to make, make a slave and detach again.
    package static func treeNamespace(of path: String) throws(SysError) -> FileDescriptor {
        FileDescriptor(try check("open_tree(OPEN_TREE_NAMESPACE)", path) { cshim_open_tree_namespace(path) })
    }

    /// move_mount of a detached copy onto the file or directory `target` is open on (resolved once, by the caller).
    package static func attach(_ detached: FileDescriptor, to target: FileDescriptor, describe: String) throws(SysError) {
        try check("move_mount", describe) { cshim_move_mount_to_fd(detached.raw, target.raw) }
    }

    /// move_mount of a detached copy onto `target`.
    package static func attach(_ detached: FileDescriptor, to target: String) throws(SysError) {
        try check("move_mount", target) { cshim_move_mount_to(detached.raw, target) }
    }
}
