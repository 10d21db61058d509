import Glibc
import JSON
import Launcher
import OCISpec
import Plan
import Seccomp
import StateStore
import Sys

/// `exec`'s flags (runc's names). Without `processPath`, the container's own `process` is the base and
/// the flags change it, as runc does.
package struct ExecOptions: Sendable {
    package var processPath: String?
    package var args: [String] = []
    package var tty = false
    package var consoleSocket: String?
    package var detach = false
    package var pidFile: String?
    package var cwd: String?
    package var env: [String] = []
    /// "uid[:gid]"
    package var user: String?
    package var additionalGids: [UInt32] = []
    package var addCapabilities: [String] = []
    package var noNewPrivileges = false
    package var apparmorProfile: String?
    package var processLabel: String?
    package var preserveFDs: Int32 = 0
    /// `--pidfd-socket`: where the process's pidfd goes (PidfdSocket).
    package var pidfdSocket: String?
    package init() {}
}

extension Runtime {
    /// `exec`: a new process in every namespace and cgroup of a created or running container, with its own
    /// privileges and the container's seccomp profile. Returns its exit code (128 + signal), or 0 with `detach`.
    package func exec(_ id: String, _ options: ExecOptions) throws -> Int32 {
        var trace = phaseTrace()
        let snap = try snapshot(try directory(id))
        guard let record = snap.record else { throw RuntimeError("container \(id) does not exist") }
        switch snap.status {
        case .stopped: throw RuntimeError("cannot exec in a stopped container")
        case .paused: throw RuntimeError("cannot exec in a paused container")
        case .creating: throw RuntimeError("cannot exec in a container that is being created")
        case .created, .running: break
        }
        // The snapshot create wrote; a container created before snapshots existed falls back to its bundle.
        let directory = try directory(id)
        let spec = Files.exists(directory.configPath)
            ? try Runtime.loadSpec(file: directory.configPath) : try Runtime.loadSpec(bundle: record.bundle)
        let (process, source) = try Runtime.execProcess(options, base: spec.process)
        try Runtime.checkTerminal(process.terminal, consoleSocket: options.consoleSocket, relay: !options.detach)
        // The init's own program, when create kept it instead of the profile: never no filter in its place.
        var keptSeccomp: SeccompProgram?
        if record.keptSeccompProgram {
            guard let bytes = directory.readSeccompProgram(), let program = SeccompCache.program(fromContainerCopy: bytes) else {
                throw RuntimeError("container \(id): its seccomp program \(directory.seccompProgramPath) is missing or damaged")
            }
            keptSeccomp = program
        }

        let plan: ExecPlan
        let seccompCache = SeccompCache(root: root)
        do {
            plan = try ExecPlan(spec: spec, process: process, initPid: record.pid, preserveFDs: options.preserveFDs,
                                keptSeccomp: keptSeccomp, seccompCache: seccompCache)
        } catch let problem as ConfigProblem {
            throw RuntimeError("\(source): \(problem)")
        }
        // The namespaces are open now; they are the container's only if the init is still the one recorded.
        guard Processes.startTime(of: record.pid) == record.startTime else {
            throw RuntimeError("cannot exec in a stopped container")
        }
        for warning in plan.warnings where !warning.checkOnly { log.warning("\(source): \(warning)") }

        let pidfdSocket = try PidfdSocket.connect(options.pidfdSocket)
        var signals: (FileDescriptor, sigset_t)?
        if !options.detach { signals = try Channels.blockAllSignals() }
        defer { if let signals { Channels.restoreSignalMask(signals.1) } }
        let cgroups = Runtime.cgroups(record)
        var steps = ParentSteps(placeFromParent: { pid, bornInCgroup in if !bornInCgroup { try cgroups?.placeFromParent(pid) } },
                                selfPlacement: cgroups?.selfPlacement() ?? .none)
        steps.cloneInto = cgroups?.cloneTarget
        steps.seccompListener = { listener, pid in
            guard let profile = spec.linux?.seccomp else { return }
            try self.sendSeccompListener(listener, profile: profile, record: record, pid: pid, status: .running)
        }
        steps.warning = { [log] in log.warning($0) }
        steps.traced = trace.enabled
        trace.mark("plan")
        let launched = try Launcher.spawnExec(plan, steps: steps)
        trace.append(launched.trace)
        do {
            if let consoleSocket = options.consoleSocket, let console = launched.console {
                try Runtime.sendConsole(console, to: consoleSocket)
                console.close()
            }
            try pidfdSocket?.send(pid: launched.pid, exec: true)
            if let pidFile = options.pidFile { try Runtime.writePidFile(pidFile, launched.pid) }
            try launched.commit()
            trace.mark("commit")
            seccompCache.keepCompiled()
        } catch {
            launched.abort()
            throw error
        }
        if trace.enabled { log.debug("exec \(id) took \(trace.summary)") }
        log.debug("exec \(id): pid \(launched.pid) runs \(process.args)")
        guard let signals else { return 0 }
        let relayed = options.consoleSocket == nil ? launched.console : nil
        return try Supervision(pid: launched.pid, signals: signals.0, terminal: relayed).untilExit().shellCode
    }

