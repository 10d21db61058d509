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
        return dir.hasBytePrefix(root + "/") && !isCgroupFS(dir)
    }

    /// True when `path` is on a real cgroup file system (v1 or v2).
    package static func isCgroupFS(_ path: String) -> Bool {
        let type = cshim_fs_type(path)
        return type == cgroupMagic || type == cgroup2Magic
    }

    /// Writes `text` to `dir/file` in one write(2): the kernel parses each write as one value. A missing file
    /// means the kernel lacks the feature, and that error must surface (in a fake hierarchy it is created).
    package static func write(_ dir: String, _ file: String, _ text: String) throws(SysError) {
        try Writer(dir, file).write(text)
    }

    /// A control file held open for several values, each its own write(2) (devices.allow takes one rule per
    /// write): one open and one path walk for all of them.
    package final class Writer {
        let dir: String
        let file: String
        let fd: Int32
        /// Why the open failed, reported by the first write (whose error names the value too).
        let openErrno: Int32
        /// A fake hierarchy's file is a plain file: each value replaces the last, as in a cgroup file.
        let fake: Bool

        package init(_ dir: String, _ file: String) {
            let path = dir + "/" + file
            // No O_TRUNC: a control file takes each write whole, and truncating one is a setattr through kernfs on
            // every open (2% of `run`'s openat time). A fake's file is truncated before each write instead.
            var fd = retryingEINTR { path.withCString { Glibc.open($0, O_WRONLY | O_CLOEXEC) } }
            if fd == -1 && errno == ENOENT && isFake(dir) && Files.isDirectory(dir) {
                fd = retryingEINTR { path.withCString { Glibc.open($0, O_WRONLY | O_CLOEXEC | O_CREAT, 0o644) } }
            }
            (self.dir, self.file, self.fd, self.openErrno) = (dir, file, fd, fd == -1 ? errno : 0)
            fake = fd != -1 && isFake(dir)
        }

        deinit { if fd != -1 { Glibc.close(fd) } }

        package func write(_ text: String) throws(SysError) {
            // The message is made only on failure (quoting escapes the value byte by byte).
            func failure(_ errno: Int32) -> SysError { SysError("write \(file) = \(quoted(text)) in", path: dir, errno: errno) }
            if fd == -1 { throw failure(openErrno) }
            if fake && (Glibc.ftruncate(fd, 0) == -1 || Glibc.lseek(fd, 0, SEEK_SET) == -1) { throw failure(errno) }
            var text = text
            let (n, count) = text.withUTF8 { bytes in (retryingEINTR { Glibc.write(fd, bytes.baseAddress, bytes.count) }, bytes.count) }
            if n == -1 { throw failure(errno) }
            if n != count { throw failure(EIO) }
        }
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
