import Glibc
import OCISpec
import Sys

/// A container process as its parent sees it after set-up: the init (blocked before `start` once committed)
/// or an exec'd process (which runs once committed).
public final class LaunchedInit {
    public let pid: pid_t
    /// The pty master the init sent (step 1b) when `process.terminal`: for --console-socket, or to relay.
    public let console: FileDescriptor?
    let socket: FileDescriptor
    var sync: ParentSync

    init(pid: pid_t, socket: FileDescriptor, sync: ParentSync, received: ReceivedDescriptors) {
        self.pid = pid
        self.console = received.console
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

/// The fd a container process sends its parent during set-up (protocol step 1b).
struct ReceivedDescriptors {
    var console: FileDescriptor?
}

public enum Launcher {
    /// Clones the container's init into its new namespaces and waits until it is set up and blocked
    /// before `start` (protocol step 1). On failure the child is killed and reaped before this throws.
    /// The init gets into its cgroups before it does anything (protocol step 0): `placeFromParent` runs in the
    /// parent right after clone (and after the id maps of a new user namespace), `placeFromInit` in the child
    /// once the parent says `placed`. Namespaces joined by path are entered before clone (NamespaceJoins).
    /// `createHooks` runs prestart and createRuntime when the init asks (step 1c) and returns the states for
    /// the init's own hooks (step 1d). `seccompListener` gets the notify fd (step 1a) at once, while the init
    /// waits: it must reach the agent before the init makes a notified call.
    public static func spawn(_ plan: ContainerPlan, execFifo: String, placeFromParent: (pid_t) throws -> Void,
                             placeFromInit: @escaping () throws -> Void,
                             createHooks: (pid_t) throws -> [UInt8] = { _ in [] },
                             seccompListener: (FileDescriptor, pid_t) throws -> Void = { _, _ in }) throws -> LaunchedInit {
        let (parentEnd, childEnd) = try Channels.seqpacketPair()
        let fifo = try Files.open(execFifo, O_PATH)
        let handles = ContainerInit.Handles(socket: childEnd, execFifo: fifo, placeSelf: placeFromInit,
                                            bindSources: try IdmappedMounts.sources(plan, replacing: RootfsSetup.openBindSources(plan)))
        let pid: pid_t
        Fault.point(.beforeClone)
        if plan.joinedNamespaces.isEmpty {
            pid = try Processes.clone(flags: plan.cloneFlags)
            if pid == 0 {
                parentEnd.close()
                ContainerInit.run(plan, handles)
            }
        } else {
            pid = try NamespaceJoins.spawnInit(plan, parentEnd: parentEnd, childEnd: childEnd) { ContainerInit.run(plan, handles) }
        }
        Fault.point(.afterClone)
        childEnd.close()
        fifo.close()
        var sync = ParentSync()
        let received: ReceivedDescriptors
        do {
            try plan.userNamespace?.writeMaps(pid: pid)
            try placeFromParent(pid)
            received = try awaitReady(parentEnd, &sync, pid: pid, hooks: { try createHooks(pid) },
                                      listener: { try seccompListener($0, pid) })
        } catch {
            killAndReap(pid)
            throw error
        }
        return LaunchedInit(pid: pid, socket: parentEnd, sync: sync, received: received)
    }

    /// `exec`: a child in the container's namespaces and cgroups, set up as `plan` says and stopped before
    /// execve until `commit()` (the same protocol as the init, without exec.fifo).
    public static func spawnExec(_ plan: ExecPlan, placeFromParent: (pid_t) throws -> Void,
                                 placeFromInit: () throws -> Void,
                                 seccompListener: (FileDescriptor, pid_t) throws -> Void = { _, _ in }) throws -> LaunchedInit {
        let (parentEnd, childEnd) = try Channels.seqpacketPair()
        // Inherited by the child: it is never dumpable while it runs our code in the container (CVE-2019-5736).
        try Processes.setDumpable(false)
        let pid: pid_t
        if plan.joinsUserNamespaceInHelper {
            // setns(pid) needs privilege over our own user namespace too, which an unprivileged caller of a rootless
            // container lacks: a helper joins the user namespace first, then the pid namespace for its child.
            pid = try NamespaceJoins.spawnThroughHelper(parentEnd: parentEnd, childEnd: childEnd, nonDumpable: true, cloneFlags: 0, join: {
                for namespace in plan.namespaces where namespace.type == .user || namespace.type == .pid {
                    try Namespaces.join(namespace.fd, type: ContainerPlan.cloneFlag(namespace.type), path: "\(namespace.type.rawValue) namespace")
                }
            }, body: { ExecInit.run(plan, socket: childEnd, placeSelf: placeFromInit) })
        } else {
            var restorePidNamespace: FileDescriptor?
            if let pidNamespace = plan.namespaces.first(where: { $0.type == .pid }) {
                restorePidNamespace = try Files.open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC)
                try Namespaces.join(pidNamespace.fd, type: Namespaces.pid, path: "pid namespace")
            }
            pid = try Processes.clone(flags: 0)
            if pid == 0 {
                parentEnd.close()
                ExecInit.run(plan, socket: childEnd, placeSelf: placeFromInit)
            }
            if let restore = restorePidNamespace { try Namespaces.join(restore, type: Namespaces.pid, path: "/proc/self/ns/pid") }
        }
        childEnd.close()
        var sync = ParentSync()
        let received: ReceivedDescriptors
        do {
            try placeFromParent(pid)
            received = try awaitReady(parentEnd, &sync, pid: pid, listener: { try seccompListener($0, pid) })
        } catch {
            killAndReap(pid)
            throw error
        }
        return LaunchedInit(pid: pid, socket: parentEnd, sync: sync, received: received)
    }

    /// Protocol steps 0–1 from the parent's side: `placed`, then the listener (1a), the console (1b) and the
    /// hooks (1c) as they come, until `ready`.
    static func awaitReady(_ socket: FileDescriptor, _ sync: inout ParentSync, pid: pid_t,
                           hooks: () throws -> [UInt8] = { [] },
                           listener: (FileDescriptor) throws -> Void) throws -> ReceivedDescriptors {
        var received = ReceivedDescriptors()
        try Channels.send(socket, SyncMessage.placed.encoded())
        while sync.phase == .awaitingReady {
            let (reply, fd) = try Channels.receiveWithDescriptor(socket, capacity: 600)
            let message = SyncMessage(decoding: reply)
            if message == .console { received.console = fd }
            try sync.receive(message)
            switch message {
            case .listener(let number)?:
                // The child sent only the number (one write: see ProcessStart.handOverListener).
                let copy = try takeListener(number, from: pid, socket)
                try listener(copy)
                copy.close()
                try Channels.send(socket, SyncMessage.listenerTaken.encoded())
            case .hooks?: try Channels.send(socket, SyncMessage.hooksRan(try hooks()).encoded())
            default: break
            }
        }
        return received
    }

    /// pidfd_getfd needs ptrace access to the child, which is non-dumpable: an unprivileged caller lacks it, and
    /// then asks the child to send the fd itself (protocol step 1a').
    static func takeListener(_ number: Int32, from pid: pid_t, _ socket: FileDescriptor) throws -> FileDescriptor {
        do {
            return try Processes.takeDescriptor(number, from: pid)
        } catch {
            guard error.errno == EPERM else { throw error }
        }
        try Channels.send(socket, SyncMessage.listenerWanted.encoded())
        let (reply, fd) = try Channels.receiveWithDescriptor(socket, capacity: 16)
        guard case .listener? = SyncMessage(decoding: reply), let fd else {
            throw ParentSync.ProtocolError.childExited(.awaitingReady)
        }
        return fd
    }

    /// A half-made container's init goes and is reaped: a failed create leaves no process behind.
    static func killAndReap(_ pid: pid_t) {
        _ = try? Processes.kill(pid, SIGKILL)
        _ = try? Processes.wait(pid)
    }
}
