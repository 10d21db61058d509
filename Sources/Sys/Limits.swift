import CShim
import Glibc

extension Processes {
    package static func setResourceLimit(_ resource: Int32, soft: UInt64, hard: UInt64, name: String) throws(SysError) {
        var limit = rlimit(rlim_cur: rlim_t(soft), rlim_max: rlim_t(hard))
        try check("setrlimit", name) { setrlimit(__rlimit_resource_t(resource), &limit) }
    }

    package static func setPersonality(_ persona: UInt) throws(SysError) {
        try check("personality") { cshim_personality(persona) }
    }
}

extension Files {
    /// The file-system magic of an open file (0x9fa0 for procfs).
    package static func fileSystemType(_ fd: FileDescriptor) throws(SysError) -> Int {
        Int(try check("fstatfs") { cshim_fd_fs_type(fd.raw) })
    }

    /// The file-system magic of what `path` names; 0 when it cannot be had.
    package static func fileSystemType(at path: String) -> Int { max(0, cshim_fs_type(path)) }

    /// openat2 strictly below `dir`: no symlinks, no `..` out, no crossing into another mount. For writes
    /// into procfs that a container could otherwise redirect with a planted symlink or bind mount.
    package static func openBeneathNoCrossing(_ dir: FileDescriptor, _ path: String, _ flags: Int32) throws(SysError) -> FileDescriptor {
        let resolve = CS_RESOLVE_NO_XDEV | CS_RESOLVE_NO_SYMLINKS | CS_RESOLVE_BENEATH
        let fd = path.withCString { cshim_openat2(dir.raw, $0, UInt64(flags | O_CLOEXEC | O_NOFOLLOW), 0, resolve) }
        if fd >= 0 { return FileDescriptor(fd) }
        let error = errno
        guard openat2IsMissing(error) else { throw SysError("open", path: path, errno: error) }
        return try walkBeneathNoCrossing(dir, path, flags)
    }

    /// The same rules in user space: one component at a time with O_NOFOLLOW (a symlink is ELOOP, or ENOTDIR on
    /// the way), no `.` or `..`, and each step's mount (fdinfo's mnt_id, Linux 3.15) the one `dir` is on.
    static func walkBeneathNoCrossing(_ dir: FileDescriptor, _ path: String, _ flags: Int32) throws(SysError) -> FileDescriptor {
        let components = path.split(separator: "/")
        guard !components.isEmpty, !components.contains(where: { $0 == "." || $0 == ".." }) else {
            throw SysError("open", path: path, errno: EXDEV)
        }
        let mount = try mountID(of: dir)
        var parent = dir
        for (index, component) in components.enumerated() {
            let last = index == components.count - 1
            let next = try openAt(parent, String(component), last ? flags | O_NOFOLLOW : O_PATH | O_DIRECTORY | O_NOFOLLOW)
            guard try mountID(of: next) == mount else { throw SysError("open", path: path, errno: EXDEV) }
            parent = next
        }
        return parent
    }

    /// The id of the mount `fd` is on, from /proc/thread-self/fdinfo (the field `mnt_id`).
    static func mountID(of fd: FileDescriptor) throws(SysError) -> Int {
        let text = try readText("/proc/thread-self/fdinfo/\(fd.raw)")
        for line in text.split(separator: "\n") where line.hasPrefix("mnt_id:") {
            if let id = Int(line.dropFirst("mnt_id:".count).drop(while: { $0 == " " || $0 == "\t" })) { return id }
        }
        throw SysError("read mnt_id", path: "/proc/thread-self/fdinfo/\(fd.raw)", errno: EINVAL)
    }
}
