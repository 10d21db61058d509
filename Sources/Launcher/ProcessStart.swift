import Capabilities
import Glibc
import OCISpec
import Seccomp
import Sys

/// What turning a crabcan child into the container's process needs: the init's ContainerPlan and an
/// `exec`'s ExecPlan both give it, so privileges, seccomp, the terminal and execve are done one way.
protocol ProcessSettings {
    var process: OCISpec.Process { get }
    var privileges: ProcessPrivileges { get }
    var labels: SecurityLabels { get }
    var seccomp: SeccompProgram? { get }
    /// fds 3..<3+preserveFDs stay open in the container (`--preserve-fds`), besides stdio.
    var preserveFDs: Int32 { get }
    var searchPath: String { get }
}

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

    /// The end of every container process, after `start` (or an exec's commit): host fds marked close-on-exec,
    /// signals reset, the environment completed, execve's arguments made; then the seccomp filter, so that
    /// with no_new_privs only execve follows it, and without only the capset(2) that drops what loading needed.
    static func exec(_ settings: any ProcessSettings, _ executable: String, _ finalCapabilities: PreparedCapabilities?) -> Never {
        let process = settings.process
        let prepared: PreparedExec
        do {
            // Only stdio and --preserve-fds reach the container (CVE-2024-21626).
            try Processes.closeOnExecFrom(3 + settings.preserveFDs)
            Channels.resetSignals()
            var environment = process.env
            if !environment.contains(where: { $0.hasPrefix("HOME=") }) {
                environment.append("HOME=" + Executables.homeDirectory(uid: process.user.uid))
            }
            prepared = PreparedExec(path: executable, arguments: process.args, environment: environment)
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

    /// After the parent has let go, stderr is the only way left to say what went wrong.
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
                // execve refuses a directory with EACCES after we committed; runc says "permission denied" before.
                guard !Files.isDirectory(candidate) else { throw SysError("exec", path: name, errno: EACCES) }
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
