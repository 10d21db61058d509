import CShim
import Glibc

/// How a child ended, as waitpid reports it.
package enum ExitStatus: Sendable, Equatable {
    case exited(Int32)
    case signaled(Int32)

    /// The shell convention runc follows for `run`: the code, or 128 + signal.
    package var shellCode: Int32 {
        switch self {
        case .exited(let code): return code
        case .signaled(let signal): return 128 + signal
        }
    }
}

package enum Processes {
    /// fork with namespace flags. Returns 0 in the child, the child's pid in the parent.
    /// Only sound while the process is single-threaded (docs/design.md §5).
    package static func clone(flags: UInt) throws(SysError) -> pid_t {
        pid_t(try check("clone") { cshim_clone(flags) })
    }

    /// `clone(flags:)`, the child born in the cgroup v2 directory `cgroup` when the kernel can (Linux 5.7+, and
    /// the caller may write that cgroup's cgroup.procs); `inCgroup` says which happened. When it cannot, nothing was
    /// made by the first try and a plain clone follows: the caller then moves the child as before, and meets any
    /// real refusal there.
    package static func clone(flags: UInt, into cgroup: FileDescriptor?) throws(SysError) -> (pid: pid_t, inCgroup: Bool) {
        if let cgroup {
            let pid = cshim_clone_into_cgroup(flags, cgroup.raw)
            if pid >= 0 { return (pid_t(pid), true) }
        }
        return (try clone(flags: flags), false)
    }

    package static func fork() throws(SysError) -> pid_t { try check("fork") { Glibc.fork() } }

    /// execve: never returns on success. argv[0] is `path`'s name unless given.
    package static func exec(path: String, arguments: [String], environment: [String]) -> SysError {
        PreparedExec(path: path, arguments: arguments, environment: environment).exec()
    }

    /// waitpid, retrying EINTR.
    package static func wait(_ pid: pid_t, options: Int32 = 0) throws(SysError) -> (pid: pid_t, status: ExitStatus?) {
        var raw: Int32 = 0
        let got = try check("waitpid") { waitpid(pid, &raw, options) }
        if got == 0 { return (0, nil) }
        return (got, decode(raw))
    }

    static func decode(_ raw: Int32) -> ExitStatus {
        if cshim_wifsignaled(raw) != 0 { return .signaled(cshim_wtermsig(raw)) }
        return .exited(cshim_wexitstatus(raw))
    }

    package static func kill(_ pid: pid_t, _ signal: Int32) throws(SysError) {
        try check("kill \(pid)") { Glibc.kill(pid, signal) }
    }

    package static func isAlive(_ pid: pid_t) -> Bool { Glibc.kill(pid, 0) == 0 || errno == EPERM }

    /// A pidfd names one process for good: signals sent through it cannot hit a recycled pid.
    package static func pidfd(_ pid: pid_t) throws(SysError) -> FileDescriptor {
        FileDescriptor(try check("pidfd_open \(pid)") { cshim_pidfd_open(pid) })
    }

    package static func signal(pidfd: FileDescriptor, _ signal: Int32) throws(SysError) {
        try check("pidfd_send_signal") { cshim_pidfd_send_signal(pidfd.raw, signal) }
    }

    package static func exit(_ code: Int32) -> Never { _exit(code) }

    package static var pid: pid_t { getpid() }
    package static var uid: uid_t { getuid() }
    package static var effectiveUID: uid_t { geteuid() }

    package static func prctl(_ option: Int32, _ a2: UInt = 0, _ a3: UInt = 0, name: String) throws(SysError) {
        try check(name) { cshim_prctl(option, a2, a3) }
    }

    /// Kill this process when its parent dies, so a crashed `create` leaves no half-made container.
    package static func dieWithParent(signal: Int32 = SIGKILL) throws(SysError) {
        try prctl(CS_PR_SET_PDEATHSIG, UInt(signal), name: "prctl PR_SET_PDEATHSIG")
    }

    package static func setSubreaper() throws(SysError) {
        try prctl(CS_PR_SET_CHILD_SUBREAPER, 1, name: "prctl PR_SET_CHILD_SUBREAPER")
    }

    package static func setNoNewPrivileges() throws(SysError) {
        try prctl(CS_PR_SET_NO_NEW_PRIVS, 1, name: "prctl PR_SET_NO_NEW_PRIVS")
    }

    package static func setDumpable(_ on: Bool) throws(SysError) {
        try prctl(CS_PR_SET_DUMPABLE, on ? 1 : 0, name: "prctl PR_SET_DUMPABLE")
    }

    package static func setGroups(_ gids: [gid_t]) throws(SysError) {
        try check("setgroups") { cshim_setgroups(gids.count, gids) }
    }

    package static func setGID(_ gid: gid_t) throws(SysError) { try check("setresgid \(gid)") { cshim_setresgid(gid) } }
    package static func setUID(_ uid: uid_t) throws(SysError) { try check("setresuid \(uid)") { cshim_setresuid(uid) } }
    package static func setSID() throws(SysError) { try check("setsid") { setsid() } }

    package static func setHostname(_ name: String) throws(SysError) {
        try check("sethostname", name) { name.withCString { cshim_sethostname($0, name.utf8.count) } }
    }

    package static func setDomainname(_ name: String) throws(SysError) {
        try check("setdomainname", name) { cshim_setdomainname(name, name.utf8.count) }
    }

    /// Marks every fd from `first` up close-on-exec, so no host fd reaches the container (CVE-2024-21626).
    /// Where close_range cannot (ENOSYS before Linux 5.9, EINVAL without CLOSE_RANGE_CLOEXEC before 5.11, EPERM
    /// under a caller's seccomp filter), each fd listed in /proc/self/fd gets FD_CLOEXEC through fcntl.
    package static func closeOnExecFrom(_ first: Int32) throws(SysError) {
        if cshim_close_range_cloexec(UInt32(first)) == 0 { return }
        let error = errno
        guard [ENOSYS, EPERM, EINVAL].contains(error) else { throw SysError("close_range", errno: error) }
        for fd in try openDescriptors() where fd >= first {
            // EBADF: the directory stream that listed them, closed since.
            if cshim_fcntl_int(fd, F_SETFD, FD_CLOEXEC) == -1 && errno != EBADF { throw SysError("fcntl F_SETFD \(fd)") }
        }
    }

    /// The fds of this process, from /proc/self/fd (the listing's own fd included).
    static func openDescriptors() throws(SysError) -> [Int32] {
        try Files.listDirectory("/proc/self/fd").compactMap { Int32($0) }
    }

    package static func dup2(_ from: Int32, _ to: Int32) throws(SysError) { try check("dup2") { Glibc.dup2(from, to) } }

    /// The start time of a process in clock ticks since boot (/proc/<pid>/stat field 22): with the pid it
    /// identifies one process for good, so a reused pid is not mistaken for the container (runc does the same).
    package static func startTime(of pid: pid_t) -> UInt64? { stat(of: pid)?.startTime }

    /// /proc/<pid>/stat's state and start time, in one read: the kernel formats the whole line (~300 bytes) for
    /// the first read and hands over all that fits, so no second read is needed to find its end (`list` reads
    /// one per container). nil when the process is gone.
    package static func stat(of pid: pid_t) -> (state: Character, startTime: UInt64)? {
        guard let fd = try? Files.open(procPath(pid, "stat"), O_RDONLY), let line = try? fd.read(count: 4096) else {
            return nil
        }
        return parseStat(line)
    }

    /// The boot clock in the ticks of that field: the kernel stamps a process at its fork with the boot clock and
    /// shows it divided into USER_HZ ticks, in the reader's time namespace, as this reads it (vDSO, no syscall).
    package static func bootTicks() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_BOOTTIME, &now)
        let nanosecondsPerTick = UInt64(1_000_000_000) / UInt64(max(sysconf(Int32(_SC_CLK_TCK)), 1))
        return (UInt64(now.tv_sec) &* 1_000_000_000 &+ UInt64(now.tv_nsec)) / nanosecondsPerTick
    }

    /// This boot's id (/proc/sys/kernel/random/boot_id, a line of 37 bytes); nil when it cannot be read.
    package static func bootID() -> [UInt8]? { try? Files.readFile("/proc/sys/kernel/random/boot_id") }

    /// The start time of a child forked between two readings of `bootTicks`, when they are the same tick: its stamp
    /// was taken between them. nil when a tick went by (then /proc says; ~3% of clones at 100 Hz).
    package static func startTime(forkedBetween before: UInt64, and after: UInt64) -> UInt64? {
        before == after ? before : nil
    }

    /// Parses /proc/<pid>/stat; the command name may hold spaces and parentheses, so split after the last ')'.
    package static func parseStat(_ bytes: [UInt8]) -> (state: Character, startTime: UInt64)? {
        // Bytes, not a String: the command name in parentheses may hold anything, and a String's UTF-8 view is
        // walked backwards index by index.
        guard let close = bytes.lastIndex(of: UInt8(ascii: ")")) else { return nil }
        // After ") ": field 3 (state), then fields 4... separated by single spaces; field 22 is starttime.
        // One pass over the bytes, no array of fields (`list` parses one per container).
        var field = 2, state: UInt8 = 0, start: UInt64 = 0, digits = 0
        for byte in bytes[bytes.index(after: close)...] {
            if byte == UInt8(ascii: " ") {
                if field == 22 { break }
                field += 1
                continue
            }
            if field == 3 && state == 0 { state = byte }
            if field == 22 {
                guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
                start = start &* 10 &+ UInt64(byte - UInt8(ascii: "0"))
                digits += 1
            }
        }
        guard state != 0, state < 0x80, digits > 0 else { return nil }
        return (Character(Unicode.Scalar(state)), start)
    }

    /// The command line, argv[0] first.
    package static var arguments: [String] {
        guard let argv = cshim_argv() else { return [] }
        return (0..<Int(cshim_argc())).compactMap { argv[$0].map { stringFromC($0) } }
    }

    /// /proc/<pid>/<file>, the pid formatted without the standard library's generic integer text.
    package static func procPath(_ pid: pid_t, _ file: String) -> String { "/proc/" + DecimalText.of(pid) + "/" + file }

    /// The running kernel as uname(2) names it: release, build and machine ("6.1.0-18-amd64 #1 SMP ... x86_64").
    package static func kernelIdentity() -> String {
        var names = utsname()
        guard Glibc.uname(&names) == 0 else { return "" }
        return utsField(&names.release) + " " + utsField(&names.version) + " " + utsField(&names.machine)
    }

    /// One variable's value, without copying the whole environment.
    package static func environmentValue(_ name: String) -> String? { name.withCString { getenv($0) }.map { stringFromC($0) } }

    package static func environment() -> [String] {
        var result: [String] = []
        guard var pointer = cshim_environ() else { return result }
        while let entry = pointer.pointee {
            result.append(stringFromC(entry))
            pointer += 1
        }
        return result
    }
}

