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
    @discardableResult
    public func create(_ id: String, _ options: CreateOptions) throws -> LaunchedInit {
        if options.consoleSocket != nil { throw RuntimeError("--console-socket is not supported yet") }
        let directory = try self.directory(id)
        let bundle = try Files.realPath(options.bundle)
        // The checks of `crabcan check`, so an error here names the same JSON path and line:column.
        let report = Runtime.checkBundle(bundle: bundle, file: bundle + "/config.json", id: id, createOptions: options)
        let errors = report.errors
        if let first = errors.first {
            let more = errors.count > 1 ? " (and \(errors.count - 1) more: crabcan check --bundle \(options.bundle))" : ""
            throw RuntimeError(Runtime.locate(first, in: report.file) + more)
        }
        for warning in report.warnings { log.warning(Runtime.locate(warning, in: report.file)) }
        guard let spec = report.spec, let plan = report.plan, let cgroupSet = report.cgroups else {
            throw RuntimeError("\(report.file): invalid config")
        }
        log.debug("create \(id): bundle \(bundle), new namespaces \(plan.createdNamespaces.map(\.rawValue).sorted()), "
                  + "joined \(plan.joinedNamespaces.map(\.path))")
        let cgroups = CgroupManager(cgroupSet)
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
                    try cgroups.apply(DeviceRules.effective(spec.linux))
                } catch let problem as ConfigProblem {
                    // Found only now that the cgroup exists (what its parent delegates): placed like the rest.
                    throw RuntimeError(report.locate(problem))
                }
                initProcess = try Launcher.spawn(plan, execFifo: directory.execFifoPath,
                                                 placeFromParent: { try cgroups.placeFromParent($0) },
                                                 placeFromInit: { try cgroups.placeFromInit() })
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
                log.debug("create \(id): init pid \(initProcess.pid) waits for start")
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

    /// `FILE:LINE:COLUMN: PATH: MESSAGE`, the one-line form of a config problem in errors and warnings.
    static func locate(_ diagnostic: ConfigDiagnostic, in file: String) -> String {
        let at = diagnostic.position.map { ":\($0.line):\($0.column)" } ?? ""
        return "\(file)\(at): \(diagnostic.text)"
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
