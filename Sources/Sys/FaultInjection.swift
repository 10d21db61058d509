import CShim
import Glibc

/// Named steps where a test can make crabcan die as if `kill -9` hit it there (issue 8): the environment variable
/// `CRABCAN_FAULT=<step>` is read once, on the first fault point reached, and that step SIGKILLs crabcan.
/// Unset (always, outside tests) each point costs one load and compare. Tests then check that `state` tells the
/// truth about what is left and that `delete --force` removes all of it.
package enum Fault: String, Sendable, CaseIterable {
    /// create: state dir, exec.fifo and cgroups exist; no process yet.
    case beforeClone = "before-clone"
    /// create: the init is cloned, not yet placed in its cgroups (it exits when its parent's socket closes).
    case afterClone = "after-clone"
    /// The init, in its new mount namespace: the bundle's mounts are done, pivot_root is not. The init makes the
    /// kernel SIGKILL `create` (see `killSwitch`) and then dies with it (PR_SET_PDEATHSIG).
    case midMount = "mid-mount"
    /// create: the init is set up and waits for `committed`; state.json is not written (the init exits on the
    /// end-of-file of create's closed socket).
    case beforeState = "before-state"
    /// create: state.json is written, the init not yet told (it exits on the end-of-file): the container is stopped.
    case afterState = "after-state"
    /// start: exec.fifo is open and unlinked, the init's byte not yet read. run (an init sharing its memory):
    /// `start` is sent on the socket, execve's end-of-file not yet read.
    case midStart = "mid-start"
    /// delete: the init is killed; its cgroups and state dir are still there.
    case midDelete = "mid-delete"

    /// The step `CRABCAN_FAULT` names, if any (an unknown name arms nothing), and for `mid-mount` the kill switch.
    private static let setting: (step: Fault, killSwitch: String?)? = {
        guard let raw = getenv("CRABCAN_FAULT"), let step = Fault(rawValue: String(cString: raw)) else { return nil }
        return (step, step == .midMount ? makeKillSwitch() : nil)
    }()

    package static var armed: Fault? { setting?.step }

    /// SIGKILLs crabcan when `step` is the armed one; does nothing otherwise.
    @inline(__always)
    package static func point(_ step: Fault) {
        if let setting, setting.step == step { fire(step, killSwitch: setting.killSwitch) }
    }

    private static func fire(_ step: Fault, killSwitch: String?) -> Never {
        if let killSwitch {
            // We are the init: pid 1 of a new pid namespace, whose own SIGKILL the kernel ignores and which cannot
            // name its parent. A byte in the fifo has the kernel kill `create`; its death then kills us.
            let fd = Glibc.open(killSwitch, O_WRONLY | O_NONBLOCK | O_CLOEXEC)
            Glibc.unlink(killSwitch)
            var byte: UInt8 = 1
            _ = Glibc.write(fd, &byte, 1)
        } else if step == .midMount {
            _exit(1)  // no kill switch could be made: at least do not hang
        } else {
            Glibc.kill(getpid(), SIGKILL)
        }
        while true { pause() }
    }

    /// A fifo whose reader, this process (`create`, before clone), gets SIGKILL from the kernel when anyone writes
    /// to it. Its path is what the init, which still sees the host's /tmp before pivot_root, opens.
    private static func makeKillSwitch() -> String? {
        let path = "/tmp/crabcan-fault-\(getpid()).fifo"
        Glibc.unlink(path)
        guard mkfifo(path, 0o600) == 0 else { return nil }
        let reader = Glibc.open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard reader >= 0, cshim_sigkill_on_input(reader) == 0 else { return nil }
        return path  // the reader stays open for the life of this test-only process
    }
}
