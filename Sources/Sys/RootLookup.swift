import CShim
import Glibc

extension Files {
    /// stat of `path` as a process chrooted at `root` would see it: openat2 with RESOLVE_IN_ROOT, so
    /// absolute symlinks and `..` stay inside `root` (as they will once the container has pivoted there).
    /// nil when it does not exist or cannot be reached; for `check`, which must not follow a rootfs's
    /// symlinks onto the host.
    package static func statInRoot(_ root: FileDescriptor, _ path: String) -> Glibc.stat? {
        guard let fd = openInRoot(root, path) else { return nil }
        return try? status(fd)
    }

    /// An O_PATH fd of `path` resolved as a process chrooted at `root` would (openat2 RESOLVE_IN_ROOT, Linux 5.6;
    /// no magic links); nil when it is missing or cannot be reached.
    package static func openInRoot(_ root: FileDescriptor, _ path: String) -> FileDescriptor? {
        let resolve = CS_RESOLVE_IN_ROOT | CS_RESOLVE_NO_MAGICLINKS
        let fd = path.withCString { cshim_openat2(root.raw, $0, UInt64(O_PATH | O_CLOEXEC), 0, resolve) }
        if fd >= 0 { return FileDescriptor(fd) }
        // The walk gives the same answer in user space.
        guard openat2IsMissing(errno) else { return nil }
        return try? walkInRoot(root, path, making: .nothing)
    }

    /// openat2 failed for want of openat2 itself: a kernel before 5.6 (ENOSYS), or a caller's seccomp filter that
    /// predates it (ENOSYS; EPERM from older profiles).
    static func openat2IsMissing(_ error: Int32) -> Bool { error == ENOSYS || error == EPERM }

    /// stat following symlinks; nil when there is nothing there.
    package static func statIfExists(_ path: String) -> Glibc.stat? {
        var st = Glibc.stat()
        return stat(path, &st) == 0 ? st : nil
    }
}
