import Capabilities
import Cgroups
import Glibc
import OCISpec
import Plan
import Sys

/// What the container's init does between clone and execve. Runs in the child only; every failure before
/// `ready` goes back to the parent as a `failed` message (docs/design.md §2), never as free text.
enum ContainerInit {
    struct Handles {
        var channel: ChildChannel
        /// O_PATH fd of <state>/exec.fifo, reopened through /proc/self/fd after pivot_root; nil for `run`'s init
        /// that shares the parent's memory (released through its socket, protocol step 3).
        var execFifo: FileDescriptor?
        /// Moves this process into the container's cgroups (cgroup v1: cheapest from the process itself).
        var placement: SelfPlacement
        /// In a user namespace: bind sources opened by the parent (by mount index), for those the container's
        /// root cannot reach (RootfsSetup.openBindSources).
        var bindSources: [Int: FileDescriptor] = [:]
        /// Where the mount namespace comes from: a copy clone made, or one the parent opened for us to enter.
        var mountNamespace = InitMountNamespace.copy
        /// Born pinned to the runtime's CPU (SetUpCPU): every CPU is given back just before execve.
        var pinnedToSetUpCPU = false
    }

    /// The order follows runc's init: everything that can fail is done before `ready`, so `create` reports it;
    /// only the fifo wait, the startContainer hooks and ProcessStart.exec (a seccomp filter last) come after `start`.
    static func run(_ plan: ContainerPlan, _ handles: Handles) -> Never {
        let executable: String
        let finalCapabilities: PreparedCapabilities?
        var startState: [UInt8] = []
        var channel = handles.channel
        channel.startClock()
        do {
            // If the parent died before this prctl, sending `ready` fails (EPIPE) and we exit there.
            // (getppid cannot tell: in a new pid namespace it is always 0.) A child sharing our memory made this
            // call in C before it waited for `placed` (shared_init.c).
            if !channel.sharesParentMemory { try Processes.dieWithParent() }
            // Until execve this process is crabcan: no other process, even one with our uid and capabilities
            // in a shared pid namespace, may open /proc/<pid>/exe (the host binary) or our fds (CVE-2019-5736).
            // execve makes the container's program dumpable again. (A child whose id maps an unprivileged parent
            // writes stays dumpable until they are written: UserNamespaceEntry.)
            if !(plan.userNamespace?.childStaysDumpableUntilMapped ?? false) { try Processes.setDumpable(false) }
            // Nothing of the parent's but stdio, --preserve-fds and our two handles stays open (CVE-2024-21626);
            // among what goes is the parent's flock on the state dir, which `start` must be able to take.
            try Processes.closeDescriptors(from: 3 + plan.preserveFDs,
                                           except: [Int(channel.socket.raw), Int(handles.execFifo?.raw ?? -1)]
                                               + handles.bindSources.values.map { Int($0.raw) }
                                               + handles.mountNamespace.descriptorNumbers)
            channel.stage = .placement
            try awaitPlacement(channel, handles.placement, plan)
            channel.stage = .session
            // Our own session, as runc's init: the caller's terminal signals reach the container only as
            // crabcan forwards them, and a console can become our controlling terminal.
            try Processes.setSID()
            if let keyring = plan.sessionKeyring { try joinKeyring(keyring, channel) }
            if let hostname = plan.hostname { try Processes.setHostname(hostname) }
            if let domainname = plan.domainname { try Processes.setDomainname(domainname) }
            channel.stage = .rootfs
            let hooks: (() throws -> Void)? = plan.hasInitHooks ? { [channel] in startState = try runCreateHooks(plan, channel) } : nil
            let terminal = try RootfsSetup(plan: plan, bindSources: handles.bindSources, mountNamespace: handles.mountNamespace)
                .prepare(beforePivot: hooks)
            if let terminal {
                try channel.sendConsole(terminal.master)
                try Terminals.attach(terminal.slave)
                terminal.slave.close()
            }
            channel.stage = .executable
            executable = plan.runsProcess
                ? try Executables.resolve(plan.process.args[0], searchPath: plan.searchPath, cwd: plan.process.cwd) : ""
            try plan.kernel.applyPersonality()
            try plan.scheduling?.apply()
            if channel.sharesParentMemory {
                // Everything ProcessStart.exec would do after `start` is made now, in Swift; from `ready` on the
                // parent runs again, and this process only runs the C end.
                channel.stage = .privileges
                let capabilities = try ProcessStart.switchUser(plan, channel)
                channel.stage = .handshake
                try Processes.dieWithParent(signal: 0)
                let prepared = try ProcessStart.prepareExec(plan, executable)
                channel.finishSharing(prepared, fifo: handles.execFifo, seccomp: plan.seccomp, capabilities: capabilities,
                                      affinity: handles.pinnedToSetUpCPU ? CPUList.every : nil)
            }
            finalCapabilities = try ProcessStart.switchUserAndCommit(plan, &channel)
        } catch {
            channel.fail(error)
        }
        // An init on this path (its own memory) always has the fifo: only one sharing ours is released otherwise.
        waitForStart(handles.execFifo!, plan.hooks.startContainer, state: startState, runsProcess: plan.runsProcess)
        ProcessStart.exec(plan, executable, finalCapabilities)
    }

