import Glibc
import Sys

/// Staying with a container process until it exits (`run` and `exec` without --detach): signals forwarded,
/// and when it has a terminal and no console socket took it, the caller's terminal relayed to it.
struct Supervision {
    let pid: pid_t
    /// A signalfd for every signal, blocked since before the process was made, so none is lost.
    let signals: FileDescriptor
    /// The pty master to relay, or nil when the process uses the caller's stdio directly.
    let terminal: FileDescriptor?

    func untilExit() throws -> ExitStatus {
        let processFD = try Processes.pidfd(pid)
        var relay = terminal.map { TerminalRelay(master: $0) }
        try relay?.begin()
        defer { relay?.end() }
        while true {
            let fds = [Int(signals.raw), Int(processFD.raw)] + (relay?.pollable ?? [])
            let ready = try Channels.poll(fds)
            if ready.contains(1), let status = try Processes.wait(pid).status {
                relay?.drain()
                return status
            }
            if ready.contains(0) {
                let signal = try Channels.readSignal(signals)
                if signal == SIGWINCH, let relay {
                    relay.copyWindowSize()
                } else if signal != SIGCHLD {
                    _ = try? Processes.signal(pidfd: processFD, signal)
                }
            }
            relay?.pump(ready: Set(ready.filter { $0 >= 2 }.map { fds[$0] }))
        }
    }
}

/// Copies the caller's stdin to the pty master and the master to stdout, the caller's terminal (if it is one)
/// in raw mode meanwhile, so keys and window size reach the container as typed.
struct TerminalRelay {
    let master: FileDescriptor
    private var stdinOpen = true
    private var masterOpen = true
    private var savedTerminal: termios?

    init(master: FileDescriptor) { self.master = master }

    mutating func begin() throws {
        try master.setNonBlocking()
        if Terminals.isTerminal(0) { savedTerminal = try Terminals.makeRaw(0) }
        copyWindowSize()
    }

    func end() {
        if let savedTerminal { Terminals.restore(0, savedTerminal) }
    }

    var pollable: [Int] { (masterOpen ? [Int(master.raw)] : []) + (stdinOpen ? [0] : []) }

    func copyWindowSize() {
        guard let size = Terminals.windowSize(0) ?? Terminals.windowSize(1) else { return }
        try? Terminals.setWindowSize(master, rows: size.rows, columns: size.columns)
    }

    mutating func pump(ready: Set<Int>) {
        if ready.contains(Int(master.raw)) { masterOpen = copyOut() }
        if ready.contains(0) {
            let input = (try? StandardStreams.readIn(count: 65536)) ?? []
            if input.isEmpty {
                stdinOpen = false  // EOF: the terminal's own ^D is the container's business
            } else {
                try? master.write(input)
            }
        }
    }

    /// What the process wrote before it exited is still in the master.
    mutating func drain() { while masterOpen, copyOut() {} }

    /// One read from the master to stdout; false once nothing more will come (EIO: every slave is closed).
    private func copyOut() -> Bool {
        do {
            let output = try master.read(count: 65536)
            if output.isEmpty { return false }
            StandardStreams.writeOut(output)
            return true
        } catch {
            return false  // EAGAIN: drained for now; EIO: the container closed its side
        }
    }
}
