import CShim
import Glibc

/// Reads and writes of cgroup control files, with errors that name the file, the value and its cgroup directory:
/// `write memory.limit_in_bytes = "1048576" in /sys/fs/cgroup/memory/crabcan/c1: EINVAL (invalid argument)`.
package enum CgroupFiles {
    /// cgroupfs and cgroup2 superblock magics (linux/magic.h).
    static let cgroupMagic: Int = 0x27e0eb
    static let cgroup2Magic: Int = 0x6367_7270

    /// Test mode: unit tests' fake hierarchies are plain directories below this one, whose control files do not
    /// exist until written. Set by tests only (once, before any fake is used); nil in the binary, which never
    /// creates a control file nor treats a directory as fake.
    nonisolated(unsafe) package static var testRoot: String?

    /// A fake hierarchy of test mode: below `testRoot` and not on cgroupfs.
    package static func isFake(_ dir: String) -> Bool {
        guard let root = testRoot else { return false }
        return dir.hasPrefix(root + "/") && !isCgroupFS(dir)
    }

    /// True when `path` is on a real cgroup file system (v1 or v2).
    package static func isCgroupFS(_ path: String) -> Bool {
        let type = cshim_fs_type(path)
        return type == cgroupMagic || type == cgroup2Magic
    }

    /// Writes `text` to `dir/file` in one write(2): the kernel parses each write as one value. A missing file
    /// means the kernel lacks the feature, and that error must surface (in a fake hierarchy it is created).
    package static func write(_ dir: String, _ file: String, _ text: String) throws(SysError) {
        let path = dir + "/" + file
        let op = "write \(file) = \(quoted(text)) in"
        var fd = retryingEINTR { Glibc.open(path, O_WRONLY | O_CLOEXEC | O_TRUNC) }
        if fd == -1 && errno == ENOENT && isFake(dir) && Files.isDirectory(dir) {
            fd = retryingEINTR { Glibc.open(path, O_WRONLY | O_CLOEXEC | O_CREAT | O_TRUNC, 0o644) }
        }
        if fd == -1 { throw SysError(op, path: dir) }
        defer { Glibc.close(fd) }
        let bytes = Array(text.utf8)
        let n = retryingEINTR { bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, bytes.count) } }
        if n == -1 { throw SysError(op, path: dir) }
        if n != bytes.count { throw SysError(op, path: dir, errno: EIO) }
    }

    /// The value quoted as JSON does, so that an error stays one line whatever a config's `unified` value holds.
    static func quoted(_ text: String) -> String { jsonQuote(text) }

    /// The contents of `dir/file`.
    package static func read(_ dir: String, _ file: String) throws(SysError) -> String {
        do throws(SysError) {
            return try Files.readText(dir + "/" + file)
        } catch {
            throw SysError("read \(file) in", path: dir, errno: error.errno)
        }
    }

    /// Sleeps between polls of freezer state and rmdir retries (cgroup state changes are asynchronous).
    package static func sleep(milliseconds: Int) {
        var request = timespec(tv_sec: milliseconds / 1000, tv_nsec: (milliseconds % 1000) * 1_000_000)
        var remaining = timespec()
        while nanosleep(&request, &remaining) == -1 && errno == EINTR { request = remaining }
    }
}
