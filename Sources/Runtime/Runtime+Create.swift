import Cgroups
import Glibc
import JSON
import Launcher
import OCISpec
import Plan
import Seccomp
import StateStore
import Sys

package struct CreateOptions: Sendable {
    package var bundle = "."
    package var pidFile: String?
    package var noPivot = false
    package var noNewKeyring = false
    package var preserveFDs: Int32 = 0
    package var consoleSocket: String?
    /// `--pidfd-socket`: where the init's pidfd goes (PidfdSocket).
    package var pidfdSocket: String?
    package init() {}
}

extension Runtime {
    /// Loads and checks <bundle>/config.json. Errors name the JSON path and the line:column in the file.
    package static func loadSpec(bundle: String) throws -> Spec {
        try loadSpec(file: bundle + "/config.json")
    }

    /// Loads and decodes one config file (a bundle's, or the snapshot in a state dir).
    static func loadSpec(file path: String) throws -> Spec {
        let bytes: [UInt8]
        do { bytes = try Files.readFile(path) } catch { throw RuntimeError("cannot read \(path): \(error)", cause: error) }
        do {
            return try Spec.decode(bytes)
        } catch {
            let first = error.problems.first
            let position = first?.position.map { ":\($0.line):\($0.column)" } ?? ""
            throw RuntimeError("\(path)\(position): \(first?.description ?? "invalid config")")
        }
    }

    /// What `create` made: the init, the record it wrote to state.json (so that `run` need not read it back), and
    /// whether it made <state dir>/rootfs (HostRoot: a container without a mount namespace of its own).
    package struct Created {
        package var initProcess: LaunchedInit
        package var record: ContainerRecord
        package var madeHostRoot: Bool
    }

    /// `create`: the container exists, its init blocked before the user process, state on disk.
    /// On any failure nothing is left: no state dir, no process (the mount namespace dies with the process).
    /// With `relayTerminal` (`run` in the foreground) a terminal's master stays in the returned LaunchedInit.
    /// `startsAtOnce` (`run`): an init that shares our memory gets no exec.fifo and is started by
    /// `Created.initProcess.start(awaitingExec:)` (LaunchedInit.startsThroughSocket); `state` says `running` from state.json on.
    @discardableResult
    package func create(_ id: String, _ options: CreateOptions, relayTerminal: Bool = false,
                        startsAtOnce: Bool = false) throws -> Created {
        var trace = phaseTrace()
        let directory = try self.directory(id)
        let bundle = try Files.realPath(options.bundle)
        let seccompCache = SeccompCache(root: root)
        let cgroupHostCache = CgroupHostCache(root: root)
        let checked = try checkForCreate(id, bundle: bundle, options, relayTerminal: relayTerminal, seccompCache: seccompCache,
                                         cgroupHostCache: cgroupHostCache)
        // Kept until the process exits, which gives its memory back whole: releasing the JSON tree, the spec and
        // the plan value by value was ~1% of a `run`'s user time. It holds no fd (ContainerPlan has none).
        _ = Unmanaged.passRetained(checked)
        trace.mark("check")
        return try launch(checked, id, bundle: bundle, directory, options, startsAtOnce: startsAtOnce, seccompCache: seccompCache,
                          cgroupHostCache: cgroupHostCache, trace: trace)
    }

    /// What create goes on with once the config has passed: in one object, so that the checks' deep frames
    /// (BundleReport.make, ContainerPlan.check and the decoders below them) are gone from the stack before the
    /// launch's are pushed, and no frame holds copies of the report, the spec and the plan (each ~1-2 KiB).
    final class CheckedBundle {
        let report: BundleReport
        let spec: Spec
        let plan: ContainerPlan
        let cgroupSet: CgroupSet

        init(report: BundleReport, spec: Spec, plan: ContainerPlan, cgroupSet: CgroupSet) {
            (self.report, self.spec, self.plan, self.cgroupSet) = (report, spec, plan, cgroupSet)
        }
    }

