import CShim
import Glibc

extension Files {
    /// stat of `path` as a process chrooted at `root` would see it: openat2 with RESOLVE_IN_ROOT, so
    /// absolute symlinks and `..` stay inside `root` (as they will once the container has pivoted there).
    /// nil when it does not exist or cannot be reached; for `check`, which must not follow a rootfs's
    /// symlinks onto the host.
    package static func statInRoot(_ root: FileDescriptor, _ path: String) -> Glibc.stat? {
        let resolve = CS_RESOLVE_IN_ROOT | CS_RESOLVE_NO_MAGICLINKS
        let fd = path.withCString { cshim_openat2(root.raw, $0, UInt64(O_PATH | O_CLOEXEC), 0, resolve) }
        if fd < 0 { return nil }
        defer { Glibc.close(fd) }
        var st = Glibc.stat()
        return fstat(fd, &st) == 0 ? st : nil
    }

    /// stat following symlinks; nil when there is nothing there.
    package static func statIfExists(_ path: String) -> Glibc.stat? {
        var st = Glibc.stat()
        return stat(path, &st) == 0 ? st : nil
    }
}
