import CShim
import Glibc

/// Sockets, polling and signals: how the runtime's processes talk and wait.
package enum Channels {
    /// A SOCK_SEQPACKET pair keeps message boundaries, so each sync message arrives whole (docs/design.md §2).
    package static func seqpacketPair() throws(SysError) -> (FileDescriptor, FileDescriptor) {
        try descriptorPair("socketpair") { socketpair(AF_UNIX, CS_SOCK_SEQPACKET | CS_SOCK_CLOEXEC, 0, $0) }
    }

    /// The two descriptors a call fills into an int[2] (socketpair, pipe2), held in a tuple: an [Int32] is a type
    /// every process would make at run time for them (docs/performance.md, session 22).
    static func descriptorPair(_ op: String, _ fill: (UnsafeMutablePointer<Int32>) -> Int32) throws(SysError)
        -> (FileDescriptor, FileDescriptor) {
        var fds: (Int32, Int32) = (-1, -1)
        try check(op) { withUnsafeMutablePointer(to: &fds) { $0.withMemoryRebound(to: Int32.self, capacity: 2, fill) } }
        return (FileDescriptor(fds.0), FileDescriptor(fds.1))
    }

    package static func send(_ socket: FileDescriptor, _ bytes: [UInt8]) throws(SysError) {
        try check("send") { bytes.withUnsafeBytes { Glibc.send(socket.raw, $0.baseAddress, bytes.count, Int32(MSG_NOSIGNAL)) } }
    }

    /// One message, at most `capacity` bytes; empty when the peer closed.
    package static func receive(_ socket: FileDescriptor, capacity: Int) throws(SysError) -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: capacity)
        let n = try check("recv") { buffer.withUnsafeMutableBytes { recv(socket.raw, $0.baseAddress, capacity, 0) } }
        buffer.removeSubrange(n...)
        return buffer
    }

    package static func sendDescriptor(_ socket: FileDescriptor, _ fd: Int32, payload: [UInt8]) throws(SysError) {
        try check("sendmsg SCM_RIGHTS") { payload.withUnsafeBytes { cshim_send_fd(socket.raw, fd, $0.baseAddress, payload.count) } }
    }

    /// Waits until one of `fds` is readable (or hung up); returns the indexes that are. -1 timeout waits forever.
    package static func poll(_ fds: [Int], timeoutMilliseconds: Int32 = -1) throws(SysError) -> [Int] {
        // On the stack: an array of pollfd is a type made at run time, once per process (docs/performance.md);
        // the fds as [Int], whose array type the standard library has made already ([Int32] would be another).
        try withUnsafeTemporaryAllocation(of: pollfd.self, capacity: fds.count) { (entries) throws(SysError) -> [Int] in
            for (i, fd) in fds.enumerated() { entries.initializeElement(at: i, to: pollfd(fd: Int32(fd), events: Int16(POLLIN), revents: 0)) }
            let n = try check("poll") { Glibc.poll(entries.baseAddress, nfds_t(fds.count), timeoutMilliseconds) }
            if n == 0 { return [] }
            return fds.indices.filter { entries[$0].revents != 0 }
        }
    }

    /// Blocks every signal and returns a signalfd that receives them: `run` forwards signals from a poll
    /// loop instead of async handlers, which Swift code cannot run safely.
    package static func blockAllSignals() throws(SysError) -> (FileDescriptor, sigset_t) {
        var all = sigset_t()
        var previous = sigset_t()
        sigfillset(&all)
        try check("sigprocmask") { sigprocmask(SIG_BLOCK, &all, &previous) }
        let fd = try check("signalfd") { cshim_signalfd_all() }
        return (FileDescriptor(fd), previous)
    }

    package static func restoreSignalMask(_ mask: sigset_t) {
        var mask = mask
        sigprocmask(SIG_SETMASK, &mask, nil)
    }

    /// Unblocks every signal and restores default dispositions: what the container's process must start with.
    package static func resetSignals() {
        var none = sigset_t()
        sigemptyset(&none)
        sigprocmask(SIG_SETMASK, &none, nil)
        for signal in 1..<Int32(65) where signal != SIGKILL && signal != SIGSTOP {
            Glibc.signal(signal, SIG_DFL)
        }
    }

    /// Reads one signal number from a signalfd.
    package static func readSignal(_ fd: FileDescriptor) throws(SysError) -> Int32 {
        try check("read signalfd") { cshim_read_signal(fd.raw) }
    }
}