    /// The checks of `crabcan check`, so an error here names the same JSON path and line:column; then the
    /// terminal options. Kept out of line: its frame and its callees' are popped before `launch`'s.
    @inline(never)
    private func checkForCreate(_ id: String, bundle: String, _ options: CreateOptions, relayTerminal: Bool,
                                seccompCache: SeccompCache, cgroupHostCache: CgroupHostCache) throws -> CheckedBundle {
        let report = Runtime.planBundle(bundle: bundle, file: bundle + "/config.json", id: id, noPivot: options.noPivot,
                                       preserveFDs: options.preserveFDs, newKeyring: !options.noNewKeyring,
                                       systemd: systemdCgroup, seccompCache: seccompCache, cgroupHostCache: cgroupHostCache)
        let errors = report.errors
        if let first = errors.first {
            let more = errors.count > 1 ? " (and \(errors.count - 1) more: crabcan check --bundle \(options.bundle))" : ""
            throw RuntimeError(Runtime.locate(first, in: report.file) + more)
        }
        for warning in report.warnings where !warning.checkOnly { log.warning(Runtime.locate(warning, in: report.file)) }
        guard let spec = report.spec, let plan = report.plan, let cgroupSet = report.cgroups else {
            throw RuntimeError("\(report.file): invalid config")
        }
        try Runtime.checkTerminal(plan.process.terminal, consoleSocket: options.consoleSocket, relay: relayTerminal)
        return CheckedBundle(report: report, spec: spec, plan: plan, cgroupSet: cgroupSet)
    }

