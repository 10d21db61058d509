import Glibc
import Sys
import Testing

/// Waits for a forked test child, at most `seconds`. Swift Testing runs on threads, and a child forked while
/// another thread held a Swift runtime lock can hang forever (DESIGN.md §5): then it is killed and the test
/// fails, instead of the whole CI run hanging.
func reapForkedChild(_ pid: pid_t, seconds: Int32 = 20) throws -> Sys.ExitStatus? {
    let child = try Processes.pidfd(pid)
    if try Channels.poll([Int(child.raw)], timeoutMilliseconds: seconds * 1000).isEmpty {
        _ = try? Processes.kill(pid, SIGKILL)
        _ = try? Processes.wait(pid)
        Issue.record("forked child \(pid) hung for \(seconds) s and was killed")
        return nil
    }
    return try Processes.wait(pid).status
}