extension Processes {
    /// Closes every fd from `first` up except `keep`: the container's init drops what it inherited from
    /// `create` (locks, log files, the caller's fds) before doing anything else. `keep` is [Int]: the standard
    /// library has its array type made already, where an [Int32] is one more type made at run time.
    package static func closeDescriptors(from first: Int32, except keep: [Int]) throws(SysError) {
        var start = UInt32(first)
        for fd in keep.filter({ $0 >= Int(first) }).sorted().map(UInt32.init) {
            if fd > start, cshim_close_range(start, fd - 1) == -1 { return try closeEach(from: first, except: keep) }
            start = max(start, fd + 1)
        }
        if cshim_close_range(start, UInt32.max) == -1 { try closeEach(from: first, except: keep) }
    }

    /// closeDescriptors without close_range (ENOSYS before Linux 5.9, EPERM under a caller's seccomp filter).
    private static func closeEach(from first: Int32, except keep: [Int]) throws(SysError) {
        guard errno == ENOSYS || errno == EPERM else { throw SysError("close_range") }
        for fd in try openDescriptors() where fd >= first && !keep.contains(Int(fd)) { Glibc.close(fd) }
    }
}

extension Processes {
    package static func joinNewSessionKeyring(named name: String) throws(SysError) {
        try check("keyctl join session keyring", name) { name.withCString { cshim_join_session_keyring($0) } }
    }
}