    /// A kernel without keyrings (ENOSYS) or a seccomp'd caller (EPERM) cannot give one; runc goes on then too,
    /// and the parent's log says so.
    private static func joinKeyring(_ name: String, _ channel: ChildChannel) throws {
        // (Not `catch where …` with an empty body: Swift 6.3.1 crashes compiling that with typed throws.)
        do {
            try Processes.joinNewSessionKeyring(named: name)
        } catch {
            if ![ENOSYS, EPERM, EACCES].contains(error.errno) { throw error }
            channel.warn("no session keyring \(name): \(error)")
        }
    }

    /// Protocol step 0: wait until the parent has put us into our cgroups, then make the cgroup namespace,
    /// whose root is thereby the container's cgroup. Namespaces given by path were joined before clone
    /// (NamespaceJoins); a time namespace is made (in our user namespace), then we become root of that.
    private static func awaitPlacement(_ channel: ChildChannel, _ placement: SelfPlacement, _ plan: ContainerPlan) throws {
        try channel.awaitPlaced()
        try TimeNamespaceEntry.enter(plan)
        try UserNamespaceEntry.enter(plan)
        try placement.perform()
        if plan.createdNamespaces.contains(.cgroup) {
            // Our cgroup as the host names it, for a cgroup mount that must fall back to binding it: inside the
            // new namespace /proc/self/cgroup says only "/".
            CgroupMount.placedHost = try? CgroupHost.detect(mountsOf: plan.cgroupHost)
            try Namespaces.unshare(Namespaces.cgroup)
        }
    }

    /// Protocol steps 1c–1d: the parent runs prestart and createRuntime; then createContainer runs here, in the
    /// container's namespaces before pivot_root (config.md), in the rootfs. Returns the state for startContainer
    /// (the same `created` document the parent's hooks got).
    private static func runCreateHooks(_ plan: ContainerPlan, _ channel: ChildChannel) throws -> [UInt8] {
        let state = try channel.runParentHooks()
        try HookRunner.run(plan.hooks.createContainer, kind: .createContainer, state: state, directory: plan.rootfs)
        return state
    }

    /// Blocks until `crabcan start` opens exec.fifo for reading, runs the startContainer hooks (config.md: in the
    /// container, before the user's process), then tells `start` we are going — or why not, after a "!".
    private static func waitForStart(_ fifo: FileDescriptor, _ startHooks: [Hook], state: [UInt8], runsProcess: Bool) {
        do {
            let writer = try Files.open(fifo.procPath, O_WRONLY)
            // runtime.md: start MUST fail without `process`; the container is then stopped (we exit).
            if !runsProcess {
                try writer.write("!cannot start a container without process in its config.json")
                Processes.exit(1)
            }
            do {
                try HookRunner.run(startHooks, kind: .startContainer, state: state)
            } catch {
                try writer.write("!\(error)")
                Processes.exit(1)
            }
            try writer.write([0x30])
            writer.close()
            fifo.close()
        } catch {
            ProcessStart.report("exec.fifo: \(error)")
            Processes.exit(1)
        }
    }
}