package enum Clock {
    /// Current time as RFC 3339 with nanoseconds, UTC, as runc writes `created`.
    package static func rfc3339Now() -> String {
        var now = timespec()
        _ = cshim_realtime_syscall(&now)
        return rfc3339(seconds: Int64(now.tv_sec), nanoseconds: Int(now.tv_nsec))
    }

    /// UTC by arithmetic: glibc's gmtime_r reads /etc/localtime on every call (tzset), an open and a parse on
    /// each `create` for nothing.
    package static func rfc3339(seconds: Int64, nanoseconds: Int) -> String {
        let (days, secondOfDay) = (seconds.quotientRoundingDown(86_400), seconds.remainderRoundingDown(86_400))
        let (year, month, day) = civilDate(daysSinceEpoch: days)
        func pad(_ value: Int64, _ width: Int) -> String {
            let text = DecimalText.of(value)
            let zeros = width - text.utf8.count
            return zeros > 0 ? String(decoding: [UInt8](repeating: UInt8(ascii: "0"), count: zeros), as: UTF8.self) + text : text
        }
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))T"
            + "\(pad(secondOfDay / 3600, 2)):\(pad(secondOfDay / 60 % 60, 2)):\(pad(secondOfDay % 60, 2))."
            + pad(Int64(nanoseconds), 9) + "Z"
    }

    /// The proleptic Gregorian date of a day count from 1970-01-01, by 400-year eras (H. Hinnant's
    /// days_from_civil, inverted).
    static func civilDate(daysSinceEpoch: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let z = daysSinceEpoch + 719_468
        let era = z.quotientRoundingDown(146_097)
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let shiftedMonth = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * shiftedMonth + 2) / 5 + 1
        let month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    /// For durations in the parent (`--debug` phase traces).
    package static func monotonicNanoseconds() -> UInt64 { nanoseconds(CLOCK_MONOTONIC) }

    /// For durations in the container's init: a new time namespace offsets its monotonic clock mid-step, never
    /// the real-time one.
    package static func realtimeNanoseconds() -> UInt64 { nanoseconds(CLOCK_REALTIME) }

    private static func nanoseconds(_ clock: clockid_t) -> UInt64 {
        var now = timespec()
        clock_gettime(clock, &now)
        return UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
    }

    package static func monotonicMilliseconds() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return Int64(now.tv_sec) * 1000 + Int64(now.tv_nsec) / 1_000_000
    }
}

extension Channels {
    /// One message and the fd that came with it (SCM_RIGHTS), if any.
    package static func receiveWithDescriptor(_ socket: FileDescriptor, capacity: Int) throws(SysError) -> ([UInt8], FileDescriptor?) {
        var buffer = [UInt8](repeating: 0, count: capacity)
        var fd: Int32 = -1
        let n = try check("recvmsg") { buffer.withUnsafeMutableBytes { cshim_recv_fd(socket.raw, &fd, $0.baseAddress, capacity) } }
        buffer.removeSubrange(n...)
        return (buffer, fd >= 0 ? FileDescriptor(fd) : nil)
    }

    /// A connected AF_UNIX stream socket to `path`.
    package static func connectUnix(_ path: String) throws(SysError) -> FileDescriptor {
        let socket = FileDescriptor(try check("socket") { Glibc.socket(AF_UNIX, CS_SOCK_STREAM | CS_SOCK_CLOEXEC, 0) })
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard bytes.count < capacity else { throw SysError("connect", path: path, errno: ENAMETOOLONG) }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (index, byte) in bytes.enumerated() { raw[index] = byte }
        }
        let length = socklen_t(MemoryLayout<sockaddr_un>.size)
        try check("connect", path) {
            withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(socket.raw, $0, length) } }
        }
        return socket
    }
}

extension Int64 {
    /// Floor division and its remainder: times before 1970 still land on the right day.
    fileprivate func quotientRoundingDown(_ divisor: Int64) -> Int64 {
        let q = self / divisor
        return (self % divisor < 0) ? q - 1 : q
    }

    fileprivate func remainderRoundingDown(_ divisor: Int64) -> Int64 {
        let r = self % divisor
        return r < 0 ? r + divisor : r
    }
}
