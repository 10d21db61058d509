import CShim
import Glibc

/// Pseudo-terminals: the container's console, and the caller's terminal while `run`/`exec` relay it.
package enum Terminals {
    // asm-generic ioctl numbers (the same on x86_64 and arm64); TIOCGPTPEER is a function-like macro Swift cannot import.
    static let setPtyLock: UInt = 0x4004_5431      // TIOCSPTLCK
    static let openPeer: UInt = 0x5441             // TIOCGPTPEER
    static let setControllingTTY: UInt = 0x540E    // TIOCSCTTY
    static let getWindowSize: UInt = 0x5413        // TIOCGWINSZ
    static let setWindowSizeRequest: UInt = 0x5414 // TIOCSWINSZ

    /// A new pty from the devpts instance behind `ptmx` (the container's /dev/ptmx once inside its root).
    /// The peer comes from TIOCGPTPEER, not from a /dev/pts/N path the container could have replaced.
    package static func openPair(ptmx: String = "/dev/ptmx") throws(SysError) -> (master: FileDescriptor, slave: FileDescriptor) {
        let master = FileDescriptor(try check("open", ptmx) { open(ptmx, O_RDWR | O_NOCTTY | O_CLOEXEC) })
        var unlock: Int32 = 0
        try check("unlock pty", ptmx) { cshim_ioctl_ptr(master.raw, setPtyLock, &unlock) }
        let slave = FileDescriptor(try check("open pty peer", ptmx) {
            cshim_ioctl_int(master.raw, openPeer, O_RDWR | O_NOCTTY | O_CLOEXEC)
        })
        return (master, slave)
    }

    package static func setWindowSize(_ fd: FileDescriptor, rows: UInt16, columns: UInt16) throws(SysError) {
        var size = winsize(ws_row: rows, ws_col: columns, ws_xpixel: 0, ws_ypixel: 0)
        try check("set terminal size") { cshim_ioctl_ptr(fd.raw, setWindowSizeRequest, &size) }
    }

    /// nil when `fd` is not a terminal.
    package static func windowSize(_ fd: Int32) -> (rows: UInt16, columns: UInt16)? {
        var size = winsize()
        guard cshim_ioctl_ptr(fd, getWindowSize, &size) == 0 else { return nil }
        return (size.ws_row, size.ws_col)
    }

    package static func isTerminal(_ fd: Int32) -> Bool { isatty(fd) == 1 }

    /// Makes `slave` the controlling terminal of this process (which must lead its own session) and its stdio.
    package static func attach(_ slave: FileDescriptor) throws(SysError) {
        try check("ioctl TIOCSCTTY") { cshim_ioctl_int(slave.raw, setControllingTTY, 0) }
        for target: Int32 in 0...2 { try check("dup2 console") { dup2(slave.raw, target) } }
    }

    /// Puts the caller's terminal in raw mode (keys go to the container as typed) and returns how to restore it.
    package static func makeRaw(_ fd: Int32) throws(SysError) -> termios {
        var saved = termios()
        try check("tcgetattr") { tcgetattr(fd, &saved) }
        var raw = saved
        cfmakeraw(&raw)
        try check("tcsetattr") { tcsetattr(fd, TCSANOW, &raw) }
        return saved
    }

    package static func restore(_ fd: Int32, _ settings: termios) {
        var settings = settings
        _ = tcsetattr(fd, TCSANOW, &settings)
    }
}
