import Cgroups
import Glibc
import JSON
import Launcher
import OCISpec
import StateStore
import Sys

public struct CreateOptions: Sendable {
    public var bundle = "."
    public var pidFile: String?
    public var noPivot = false
    public var noNewKeyring = false
    public var preserveFDs: Int32 = 0
    public var consoleSocket: String?
    public init() {}
}

extension Runtime {
    /// Loads and checks <bundle>/config.json. Errors name the JSON path and the line:column in the file.
    public static func loadSpec(bundle: String) throws -> Spec {
        let path = bundle + "/config.json"
        let bytes: [UInt8]
        do { bytes = try Files.readFile(path) } catch { throw RuntimeError("cannot read \(path): \(error)") }
        do {
            return try Spec.decode(bytes)
        } catch {
            let first = error.problems.first
            let position = first?.position.map { ":\($0.line):\($0.column)" } ?? ""
            throw RuntimeError("\(path)\(position): \(first?.description ?? "invalid config")")
        }
    }

    /// `create`: the container exists, its init blocked before the user process, state on disk.
    /// On any failure nothing is left: no state dir, no process (the mount namespace dies with the process).
    /// With `relayTerminal` (`run` in the foreground) a terminal's master stays in the returned LaunchedInit.
    @discardableResult
    public func create(_ id: String, _ options: CreateOptions, relayTerminal: Bool = false) throws -> LaunchedInit {
        let directory = try self.directory(id)
        let bundle = try Files.realPath(options.bundle)
        let spec = try Runtime.loadSpec(bundle: bundle)
        try Runtime.checkTerminal(spec.process?.terminal ?? false, consoleSocket: options.consoleSocket,
                                  relay: relayTerminal)
        let plan: ContainerPlan
        do {
            plan = try ContainerPlan(spec: spec, bundle: bundle, noPivot: options.noPivot, preserveFDs: options.preserveFDs,
                                     sessionKeyring: options.noNewKeyring ? nil : "_ses.\(id)")
        } catch {
            throw RuntimeError("\(bundle)/config.json: \(error)")
        }
        for warning in plan.warnings { log.warning(warning) }
        log.debug("create \(id): bundle \(bundle), new namespaces \(plan.createdNamespaces.map(\.rawValue).sorted()), "
                  + "joined \(plan.joinedNamespaces.map(\.path))")
        let cgroups: CgroupManager
        let resources: Resources
        do {
            (cgroups, resources) = cgroupsForCaller(
                try CgroupSet.plan(cgroupsPath: spec.linux?.cgroupsPath, id: id, host: try CgroupHost.detect()), spec.linux)
        } catch let problem as ConfigProblem {
            throw RuntimeError("\(bundle)/config.json: \(problem)")
        }
        let lock = try directory.create()
        // Held until create returns: ARC may free an object after its last use, so the close is explicit.
        defer { lock.close() }
        do {
            // 0622 like runc: the init reopens it through /proc/self/fd after switching to the container's user.
            try Files.mkfifo(directory.execFifoPath, mode: 0o622)
            try Files.chmod(directory.execFifoPath, 0o622)  // mkfifo's mode is cut by the umask
            // Limits are in place before the init joins, and it joins before it runs anything (protocol step 0).
            let initProcess: LaunchedInit
            do {
                try cgroups.create()
                do {
                    try cgroups.apply(resources)
                } catch let problem as ConfigProblem {
                    throw RuntimeError("\(bundle)/config.json: \(problem)")
                }
                initProcess = try Launcher.spawn(plan, execFifo: directory.execFifoPath,
                                                 placeFromParent: { try cgroups.placeFromParent($0, initPlacesItself: !plan.inUserNamespace) },
                                                 placeFromInit: { if !plan.inUserNamespace { try cgroups.placeFromInit() } })
            } catch {
                try? cgroups.destroy()
                throw error
            }
            do {
                guard let startTime = Processes.startTime(of: initProcess.pid) else {
                    throw RuntimeError("container init \(initProcess.pid) vanished during create")
                }
                var record = ContainerRecord(
                    ociVersion: spec.ociVersion, id: id, pid: initProcess.pid, startTime: startTime, bundle: bundle,
                    rootfs: plan.rootfs, created: Clock.rfc3339Now(), owner: Runtime.ownerName(),
                    annotations: spec.annotations)
                record.cgroupVersion = cgroups.cgroups.version.rawValue
                record.cgroupPaths = cgroups.cgroups.paths
                try directory.write(record)
                if let listener = initProcess.seccompListener, let profile = spec.linux?.seccomp {
                    try sendSeccompListener(listener, profile: profile, record: record)
                    listener.close()
                }
                for warning in plan.warnings { log.warning(warning) }
        log.debug("create \(id): init pid \(initProcess.pid) waits for start")
                if let consoleSocket = options.consoleSocket, let console = initProcess.console {
                    try Runtime.sendConsole(console, to: consoleSocket)
                    console.close()
                }
                if let pidFile = options.pidFile { try Runtime.writePidFile(pidFile, initProcess.pid) }
                try initProcess.commit()
            } catch {
                initProcess.abort()
                try? cgroups.destroy()
                throw error
            }
            return initProcess
        } catch {
            try? directory.remove()
            throw RuntimeError("create \(id): \(error)")
        }
    }

    /// runc's rules: a terminal needs somewhere to go, and a console socket needs a terminal to carry.
    static func checkTerminal(_ terminal: Bool, consoleSocket: String?, relay: Bool) throws {
        if terminal && consoleSocket == nil && !relay {
            throw RuntimeError("cannot allocate tty if crabcan will detach without setting console socket")
        }
        if !terminal && consoleSocket != nil {
            throw RuntimeError("cannot use console socket if crabcan will not allocate tty")
        }
    }

    /// Atomically, as runc does, so a reader never sees an empty pid file.
    static func writePidFile(_ path: String, _ pid: pid_t) throws {
        let absolute = path.hasPrefix("/") ? path : (try Files.currentDirectory()) + "/" + path
        try Files.writeFileAtomically(absolute, Array(String(pid).utf8), mode: 0o644)
    }

    /// runc leaves `owner` empty for root.
    static func ownerName() -> String {
        let uid = Processes.effectiveUID
        return uid == 0 ? "" : String(uid)
    }
}
