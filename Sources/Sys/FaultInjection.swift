import Glibc

/// Named steps where a test can make crabcan die as if `kill -9` hit it there (issue 8): the environment variable
/// `CRABCAN_FAULT=<step>` is read once, on the first fault point reached, and that step SIGKILLs crabcan.
/// Unset (always, outside tests) each point costs one load and compare. Tests then check that `state` tells the
/// truth about what is left and that `delete --force` removes all of it.
public enum Fault: String, Sendable, CaseIterable {
    /// create: state dir, exec.fifo and cgroups exist; no process yet.
    case beforeClone = "before-clone"
    /// create: the init is cloned, not yet placed in its cgroups (it exits when its parent's socket closes).
    case afterClone = "after-clone"
    /// The init, in its new mount namespace: the bundle's mounts are done, pivot_root is not. Kills `create`
    /// and the init together (they share a process group, see `armed`); the init cannot see its parent's pid.
    case midMount = "mid-mount"
    /// create: the init is set up and waits for `committed`; state.json is not written (the init dies with create).
    case beforeState = "before-state"
    /// create: state.json is written, the init not yet told (it still dies with create): the container is stopped.
    case afterState = "after-state"
    /// start: exec.fifo is open and unlinked, the init's byte not yet read.
    case midStart = "mid-start"
    /// delete: the init is killed; its cgroups and state dir are still there.
    case midDelete = "mid-delete"

    /// The step `CRABCAN_FAULT` names, if any; an unknown name arms nothing.
    public static let armed: Fault? = {
        guard let raw = getenv("CRABCAN_FAULT") else { return nil }
        let step = Fault(rawValue: String(cString: raw))
        // So that the init, which lives in a new pid namespace and cannot name its parent, can kill it: the
        // process group holds just this crabcan and the init it clones.
        if step == .midMount { _ = setpgid(0, 0) }
        return step
    }()

    /// SIGKILLs crabcan when `step` is the armed one; does nothing otherwise.
    @inline(__always)
    public static func point(_ step: Fault) {
        if let armed, armed == step { fire(step) }
    }

    private static func fire(_ step: Fault) -> Never {
        // kill(0, ...) reaches the whole process group, across the pid namespace boundary.
        Glibc.kill(step == .midMount ? 0 : getpid(), SIGKILL)
        while true { pause() }
    }
}
