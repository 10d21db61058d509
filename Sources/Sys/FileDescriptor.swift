import CShim
import Glibc

/// An owned file descriptor: closed when the last reference goes, unless `release()` handed it on.
package final class FileDescriptor: @unchecked Sendable {
    package private(set) var raw: Int32

    package init(_ raw: Int32) { self.raw = raw }

    deinit { if raw >= 0 { Glibc.close(raw) } }

    /// Gives up ownership, e.g. to a child that keeps the fd across execve.
    package func release() -> Int32 {
        let fd = raw
        raw = -1
        return fd
    }

    package func close() {
        if raw >= 0 { Glibc.close(raw) }
        raw = -1
    }

    /// Closes this process's descriptor and leaves the object as it is: a child sharing our memory reads `raw` for
    /// its own copy (Launcher.spawnSharing). Such an object is kept alive for good, so its deinit never runs here.
    package func closeOurCopy() { Glibc.close(raw) }

    package func setCloseOnExec(_ on: Bool) throws(SysError) {
        try check("fcntl F_SETFD") { cshim_fcntl_int(raw, F_SETFD, on ? FD_CLOEXEC : 0) }
    }

    package func setNonBlocking() throws(SysError) {
        let flags = try check("fcntl F_GETFL") { cshim_fcntl_int(raw, F_GETFL, 0) }
        try check("fcntl F_SETFL") { cshim_fcntl_int(raw, F_SETFL, flags | O_NONBLOCK) }
    }

    /// Reads up to `count` bytes; an empty result means end of file.
    package func read(count: Int) throws(SysError) -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: count)
        let n = try check("read") { buffer.withUnsafeMutableBytes { Glibc.read(raw, $0.baseAddress, count) } }
        buffer.removeSubrange(n...)
        return buffer
    }

    /// Reads to the end, into one buffer that is never zeroed: a page first (most files here, configs, /proc and
    /// cgroup files, fit it), then twice the room with what was read copied over. Growing by appending zeros made
    /// a temporary array and zeroed memory the read then overwrote: ~4 µs of a 13 KB seccomp entry.
    package func readAll() throws(SysError) -> [UInt8] {
        var capacity = 4096
        var read: [UInt8] = []
        while true {
            var failure: Int32 = 0
            var ended = false
            let bigger = [UInt8](unsafeUninitializedCapacity: capacity) { buffer, count in
                count = read.withUnsafeBufferPointer { UnsafeMutableRawBufferPointer(buffer).copyMemory(from: UnsafeRawBufferPointer($0)); return $0.count }
                while count < buffer.count {
                    let n = retryingEINTR { Glibc.read(raw, buffer.baseAddress! + count, buffer.count - count) }
                    if n < 0 {
                        failure = errno
                        return
                    }
                    if n == 0 {
                        ended = true
                        return
                    }
                    count += n
                }
            }
            if failure != 0 { throw SysError("read", errno: failure) }
            if ended { return bigger }
            read = bigger
            capacity *= 2
        }
    }

    /// Hands the file's lines to `consume` as reads complete them (the last without its newline, at the end),
    /// until it returns true. Reads `chunk` bytes at a time: seq_file formats only what a read asks for, so a
    /// reader that stops at the first lines of /proc/self/mountinfo never pays for the rest (~70 µs of kernel
    /// formatting read whole on this host, and more on a node with hundreds of mounts).
    package func readLines(chunk: Int, _ consume: (ArraySlice<UInt8>) -> Bool) throws(SysError) {
        var buffer = [UInt8](repeating: 0, count: max(chunk, 4096))
        var used = 0
        var handed = 0
        while true {
            if used == buffer.count { buffer += [UInt8](repeating: 0, count: buffer.count) }
            let room = min(chunk, buffer.count - used)
            let n = try check("read") {
                buffer.withUnsafeMutableBytes { Glibc.read(raw, $0.baseAddress! + used, room) }
            }
            if n == 0 {
                if handed < used { _ = consume(buffer[handed..<used]) }
                return
            }
            used += n
            guard let lastNewline = buffer[handed..<used].lastIndex(of: UInt8(ascii: "\n")) else { continue }
            if consume(buffer[handed...lastNewline]) { return }
            handed = lastNewline + 1
        }
    }

    package func write(_ bytes: [UInt8]) throws(SysError) {
        var offset = 0
        while offset < bytes.count {
            let n = try check("write") {
                bytes.withUnsafeBytes { Glibc.write(raw, $0.baseAddress! + offset, bytes.count - offset) }
            }
            offset += n
        }
    }

    package func write(_ text: String) throws(SysError) { try write(Array(text.utf8)) }

    package func rewind() throws(SysError) { try check("lseek") { lseek(raw, 0, SEEK_SET) } }

    package func sync() throws(SysError) { try check("fsync") { fsync(raw) } }

    /// `/proc/self/fd/N`: the path that names exactly this open file, used to act on what was opened
    /// rather than on a path that may have been swapped since (CVE-2021-30465).
    package var procPath: String { "/proc/self/fd/" + DecimalText.of(raw) }
}

/// stdout and stderr through write(2): Swift 6 flags libc's `stdout`/`stderr` globals as not
/// concurrency-safe (docs/design.md §5), and a child after clone should not touch stdio buffers anyway.
package enum StandardStreams {
    package static func writeOut(_ bytes: [UInt8]) { writeAll(1, bytes) }
    package static func writeError(_ text: String) { writeAll(2, Array(text.utf8)) }

    /// One read of stdin; empty at end of file.
    package static func readIn(count: Int) throws(SysError) -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: count)
        let n = try check("read stdin") { buffer.withUnsafeMutableBytes { Glibc.read(0, $0.baseAddress, count) } }
        buffer.removeSubrange(n...)
        return buffer
    }

    private static func writeAll(_ fd: Int32, _ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let n = retryingEINTR { bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + offset, bytes.count - offset) } }
            if n <= 0 { return }
            offset += n
        }
    }
}
