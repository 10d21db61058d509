import Plan
import Sys

/// `run` and `create` with an init that shares the runtime's memory: both pinned to the CPU the runtime runs on.
/// The two never run at once (one waits in the kernel while the other works: Launcher.spawnSharing), so one CPU
/// costs them no parallelism, and each hand-over becomes a switch on that CPU. Left alone, the scheduler puts the
/// clone on the other, idle CPU, and every packet between them wakes that CPU (an IPI, an exit from idle: dear on a
/// VM), while the shared memory's page-table changes shoot down both CPUs' TLBs; the runtime, woken by the
/// container's exit, tears down on whichever CPU is idle, with a cold cache (docs/performance.md, session 26).
/// The init gives itself every CPU back just before execve (the C end, before the seccomp filter), so its program
/// starts with what its cpuset allows, as it would have inherited. The runtime keeps the pin to its end: it only
/// waits, relays and tears down, and runs no program of the user's (ContainerPlan.mayPinSetUpCPU). `exec` does the
/// same with the process it clones (its own memory, so no shared TLB, but the same wake-ups): ProcessStart.exec
/// gives that one every CPU back just before its filter.
enum SetUpCPU {
    /// Pins this process, and so the child it clones next, to its current CPU. False, with nothing changed, where
    /// "every CPU" would not give the child back what it would have inherited: where the plan does not allow it
    /// (ContainerPlan's and ExecPlan's mayPinSetUpCPU), or for a runtime kept off some online CPU (taskset, or a
    /// cpuset of its own), whose restriction the container inherits and must keep.
    static func pin(when allowed: Bool) -> Bool {
        guard allowed, let cpu = Processes.currentCPU(), cpu < CPUList.maskWords * 64,
              let own = try? Processes.affinity(), let online = Processes.onlineCPUs(), CPUList.same(own, online)
        else { return false }
        var one = [UInt64](repeating: 0, count: cpu / 64 + 1)
        one[cpu / 64] = 1 << UInt64(cpu % 64)
        return (try? Processes.setAffinity(one)) != nil
    }
}