    /// The rest of create, from a config that passed its checks: state dir, cgroups, the init, state.json.
    @inline(never)
    private func launch(_ checked: CheckedBundle, _ id: String, bundle: String, _ directory: ContainerDirectory, _ options: CreateOptions,
                        startsAtOnce: Bool, seccompCache: SeccompCache, cgroupHostCache: CgroupHostCache,
                        trace: PhaseTrace) throws -> Created {
        var trace = trace
        var plan = checked.plan
        let pidfdSocket = try PidfdSocket.connect(options.pidfdSocket)
        let listenFDs = Runtime.socketActivationFDs()
        if listenFDs > 0 {
            plan.process.env += ["LISTEN_FDS=\(listenFDs)", "LISTEN_PID=1"]
            plan.preserveFDs += listenFDs
        }
        log.debug("create \(id): bundle \(bundle), new namespaces \(plan.createdNamespaces.map(\.rawValue).sorted()), "
                  + "joined \(plan.joinedNamespaces.map(\.path))")
        // Root gets every hierarchy; an ordinary user only those it may write (the rest skipped with a warning).
        let (driver, resources) = try cgroupDriverForCreate(checked.cgroupSet, checked.report.systemdUnit, checked.spec.linux)
        let cgroups = driver.manager
        let lock = try directory.create()
        // Held until create returns: ARC may free an object after its last use, so the close is explicit.
        defer { lock.close() }
        do {
            if plan.inheritsMountNamespace {
                let hostRoot = HostRoot.path(stateDirectory: directory.path)
                try Files.mkdir(hostRoot, mode: 0o700)
                plan.hostRoot = hostRoot
            }
            let keptSeccomp = try Runtime.writeSnapshot(checked.spec, checked.report, seccomp: plan.seccomp, directory)
            // What state.json will say, known before clone so the create-time hooks get the same state document.
            var draft = ContainerRecord(
                ociVersion: checked.spec.ociVersion, id: id, pid: 0, startTime: 0, bundle: bundle, rootfs: plan.rootfs,
                created: Clock.rfc3339Now(), owner: Runtime.ownerName(), annotations: checked.spec.annotations)
            draft.cgroupVersion = cgroups.cgroups.version.rawValue
            draft.cgroupPaths = cgroups.cgroups.paths
            draft.systemdUnit = driver.unit
            draft.ownsPidNamespace = plan.createdNamespaces.contains(.pid)
            draft.keptSeccompProgram = keptSeccomp
            draft.hooks = Hooks(poststart: plan.hooks.poststart, poststop: plan.hooks.poststop)
            // Limits are in place before the init joins, and it joins before it runs anything (protocol step 0).
            let initProcess: LaunchedInit
            do {
                // The draft's own fields: CgroupSet.paths builds a dictionary each time it is read.
                try directory.recordCgroups(version: draft.cgroupVersion, paths: draft.cgroupPaths, systemdUnit: draft.systemdUnit)
                trace.mark("state dir")
                do {
                    try driver.prepare(resources)
                } catch let problem as ConfigProblem {
                    // Found only now that the cgroup exists (what its parent delegates): placed like the rest.
                    throw RuntimeError(checked.report.locate(problem))
                }
                trace.mark("cgroups")
                var steps = ParentSteps(placeFromParent: { pid, bornInCgroup in
                    do {
                        if !bornInCgroup {
                            try driver.placeFromParent(pid, resources: resources, initPlacesItself: !plan.inUserNamespace)
                        }
                    } catch let problem as ConfigProblem {
                        throw RuntimeError(checked.report.locate(problem))
                    }
                    try NetDeviceMove.moveAll(plan.netDevices, into: pid)
                }, selfPlacement: driver.selfPlacement(initPlacesItself: !plan.inUserNamespace))
                steps.cloneInto = driver.cloneTarget
                steps.mountTemplate = Runtime.mountTemplate
                steps.createHooks = { pid in try self.runCreateHooks(plan.hooks, draft, pid: pid) }
                steps.seccompListener = { listener, pid in
                    guard let profile = checked.spec.linux?.seccomp else { return }
                    var record = draft
                    record.pid = pid
                    try self.sendSeccompListener(listener, profile: profile, record: record)
                }
                steps.warning = { [log] in log.warning($0) }
                steps.traced = trace.enabled
                initProcess = try Launcher.spawn(plan, execFifo: directory.execFifoPath, startsAtOnce: startsAtOnce, steps: steps)
                trace.append(initProcess.trace)
            } catch {
                try? driver.destroy()
                throw error
            }
            do {
                guard let startTime = initProcess.startTime ?? Processes.startTime(of: initProcess.pid) else {
                    throw RuntimeError("container init \(initProcess.pid) vanished during create")
                }
                var record = draft
                record.pid = initProcess.pid
                record.startTime = startTime
                Fault.point(.beforeState)
                try directory.write(record)
                trace.mark("state")
                log.debug("create \(id): init pid \(initProcess.pid) waits for start")
                if let consoleSocket = options.consoleSocket, let console = initProcess.console {
                    try Runtime.sendConsole(console, to: consoleSocket)
                    console.close()
                }
                try pidfdSocket?.send(pid: initProcess.pid, exec: false)
                if let pidFile = options.pidFile { try Runtime.writePidFile(pidFile, initProcess.pid) }
                Fault.point(.afterState)
                try initProcess.commit()
                trace.mark("commit")
                seccompCache.keepCompiled()
                cgroupHostCache.keep()
                if initProcess.wantsMountTemplate { makeMountTemplate() }
                if trace.enabled { log.debug("create \(id) took \(trace.summary)") }
                return Created(initProcess: initProcess, record: record, madeHostRoot: plan.hostRoot != nil)
            } catch {
                initProcess.abort()
                try? driver.destroy()
                throw error
            }
        } catch {
            // The init is dead: the mounts it made in the runtime's namespace (if it had none of its own) go now.
            try? HostRoot.remove(stateDirectory: directory.path)
            try? directory.remove()
            let failed = RuntimeError("create \(id): \(error)", cause: error)
            if let stage = failed.setupStage { log.debug("create \(id): the init failed at \(stage), errno \(failed.errno ?? 0)") }
            throw failed
        }
    }

    /// The template the next init enters in place of a copy of our mount namespace, made after a create that
    /// succeeded without it. A failure is only logged: the copy keeps working.
    private func makeMountTemplate() {
        do {
            switch try Runtime.mountTemplate.make() {
            case .made: log.debug("made the mount template \(Runtime.mountTemplate.file)")
            case .failedEarlierInThisBoot: log.debug("no mount template: making it failed earlier in this boot")
            case .alreadyThere, .beingMade: break
            }
        } catch {
            log.debug("no mount template: \(error)")
        }
    }

