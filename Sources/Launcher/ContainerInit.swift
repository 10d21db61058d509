import Glibc
import OCISpec
import Sys

/// What the container's init does between clone and execve. Runs in the child only; every failure before
/// `ready` goes back to the parent as a `failed` message (DESIGN.md §2), never as free text.
enum ContainerInit {
    struct Handles {
        var socket: FileDescriptor
        /// O_PATH fd of <state>/exec.fifo, reopened through /proc/self/fd after pivot_root.
        var execFifo: FileDescriptor
        /// Moves this process into the container's cgroups (cgroup v1: cheapest from the process itself).
        var placeSelf: () throws -> Void
    }

    /// The order follows runc's init: everything that can fail is done before `ready`, so `create` reports it;
    /// only the fifo wait, a no_new_privs seccomp filter (as late as possible) and execve come after `start`.
    static func run(_ plan: ContainerPlan, _ handles: Handles) -> Never {
        let executable: String
        do {
            // If the parent died before this prctl, sending `ready` fails (EPIPE) and we exit there.
            // (getppid cannot tell: in a new pid namespace it is always 0.)
            try Processes.dieWithParent()
            // Until execve this process is crabcan: no other process, even one with our uid and capabilities
            // in a shared pid namespace, may open /proc/<pid>/exe (the host binary) or our fds (CVE-2019-5736).
            // execve makes the container's program dumpable again.
            try Processes.setDumpable(false)
            // Nothing of the parent's but stdio, --preserve-fds and our two handles stays open (CVE-2024-21626);
            // among what goes is the parent's flock on the state dir, which `start` must be able to take.
            try Processes.closeDescriptors(from: 3 + plan.preserveFDs, except: [handles.socket.raw, handles.execFifo.raw])
            try awaitPlacement(handles, plan)
            try joinNamespaces(plan)
            if let keyring = plan.sessionKeyring { try joinKeyring(keyring) }
            if let hostname = plan.hostname { try Processes.setHostname(hostname) }
            if let domainname = plan.domainname { try Processes.setDomainname(domainname) }
            try RootfsSetup(plan: plan).prepare()
            executable = try Executables.resolve(plan.process.args[0], searchPath: plan.searchPath, cwd: plan.process.cwd)
            try plan.kernel.applyPersonality()
            try switchUser(plan, handles.socket)
            try handshake(handles.socket)
        } catch {
            fail(handles.socket, error)
        }
        waitForStart(handles.execFifo)
        exec(plan, executable)
    }

    /// rlimits, oom_score_adj and the bounding set while still root; a seccomp filter without no_new_privs
    /// must be loaded while we still hold CAP_SYS_ADMIN; then the ids, then the capability sets.
    private static func switchUser(_ plan: ContainerPlan, _ socket: FileDescriptor) throws {
        let user = plan.process.user
        try plan.privileges.applyBeforeUserSwitch()
        if let seccomp = plan.seccomp, seccomp.usesNotify || !plan.process.noNewPrivileges {
            // A notify filter is loaded here even with no_new_privs, so its listener fd reaches `create`
            // (protocol step 1a) and the supervisor has it before the container's process can run.
            if plan.process.noNewPrivileges { try Processes.setNoNewPrivileges() }
            if let listener = try seccomp.load() {
                try Channels.sendDescriptor(socket, listener, payload: SyncMessage.listener.encoded())
                Glibc.close(listener)
            }
        }
        _ = Files.umask(mode_t(user.umask ?? 0o022))
        try Processes.setGroups(user.additionalGids.map { gid_t($0) })
        try Processes.setGID(gid_t(user.gid))
        try Processes.setUID(uid_t(user.uid))
        try plan.privileges.applyAfterUserSwitch()
        try plan.labels.apply()
        if plan.process.noNewPrivileges { try Processes.setNoNewPrivileges() }
    }

    /// A kernel without keyrings (ENOSYS) or a seccomp'd caller (EPERM) cannot give one; runc goes on then too.
    private static func joinKeyring(_ name: String) throws {
        // (Not `catch where …` with an empty body: Swift 6.3.1 crashes compiling that with typed throws.)
        do {
            try Processes.joinNewSessionKeyring(named: name)
        } catch {
            if ![ENOSYS, EPERM, EACCES].contains(error.errno) { throw error }
        }
    }

    /// Protocol step 0: wait until the parent has put us into our cgroups, then make the cgroup namespace,
    /// whose root is thereby the container's cgroup.
    private static func awaitPlacement(_ handles: Handles, _ plan: ContainerPlan) throws {
        guard SyncMessage(decoding: try Channels.receive(handles.socket, capacity: 16)) == .placed else { Processes.exit(1) }
        try handles.placeSelf()
        if plan.createdNamespaces.contains(.cgroup) { try Namespaces.unshare(Namespaces.cgroup) }
    }

