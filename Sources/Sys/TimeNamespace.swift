import Glibc

extension Namespaces {
    /// True when the kernel has time namespaces (5.6+, CONFIG_TIME_NS).
    package static var haveTimeNamespaces: Bool { Files.exists("/proc/self/ns/time") }

    /// Makes a time namespace with `offsets` ("monotonic <secs> <nanosecs>" lines) and moves the caller into it.
    /// unshare(CLONE_NEWTIME) only sets where children go; the offsets can be written only while the namespace
    /// is still empty; then setns into it moves the (single-threaded) caller itself (time_namespaces(7)).
    /// Done by the container's init after it became root of its user namespace, so the namespace belongs to that
    /// user namespace (runc makes it there too) and an unprivileged caller can make one.
    package static func enterNewTimeNamespace(offsets: String) throws(SysError) {
        try unshare(time)
        if !offsets.isEmpty {
            let file = try Files.open("/proc/self/timens_offsets", O_WRONLY)
            let bytes = Array(offsets.utf8)
            let written = bytes.withUnsafeBytes { Glibc.write(file.raw, $0.baseAddress, bytes.count) }
            if written != bytes.count {
                throw SysError("write", path: "/proc/self/timens_offsets", errno: written == -1 ? errno : EIO)
            }
        }
        let next = try Files.open("/proc/self/ns/time_for_children", O_RDONLY)
        try join(next, type: time, path: "/proc/self/ns/time_for_children")
    }
}