    /// The process to start and what to name in its errors: process.json as given, or the container's
    /// process changed by the flags.
    static func execProcess(_ options: ExecOptions, base: OCISpec.Process?) throws -> (OCISpec.Process, String) {
        var process: OCISpec.Process
        let source: String
        if let path = options.processPath {
            let bytes: [UInt8]
            do { bytes = try Files.readFile(path) } catch { throw RuntimeError("cannot read \(path): \(error)", cause: error) }
            do { process = try OCISpec.Process.decode(bytes) } catch {
                let first = error.problems.first
                let position = first?.position.map { ":\($0.line):\($0.column)" } ?? ""
                throw RuntimeError("\(path)\(position): \(first?.description ?? "invalid process")")
            }
            source = path
        } else {
            guard !options.args.isEmpty else { throw RuntimeError("exec: the command to run is required") }
            process = base ?? OCISpec.Process()
            process.args = options.args
            process.commandLine = nil
            process.terminal = options.tty
            source = "exec"
        }
        if options.tty { process.terminal = true }
        if let cwd = options.cwd { process.cwd = cwd }
        process.env = mergedEnvironment(process.env, options.env)
        if let user = options.user { try applyUser(user, to: &process) }
        if !options.additionalGids.isEmpty { process.user.additionalGids = options.additionalGids }
        if !options.addCapabilities.isEmpty {
            var sets = process.capabilities ?? OCISpec.Process.Capabilities()
            for capability in options.addCapabilities {
                sets.bounding.append(capability)
                sets.effective.append(capability)
                sets.permitted.append(capability)
                // Ambient needs the inheritable bit, which --cap does not give; runc adds it only where some are.
                if !sets.inheritable.isEmpty { sets.ambient.append(capability) }
            }
            process.capabilities = sets
        }
        if options.noNewPrivileges { process.noNewPrivileges = true }
        if let profile = options.apparmorProfile { process.apparmorProfile = profile }
        if let label = options.processLabel { process.selinuxLabel = label }
        return (process, source)
    }

    /// `--env K=V` replaces an existing K in place, else it is added; the last of duplicates wins.
    static func mergedEnvironment(_ base: [String], _ added: [String]) -> [String] {
        var result = base
        for entry in added {
            let key = entry.split(separator: "=", maxSplits: 1).first.map(String.init) ?? entry
            if let index = result.firstIndex(where: { $0 == key || $0.hasBytePrefix(key + "=") }) {
                result[index] = entry
            } else {
                result.append(entry)
            }
        }
        return result
    }

    static func applyUser(_ text: String, to process: inout OCISpec.Process) throws {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count <= 2, let uid = UInt32(parts[0]) else {
            throw RuntimeError("exec: invalid --user \(jsonQuote(text)): use UID[:GID]")
        }
        process.user.uid = uid
        process.user.username = nil
        if parts.count == 2 {
            guard let gid = UInt32(parts[1]) else { throw RuntimeError("exec: invalid --user \(jsonQuote(text)): use UID[:GID]") }
            process.user.gid = gid
        }
    }
}