    private static func joinNamespaces(_ plan: ContainerPlan) throws(SysError) {
        // The pid namespace was joined by the parent before clone: setns(CLONE_NEWPID) only affects children.
        for join in plan.joinedNamespaces where join.type != .pid {
            let fd = try Files.open(join.path, O_RDONLY)
            try Namespaces.join(fd, type: ContainerPlan.cloneFlag(join.type), path: join.path)
        }
    }

    /// Steps 1–3 of the sync protocol (SyncProtocol.swift).
    private static func handshake(_ socket: FileDescriptor) throws {
        try Channels.send(socket, SyncMessage.ready.encoded())
        let reply = try Channels.receive(socket, capacity: 16)
        guard SyncMessage(decoding: reply) == .committed else { Processes.exit(1) }
        try Processes.dieWithParent(signal: 0)
        try Channels.send(socket, SyncMessage.detached.encoded())
        socket.close()
    }

    private static func fail(_ socket: FileDescriptor, _ error: any Error) -> Never {
        let errno = (error as? SysError)?.errno ?? 0
        let failure = ChildFailure(message: String(describing: error), errno: errno)
        _ = try? Channels.send(socket, SyncMessage.failed(failure).encoded())
        Processes.exit(1)
    }

    /// Blocks until `crabcan start` opens exec.fifo for reading, then tells it we are going (runtime.md: start).
    private static func waitForStart(_ fifo: FileDescriptor) {
        do {
            let writer = try Files.open(fifo.procPath, O_WRONLY)
            try writer.write([0x30])
            writer.close()
            fifo.close()
        } catch {
            report("exec.fifo: \(error)")
            Processes.exit(1)
        }
    }

    private static func exec(_ plan: ContainerPlan, _ executable: String) -> Never {
        let process = plan.process
        do {
            // With no_new_privs the filter can come last, so it need not allow the runtime's own syscalls.
            if let seccomp = plan.seccomp, process.noNewPrivileges, !seccomp.usesNotify { _ = try seccomp.load() }
            // Only stdio and --preserve-fds reach the container (CVE-2024-21626).
            try Processes.closeOnExecFrom(3 + plan.preserveFDs)
        } catch {
            report("\(error)")
            Processes.exit(1)
        }
        Channels.resetSignals()
        var environment = process.env
        if !environment.contains(where: { $0.hasPrefix("HOME=") }) {
            environment.append("HOME=" + Executables.homeDirectory(uid: process.user.uid))
        }
        let error = Processes.exec(path: executable, arguments: process.args, environment: environment)
        report("\(error)")
        Processes.exit(127)
    }

    /// After `create` has returned, stderr is the only way left to say what went wrong.
    static func report(_ message: String) {
        StandardStreams.writeError("crabcan: \(message)\n")
    }
}

/// Finding the program inside the container, as execvp would but before we commit to starting.
enum Executables {
    struct NotFound: Error, CustomStringConvertible {
        var name: String
        var description: String { "exec: \"\(name)\": executable file not found in $PATH" }
    }

    static func resolve(_ name: String, searchPath: String, cwd: String) throws -> String {
        for candidate in candidates(name, searchPath: searchPath, cwd: cwd) {
            if name.contains("/") {
                guard access(candidate, X_OK) == 0 else { throw SysError("exec", path: name) }
                return candidate
            }
            if access(candidate, X_OK) == 0, !Files.isDirectory(candidate) { return candidate }
        }
        throw NotFound(name: name)
    }

    /// The paths execvp would try for `name`, in order: the name itself (relative to cwd) when it has a
    /// slash, else each directory of PATH. `check` searches the rootfs with the same list.
    static func candidates(_ name: String, searchPath: String, cwd: String) -> [String] {
        if name.contains("/") { return [name.hasPrefix("/") ? name : cwd + "/" + name] }
        return searchPath.split(separator: ":").map { "\($0)/\(name)" }
    }

    /// HOME from the container's /etc/passwd, as runc sets it when the config has none.
    static func homeDirectory(uid: UInt32) -> String {
        guard let passwd = try? Files.readText("/etc/passwd") else { return "/" }
        for line in passwd.split(separator: "\n") {
            let fields = line.split(separator: ":", omittingEmptySubsequences: false)
            if fields.count >= 6, UInt32(fields[2]) == uid { return String(fields[5]) }
        }
        return "/"
    }
}
