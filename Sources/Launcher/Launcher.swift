import Capabilities
import Glibc
import OCISpec
import Plan
import Sys

/// A container process as its parent sees it after set-up: the init (blocked before `start` once committed)
/// or an exec'd process (which runs once committed).
package final class LaunchedInit {
    package let pid: pid_t
    /// The pty master the init sent (step 1b) when `process.terminal`: for --console-socket, or to relay.
    package let console: FileDescriptor?
    /// clone, placement and the init's set-up (its own stages inside), when traced.
    package let trace: PhaseTrace
    /// `run`'s init that shares our memory: made with no exec.fifo, started by `start()` through its socket.
    package let startsThroughSocket: Bool
    /// Its start time as /proc/<pid>/stat gives it, when the clock read around clone fixes it (a read of that file
    /// fewer per create); nil otherwise.
    package let startTime: UInt64?
    /// The init copied our mount namespace only because the template was missing: the create makes it once it
    /// has succeeded (MountTemplate.make).
    package let wantsMountTemplate: Bool
    let channel: ParentChannel

    init(pid: pid_t, channel: ParentChannel, console: FileDescriptor?, trace: PhaseTrace, startsThroughSocket: Bool = false,
         startTime: UInt64? = nil, wantsMountTemplate: Bool = false) {
        self.pid = pid
        self.wantsMountTemplate = wantsMountTemplate
        self.startTime = startTime
        self.console = console
        self.channel = channel
        self.trace = trace
        self.startsThroughSocket = startsThroughSocket
    }

    /// Protocol steps 2–3: state is on disk; the child drops its death-with-parent tie and says so.
    package func commit() throws {
        do {
            try channel.commit(startsNext: startsThroughSocket)
        } catch {
            abort()
            throw error
        }
    }

    /// `run`: the committed init goes on to its process (protocol step 3). With `awaitingExec`, returns once it
    /// has exec'd or died (for poststart hooks, and `run -d`); without, at once: its exit tells either way.
    package func start(awaitingExec: Bool) throws {
        precondition(startsThroughSocket, "start(): this init waits on exec.fifo")
        try channel.start(awaitingExec: awaitingExec)
    }

    /// Kills and reaps the half-made container: a failed create leaves no process behind.
    package func abort() { Launcher.killAndReap(pid) }
}

