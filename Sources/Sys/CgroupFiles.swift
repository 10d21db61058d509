import CShim
import Glibc

/// Reads and writes of cgroup control files, with errors that name the file, the value and its cgroup directory:
/// `write memory.limit_in_bytes = "1048576" in /sys/fs/cgroup/memory/crabcan/c1: EINVAL (invalid argument)`.
public enum CgroupFiles {
    /// cgroupfs and cgroup2 superblock magics (linux/magic.h).
    static let cgroupMagic: Int = 0x27e0eb
    static let cgroup2Magic: Int = 0x6367_7270

    /// Test mode: unit tests' fake hierarchies are plain directories below this one, whose control files do not
    /// exist until written. Set by tests only (once, before any fake is used); nil in the binary, which never
    /// creates a control file nor treats a directory as fake.
    nonisolated(unsafe) public static var testRoot: String?

    /// A fake hierarchy of test mode: below `testRoot` and not on cgroupfs.
    public static func isFake(_ dir: String) -> Bool {
        guard let root = testRoot else { return false }
        return dir.hasPrefix(root + "/") && !isCgroupFS(dir)
    }

    /// True when `path` is on a real cgroup file system (v1 or v2).
    public static func isCgroupFS(_ path: String) -> Bool {
        let type = cshim_fs_type(path)
        return type == cgroupMagic || type == cgroup2Magic
    }

    /// Writes `text` to `dir/file` in one write(2): the kernel parses each write as one value. A missing file
    /// means the kernel lacks the feature, and that error must surface (in a fake hierarchy it is created).
    public static func write(_ dir: String, _ file: String, _ text: String) throws(SysError) {
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

    /// The value in double quotes, `"` and `\` escaped and control characters as \n, \t or \u00HH, so that an
    /// error stays one line whatever a config's `unified` value holds.
    static func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }

    /// The contents of `dir/file`.
    public static func read(_ dir: String, _ file: String) throws(SysError) -> String {
        do throws(SysError) {
            return try Files.readText(dir + "/" + file)
        } catch {
            throw SysError("read \(file) in", path: dir, errno: error.errno)
        }
    }

    /// Sleeps between polls of freezer state and rmdir retries (cgroup state changes are asynchronous).
    public static func sleep(milliseconds: Int) {
        var request = timespec(tv_sec: milliseconds / 1000, tv_nsec: (milliseconds % 1000) * 1_000_000)
        var remaining = timespec()
        while nanosleep(&request, &remaining) == -1 && errno == EINTR { request = remaining }
    }
}