    /// The config snapshot exec reads (docs/design.md §3), written before clone. A seccomp profile without notify
    /// rules goes as the program compiled from it, the very one the init loads (seccomp.bpf), and is left out of
    /// config.json: an exec then never parses, keys or looks up the profile, which with Docker's was a third of
    /// its CPU. Returns whether it was kept so (state.json records it).
    /// Otherwise the snapshot is `config`, the bytes `spec` was decoded from: they decode to the same spec, and
    /// encoding it again was a twentieth of the parent's instructions in a `create`. Without the profile it is those
    /// bytes with the profile's text (`report.seccompText`) cut out where that can be done, else the spec encoded again.
    static func writeSnapshot(_ spec: Spec, _ report: BundleReport, seccomp: SeccompProgram?,
                              _ directory: ContainerDirectory) throws -> Bool {
        guard let seccomp, !seccomp.usesNotify else {
            try directory.writeConfig(report.bytes)
            return false
        }
        try directory.writeSeccompProgram(SeccompCache.containerCopy(of: seccomp))
        let cut = report.seccompText.flatMap { report.document?.textWithout(member: "seccomp", valueText: $0) }
        try directory.writeConfig(cut ?? snapshot(of: spec, keptSeccomp: true).encode(pretty: false))
        return true
    }

    /// `spec` as config.json holds it: without the profile when its program is kept apart.
    static func snapshot(of spec: Spec, keptSeccomp: Bool) -> Spec {
        var snapshot = spec
        if keptSeccomp { snapshot.linux?.seccomp = nil }
        return snapshot
    }

    /// Protocol step 1c, in the runtime's namespaces: prestart then createRuntime. Every create-time hook gets
    /// `created` (runtime.md: "after step 2"), as crun and the validation suite; runc gives `creating`
    /// (docs/conformance.md). Returns the same state for the init's createContainer and startContainer hooks.
    func runCreateHooks(_ hooks: Hooks, _ draft: ContainerRecord, pid: pid_t) throws -> [UInt8] {
        var record = draft
        record.pid = pid
        let created = stateDocument(record, .created).encode(pretty: true)
        try HookRunner.run(hooks.prestart, kind: .prestart, state: created)
        try HookRunner.run(hooks.createRuntime, kind: .createRuntime, state: created)
        return created
    }

    /// Socket activation, as runc: when systemd's LISTEN_FDS is meant for us (LISTEN_PID is our pid), fds
    /// 3..<3+N go to the container before the --preserve-fds ones, and its process is told LISTEN_FDS=N,
    /// LISTEN_PID=1 (it is pid 1 of its namespace).
    static func socketActivationFDs() -> Int32 {
        // Two lookups, not a copy of the whole environment as Strings.
        guard let count = Processes.environmentValue("LISTEN_FDS").flatMap({ Int32($0) }), count > 0,
              Processes.environmentValue("LISTEN_PID").flatMap({ Int32($0) }) == getpid() else { return 0 }
        return count
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

    /// `FILE:LINE:COLUMN: PATH: MESSAGE`, the one-line form of a config problem in errors and warnings.
    static func locate(_ diagnostic: ConfigDiagnostic, in file: String) -> String {
        let at = diagnostic.position.map { ":\($0.line):\($0.column)" } ?? ""
        return "\(file)\(at): \(diagnostic.text)"
    }

    /// Atomically, as runc does, so a reader never sees an empty pid file.
    static func writePidFile(_ path: String, _ pid: pid_t) throws {
        let absolute = path.hasBytePrefix("/") ? path : (try Files.currentDirectory()) + "/" + path
        try Files.writeFileAtomically(absolute, Array(String(pid).utf8), mode: 0o644)
    }

    /// runc leaves `owner` empty for root.
    static func ownerName() -> String {
        let uid = Processes.effectiveUID
        return uid == 0 ? "" : String(uid)
    }
}
