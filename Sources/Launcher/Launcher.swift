import Glibc
import OCISpec
import Sys

/// The container's init as the parent sees it after set-up: alive, blocked before `start`.
public final class LaunchedInit {
    public let pid: pid_t
    /// The seccomp notify fd the init sent (step 1a), for `create` to pass to the supervisor.
    public let seccompListener: FileDescriptor?
    let socket: FileDescriptor
    var sync: ParentSync

    init(pid: pid_t, socket: FileDescriptor, sync: ParentSync, seccompListener: FileDescriptor?) {
        self.pid = pid
        self.seccompListener = seccompListener
        self.socket = socket
        self.sync = sync
    }

    /// Protocol steps 2–3: state is on disk; the child drops its death-with-parent tie and says so.
    public func commit() throws {
        do {
            try Channels.send(socket, SyncMessage.committed.encoded())
            try sync.receive(SyncMessage(decoding: try Channels.receive(socket, capacity: 600)))
        } catch {
            abort()
            throw error
        }
        socket.close()
    }

    /// Kills and reaps the half-made container: a failed create leaves no process behind.
    public func abort() { Launcher.killAndReap(pid) }
}

public enum Launcher {
    /// Clones the container's init into its new namespaces and waits until it is set up and blocked
    /// before `start` (protocol step 1). On failure the child is killed and reaped before this throws.
    /// The init gets into its cgroups before it does anything (protocol step 0): `placeFromParent` runs in the
    /// parent right after clone, `placeFromInit` in the child once the parent says `placed`.
    public static func spawn(_ plan: ContainerPlan, execFifo: String, placeFromParent: (pid_t) throws -> Void,
                             placeFromInit: @escaping () throws -> Void) throws -> LaunchedInit {
        let (parentEnd, childEnd) = try Channels.seqpacketPair()
        let fifo = try Files.open(execFifo, O_PATH)
        let restorePidNamespace = try joinPidNamespaceForChildren(plan)
        // The cgroup namespace is unshared by the child after step 0, not created by clone.
        Fault.point(.beforeClone)
        let pid = try Processes.clone(flags: plan.newNamespaces & ~Namespaces.cgroup)
        if pid == 0 {
            parentEnd.close()
            ContainerInit.run(plan, ContainerInit.Handles(socket: childEnd, execFifo: fifo, placeSelf: placeFromInit))
        }
        Fault.point(.afterClone)
        if let restore = restorePidNamespace {
            try Namespaces.join(restore, type: Namespaces.pid, path: "/proc/self/ns/pid")
        }
        childEnd.close()
        fifo.close()
        var sync = ParentSync()
        var listener: FileDescriptor?
        do {
            try placeFromParent(pid)
            try Channels.send(parentEnd, SyncMessage.placed.encoded())
            while sync.phase == .awaitingReady {
                let (reply, fd) = try Channels.receiveWithDescriptor(parentEnd, capacity: 600)
                let message = SyncMessage(decoding: reply)
                if message == .listener { listener = fd }
                try sync.receive(message)
            }
        } catch {
            killAndReap(pid)
            throw error
        }
        return LaunchedInit(pid: pid, socket: parentEnd, sync: sync, seccompListener: listener)
    }

    /// A half-made container's init goes and is reaped: a failed create leaves no process behind.
    static func killAndReap(_ pid: pid_t) {
        _ = try? Processes.kill(pid, SIGKILL)
        _ = try? Processes.wait(pid)
    }

    /// setns(CLONE_NEWPID) changes only where our *children* go, so the parent joins before clone and
    /// returns the fd that takes it back.
    private static func joinPidNamespaceForChildren(_ plan: ContainerPlan) throws -> FileDescriptor? {
        guard let join = plan.joinedNamespaces.first(where: { $0.type == .pid }) else { return nil }
        let own = try Files.open("/proc/self/ns/pid", O_RDONLY)
        let target = try Files.open(join.path, O_RDONLY)
        try Namespaces.join(target, type: Namespaces.pid, path: join.path)
        return own
    }
}