package enum Launcher {
    /// Clones the container's init into its new namespaces and waits until it is set up and blocked
    /// before `start` (protocol step 1). On failure the child is killed and reaped before this throws.
    /// The init gets into its cgroups before it does anything (protocol step 0, `steps`). Namespaces joined by
    /// path are entered before clone (NamespaceJoins).
    /// `execFifo` is made here, where `start` will open it; `startsAtOnce` (`run`) makes none for an init that
    /// shares our memory: LaunchedInit.start releases it through its socket (protocol step 3).
    package static func spawn(_ plan: ContainerPlan, execFifo: String, startsAtOnce: Bool = false,
                              steps: ParentSteps) throws -> LaunchedInit {
        let (parentEnd, childEnd) = try Channels.seqpacketPair()
        var trace = PhaseTrace(enabled: steps.traced)
        let (mountNamespace, wantsTemplate) = InitMountNamespace.choose(for: plan, template: steps.mountTemplate)
        let cloneFlags = mountNamespace.cloneFlags(plan)
        let sharesMemory = Self.canShareAddressSpace(plan)
        let fifo = sharesMemory && startsAtOnce ? nil : try makeExecFifo(execFifo)
        var handles = ContainerInit.Handles(channel: ChildChannel(socket: childEnd, traced: steps.traced), execFifo: fifo, placement: steps.selfPlacement,
                                            bindSources: try IdmappedMounts.sources(plan, replacing: RootfsSetup.openBindSources(
                                                plan, forEnteredNamespace: !mountNamespace.isCopy)))
        handles.mountNamespace = mountNamespace
        let channel = ParentChannel(parentEnd, joinsThroughHelper: !plan.joinedNamespaces.isEmpty, warning: steps.warning)
        if sharesMemory {
            handles.channel = ChildChannel(socket: childEnd, traced: steps.traced, sharesParentMemory: true)
            return try spawnSharing(plan, handles, channel: channel, cloneFlags: cloneFlags, steps: steps, trace: trace,
                                    wantsTemplate: wantsTemplate)
        }
        let pid: pid_t
        var bornInCgroup = false
        Fault.point(.beforeClone)
        var startTime: UInt64?
        if plan.joinedNamespaces.isEmpty {
            let cgroup = Self.openCloneTarget(steps)
            let before = Processes.bootTicks()
            (pid, bornInCgroup) = try Processes.clone(flags: cloneFlags, into: cgroup)
            if pid == 0 {
                parentEnd.close()
                ContainerInit.run(plan, handles)
            }
            startTime = Processes.startTime(forkedBetween: before, and: Processes.bootTicks())
            cgroup?.close()
        } else {
            pid = try NamespaceJoins.spawnInit(plan, cloneFlags: cloneFlags, channel: channel, childEnd: childEnd) {
                ContainerInit.run(plan, handles)
            }
        }
        Fault.point(.afterClone)
        childEnd.close()
        fifo?.close()
        mountNamespace.closeInParent(byNumber: false)
        trace.mark(mountNamespace.traceStep(sharesMemory: false))
        return try awaitReady(channel, pid: pid, steps: steps, trace: trace, bornInCgroup: bornInCgroup, startTime: startTime,
                              wantsTemplate: wantsTemplate) {
            try plan.userNamespace?.writeMaps(pid: pid)
        }
    }

    /// Whether the init can run in our address space until its execve (`spawnSharing`): its set-up then exchanges
    /// nothing with us between `placed` and `ready` but hand-overs (the create-time hooks: it waits in C while we
    /// run prestart and createRuntime; the console's pty master goes with the queued packets; a user namespace's id
    /// maps are written before `placed`; no notify listener), nothing but the C end runs after `start` (no
    /// startContainer hooks, a process to run), and no namespace is joined. A tree or template namespace the parent
    /// opened is entered by the init alone, like the bind sources' copies (setns of a mount namespace and unshare of
    /// one take a shared mm).
    /// The kernel lets only a process whose memory is its own enter a time namespace (setns: EUSERS).
    static func canShareAddressSpace(_ plan: ContainerPlan) -> Bool {
        plan.joinedNamespaces.isEmpty && plan.hooks.startContainer.isEmpty && plan.runsProcess
            && !plan.createdNamespaces.contains(.time)
            && !(plan.seccomp?.usesNotify ?? false)
    }

    /// exec.fifo, 0622 like runc's (the init opens it through /proc/self/fd after switching to the container's
    /// user), and our O_PATH fd of it for the init.
    private static func makeExecFifo(_ path: String) throws -> FileDescriptor {
        try Files.mkfifo(path, mode: 0o622)
        try Files.chmod(path, 0o622)  // mkfifo's mode is cut by the umask
        return try Files.open(path, O_PATH)
    }

    /// The init cloned with CLONE_VM: no page tables copied, and no copy-on-write faults on either side after it
    /// (docs/design.md §2, "One side runs at a time"). The rule that makes sharing safe: we and the child never run
    /// our code at the same time. The child waits in the kernel until `placed`; we wait in the kernel
    /// (SharedAddressSpace.handOver) until it sends `ready` from its C end, or its failure from C. What it reads
    /// stays alive and unchanged: its plan and handles are kept for good (the clone's body holds them), and our
    /// copies of its fds are closed by number.
    private static func spawnSharing(_ plan: ContainerPlan, _ handles: ContainerInit.Handles, channel: ParentChannel,
                                     cloneFlags: UInt, steps: ParentSteps, trace: PhaseTrace,
                                     wantsTemplate: Bool) throws -> LaunchedInit {
        var trace = trace
        var handles = handles
        handles.pinnedToSetUpCPU = SetUpCPU.pin(when: plan.mayPinSetUpCPU)
        Fault.point(.beforeClone)
        // On cgroup v2, born in its cgroup where the kernel can (as Processes.clone(flags:into:)); else placed.
        let cgroup = openCloneTarget(steps)
        let before = Processes.bootTicks()
        let (pid, bornInCgroup) = try SharedAddressSpace.clone(
            flags: cloneFlags, childSocket: handles.channel.socket, parentSocket: channel.socket,
            placedTag: SyncMessage.Tag.placed.rawValue, into: cgroup, stackSize: sharedInitStack) {
                ContainerInit.run(plan, handles)
            }
        let startTime = Processes.startTime(forkedBetween: before, and: Processes.bootTicks())
        cgroup?.close()
        Fault.point(.afterClone)
        handles.channel.socket.closeOurCopy()
        handles.execFifo?.closeOurCopy()
        for source in handles.bindSources.values { source.closeOurCopy() }
        handles.mountNamespace.closeInParent(byNumber: true)
        trace.mark(handles.mountNamespace.traceStep(sharesMemory: true))
        // The id maps of a new user namespace are written while the child still waits in the kernel for `placed`.
        return try awaitReady(channel, pid: pid, steps: steps, trace: trace, bornInCgroup: bornInCgroup, sharesMemory: true,
                              startsThroughSocket: handles.execFifo == nil, startTime: startTime, wantsTemplate: wantsTemplate) {
            try plan.userNamespace?.writeMaps(pid: pid)
        }
    }

    /// The shared init's stack: Swift frames are large (create's reserves 28 KiB); only touched pages cost.
    static let sharedInitStack = 8 << 20

    /// `steps.cloneInto` opened for clone3; nil (a plain clone, then the usual placement) when it cannot be.
    private static func openCloneTarget(_ steps: ParentSteps) -> FileDescriptor? {
        steps.cloneInto.flatMap { try? Files.open($0, O_PATH | O_DIRECTORY) }
    }

    /// `exec`: a child in the container's namespaces and cgroups, set up as `plan` says and stopped before
    /// execve until `commit()` (the same protocol as the init, without exec.fifo).
    package static func spawnExec(_ plan: ExecPlan, steps: ParentSteps) throws -> LaunchedInit {
        let (parentEnd, childEnd) = try Channels.seqpacketPair()
        // Inherited by the child: it is never dumpable while it runs our code in the container (CVE-2019-5736).
        try Processes.setDumpable(false)
        var trace = PhaseTrace(enabled: steps.traced)
        let channel = ParentChannel(parentEnd, joinsThroughHelper: plan.joinsUserNamespaceInHelper, warning: steps.warning)
        let child = ChildChannel(socket: childEnd, traced: steps.traced)
        let pid: pid_t
        var bornInCgroup = false
        if plan.joinsUserNamespaceInHelper {
            // setns(pid) needs privilege over our own user namespace too, which an unprivileged caller of a rootless
            // container lacks: a helper joins the user namespace first, then the pid namespace for its child.
            pid = try NamespaceJoins.spawnThroughHelper(channel: channel, childEnd: childEnd, nonDumpable: true, cloneFlags: 0, join: {
                for namespace in plan.namespaces where namespace.type == .user || namespace.type == .pid {
                    try Namespaces.join(namespace.fd, type: ContainerPlan.cloneFlag(namespace.type), path: "\(namespace.type.rawValue) namespace")
                }
            }, body: { ExecInit.run(plan, channel: child, placement: steps.selfPlacement) })
        } else {
            var restorePidNamespace: FileDescriptor?
            if let pidNamespace = plan.namespaces.first(where: { $0.type == .pid }) {
                restorePidNamespace = try Files.open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC)
                try Namespaces.join(pidNamespace.fd, type: Namespaces.pid, path: "pid namespace")
            }
            let cgroup = openCloneTarget(steps)
            let pinned = SetUpCPU.pin(when: plan.mayPinSetUpCPU)
            (pid, bornInCgroup) = try Processes.clone(flags: 0, into: cgroup)
            if pid == 0 {
                parentEnd.close()
                ExecInit.run(plan, channel: child, placement: steps.selfPlacement, pinnedToSetUpCPU: pinned)
            }
            cgroup?.close()
            if let restore = restorePidNamespace { try Namespaces.join(restore, type: Namespaces.pid, path: "/proc/self/ns/pid") }
        }
        childEnd.close()
        trace.mark("clone")
        return try awaitReady(channel, pid: pid, steps: steps, trace: trace, bornInCgroup: bornInCgroup) {}
    }

    /// The parent's side of steps 0–1 for a cloned child: `mapIDs`, placement, then the child's messages until
    /// `ready` (through hand-overs when it `sharesMemory`). On failure the child is killed and reaped.
    private static func awaitReady(_ channel: ParentChannel, pid: pid_t, steps: ParentSteps, trace: PhaseTrace,
                                   bornInCgroup: Bool, sharesMemory: Bool = false, startsThroughSocket: Bool = false,
                                   startTime: UInt64? = nil, wantsTemplate: Bool = false,
                                   mapIDs: () throws -> Void) throws -> LaunchedInit {
        var trace = trace
        do {
            try mapIDs()
            try steps.placeFromParent(pid, bornInCgroup)
            trace.mark(bornInCgroup ? "place (born in its cgroup)" : "place")
            let console = sharesMemory ? try channel.awaitReadySharing(steps, pid: pid) : try channel.awaitReady(steps, pid: pid)
            trace.mark("init", inner: channel.childTrace.map { PhaseTrace.Step(name: "\($0.stage)", nanoseconds: $0.nanoseconds) })
            return LaunchedInit(pid: pid, channel: channel, console: console, trace: trace,
                                startsThroughSocket: startsThroughSocket, startTime: startTime, wantsMountTemplate: wantsTemplate)
        } catch {
            killAndReap(pid)
            throw error
        }
    }

    /// A half-made container's init goes and is reaped: a failed create leaves no process behind.
    static func killAndReap(_ pid: pid_t) {
        _ = try? Processes.kill(pid, SIGKILL)
        _ = try? Processes.wait(pid)
    }
}
