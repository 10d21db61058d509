import Capabilities
import Glibc
import OCISpec
import Plan
import Seccomp
import Sys

/// The last steps of every container process, in the child, shared by the init and `exec`.
/// `any`, not `some`: Swift 6.3.1's optimizer crashes (SimplifyCFG, signal 11) specializing `exec` for a plan.
enum ProcessStart {
    /// A pty from the devpts of the root we are in, sized as configured; its master goes to the parent
    /// (protocol step 1b), which hands it to --console-socket or relays it.
    static func openTerminal(_ settings: any ProcessSettings) throws -> (master: FileDescriptor, slave: FileDescriptor) {
        let pty = try Terminals.openPair()
        if let size = settings.process.consoleSize {
            try Terminals.setWindowSize(pty.master, rows: UInt16(clamping: size.height), columns: UInt16(clamping: size.width))
        }
        // The process owns its terminal, as on a login; devpts already gave it the tty group and mode 0620.
        try Files.chown(pty.slave.procPath, uid: uid_t(settings.process.user.uid), gid: gid_t.max)  // -1: group unchanged
        return pty
    }

    /// rlimits, oom_score_adj and the bounding set while still root; then the ids, then the capability sets.
    /// A seccomp filter comes as late as it can (docs/seccomp.md): a notify filter here, at the end of set-up,
    /// because the listener must reach the agent during create; any other in `exec`, right before execve.
    /// Without no_new_privs loading takes CAP_SYS_ADMIN, so effective stays the kept permitted set until the
    /// filter is in, and the final sets are returned for the one capset(2) after it.
    static func switchUser(_ settings: any ProcessSettings, _ channel: ChildChannel) throws -> PreparedCapabilities? {
        let user = settings.process.user
        try settings.privileges.applyBeforeUserSwitch()
        _ = Files.umask(mode_t(user.umask ?? 0o022))
        try UserNamespaceEntry.setGroups(user.additionalGids)
        try Processes.setGID(gid_t(user.gid))
        try Processes.setUID(uid_t(user.uid))
        var finalCapabilities: PreparedCapabilities?
        if settings.seccomp != nil && !settings.process.noNewPrivileges {
            finalCapabilities = try settings.privileges.applyKeepingPrivilegeForSeccomp()
        } else {
            try settings.privileges.applyAfterUserSwitch()
        }
        try settings.labels.apply()
        if settings.process.noNewPrivileges { try Processes.setNoNewPrivileges() }
        if let seccomp = settings.seccomp, seccomp.usesNotify {
            try channel.handOverListener(loading: { try seccomp.load() })
            try finalCapabilities?.apply()
            finalCapabilities = nil
        }
        return finalCapabilities
    }

    /// The last set-up steps of the init and of an exec'd process: the user switch, then steps 1–3 of the sync
    /// protocol. Returns the capability sets for the one capset(2) after the seccomp filter (switchUser).
    static func switchUserAndCommit(_ settings: any ProcessSettings, _ channel: inout ChildChannel) throws -> PreparedCapabilities? {
        channel.stage = .privileges
        let finalCapabilities = try switchUser(settings, channel)
        channel.stage = .handshake
        try channel.handshake()
        return finalCapabilities
    }

    /// The end of every container process, after `start` (or an exec's commit): host fds marked close-on-exec,
    /// signals reset, the environment completed, execve's arguments made; then the seccomp filter, so that
    /// with no_new_privs only execve follows it, and without only the capset(2) that drops what loading needed.
    /// `givesEveryCPUBack`: a child born pinned to the runtime's CPU (SetUpCPU) takes every CPU its cpuset allows.
    static func exec(_ settings: any ProcessSettings, _ executable: String, _ finalCapabilities: PreparedCapabilities?,
                     givesEveryCPUBack: Bool = false) -> Never {
        let prepared: PreparedExec
        do {
            prepared = try prepareExec(settings, executable)
            if givesEveryCPUBack { try Processes.setAffinity(CPUList.every) }
            if let seccomp = settings.seccomp, !seccomp.usesNotify {
                _ = try seccomp.load()
                try finalCapabilities?.apply()
            }
        } catch {
            report("\(error)")
            Processes.exit(1)
        }
        let error = prepared.exec()
        report("\(error)")
        Processes.exit(127)
    }

    /// Host fds marked close-on-exec, signals reset, the environment completed, execve's arguments made.
    static func prepareExec(_ settings: any ProcessSettings, _ executable: String) throws -> PreparedExec {
        let process = settings.process
        // Only stdio and --preserve-fds reach the container (CVE-2024-21626).
        try Processes.closeOnExecFrom(3 + settings.preserveFDs)
        Channels.resetSignals()
        var environment = process.env
        if !environment.contains(where: { $0.hasBytePrefix("HOME=") }) {
            environment.append("HOME=" + Executables.homeDirectory(uid: process.user.uid))
        }
        return PreparedExec(path: executable, arguments: process.args, environment: environment)
    }

    /// After the parent has let go, stderr is the only way left to say what went wrong.
    static func report(_ message: String) {
        StandardStreams.writeError("crabcan: \(message)\n")
    }
}
