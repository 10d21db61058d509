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

    /// openat2 strictly below `dir`: no symlinks, no `..` out, no crossing into another mount. For writes
    /// into procfs that a container could otherwise redirect with a planted symlink or bind mount.
    package static func openBeneathNoCrossing(_ dir: FileDescriptor, _ path: String, _ flags: Int32) throws(SysError) -> FileDescriptor {
        let resolve = CS_RESOLVE_NO_XDEV | CS_RESOLVE_NO_SYMLINKS | CS_RESOLVE_BENEATH
        return FileDescriptor(try check("open", path) {
            path.withCString { cshim_openat2(dir.raw, $0, UInt64(flags | O_CLOEXEC | O_NOFOLLOW), 0, resolve) }
        })
    }
}
