/// runtime.md's lifecycle states, plus runc's `paused`.
package enum ContainerStatus: String, Sendable {
    case creating, created, running, stopped, paused

    /// What the live system says, never a stored field (docs/design.md §2):
    /// - no state.json yet: `creating` while the create that makes it is alive (it holds the lock), else
    ///   `stopped`: that create died, no process of the container is left, and `delete` removes the debris;
    /// - the recorded init is gone, a zombie, or its pid now belongs to another process (start time differs): `stopped`;
    /// - exec.fifo still there: `created` (init is blocked before the user process);
    /// - cgroup frozen: `paused`; else `running`.
    /// The exec fifo and the freezer are looked at only when they decide (`list` of many created or stopped
    /// containers opens no cgroup file).
    package static func derive(recordedStartTime: UInt64?, liveProcess: (state: Character, startTime: UInt64)?,
                              execFifoExists: @autoclosure () -> Bool, frozen: @autoclosure () -> Bool = false,
                              createInProgress: Bool = true) -> ContainerStatus {
        guard let recordedStartTime else { return createInProgress ? .creating : .stopped }
        guard let live = liveProcess, live.startTime == recordedStartTime, live.state != "Z", live.state != "X" else {
            return .stopped
        }
        if execFifoExists() { return .created }
        return frozen() ? .paused : .running
    }
}
