import Cgroups
import Checkpoint
import Glibc
import JSON
import Launcher
import OCISpec
import Plan
import StateStore
import Sys

/// runc's `restore` flags.
package struct RestoreOptions: Sendable {
    package var bundle = "."
    package var consoleSocket: String?
    package var imagePath = ""
    package var workPath = ""
    package var tcpEstablished = false
    package var extUnixSk = false
    package var shellJob = false
    package var fileLocks = false
    package var manageCgroupsMode = ""
    package var detach = false
    package var pidFile: String?
    package var noSubreaper = false
    package var noPivot = false
    package var emptyNamespaces: [String] = []
    package var autoDedup = false
    package var lazyPages = false
    package var lsmProfile = ""
    package var lsmMountContext = ""
    package init() {}
}

extension Runtime {
    /// `restore`: a new container `id` from the bundle's config.json whose processes CRIU brings back from
    /// --image-path, an ordinary crabcan container afterwards (state dir, cgroup, `state`/`exec`/`kill`/`delete`).
    /// Without --detach crabcan stays its parent as `run` does: forwards signals, returns its exit status and
    /// deletes it.
    package func restore(_ id: String, _ options: RestoreOptions) throws -> Int32 {
        try Runtime.refuseUnsupported(lazyPages: options.lazyPages)
        let mode = try Runtime.cgroupMode(options.manageCgroupsMode)
        let emptyNS = try Runtime.emptyNamespaceMask(options.emptyNamespaces)
        let imagePath = try Runtime.imageDirectory(options.imagePath)
        guard Files.isDirectory(imagePath) else { throw RuntimeError("restore \(id): no checkpoint at \(imagePath)") }
        var signals: (FileDescriptor, sigset_t)?
        if !options.detach {
            signals = try Channels.blockAllSignals()
            // The restored init is our child (criu restores it as its sibling); its orphans come to us too.
            if !options.noSubreaper { try Processes.setSubreaper() }
        }
        defer { if let signals { Channels.restoreSignalMask(signals.1) } }
        let pid = try restoreContainer(id, options, imagePath: imagePath, mode: mode, emptyNS: emptyNS)
        guard let signals else { return 0 }
        let status = try Supervision(pid: pid, signals: signals.0, terminal: nil).untilExit()
        try delete(id, force: true)
        return status.shellCode
    }

    private func restoreContainer(_ id: String, _ options: RestoreOptions, imagePath: String, mode: CriuCgroupMode,
                                  emptyNS: UInt32) throws -> pid_t {
        let directory = try self.directory(id)
        let bundle = try Files.realPath(options.bundle)
        let report = Runtime.planBundle(bundle: bundle, file: bundle + "/config.json", id: id, noPivot: options.noPivot,
                                        systemd: systemdCgroup)
        if let first = report.errors.first { throw RuntimeError(Runtime.locate(first, in: report.file)) }
        guard let spec = report.spec, let plan = report.plan, let cgroupSet = report.cgroups else {
            throw RuntimeError("\(report.file): invalid config")
        }
        try Runtime.checkTerminal(plan.process.terminal, consoleSocket: options.consoleSocket, relay: false)
        if plan.inheritsMountNamespace {
            throw RuntimeError("restore \(id): a container without its own mount namespace is not supported")
        }
        let (driver, resources) = try cgroupDriverForCreate(cgroupSet, report.systemdUnit, spec.linux)
        let lock = try directory.create()
        defer { lock.close() }
        let criuRoot = directory.path + "/criu-root"
        var rootMounted = false
        do {
            let keptSeccomp = try Runtime.writeSnapshot(spec, report, seccomp: plan.seccomp, directory)
            var record = ContainerRecord(
                ociVersion: spec.ociVersion, id: id, pid: 0, startTime: 0, bundle: bundle, rootfs: plan.rootfs,
                created: Clock.rfc3339Now(), owner: Runtime.ownerName(), annotations: spec.annotations)
            record.cgroupVersion = driver.manager.cgroups.version.rawValue
            record.cgroupPaths = driver.manager.cgroups.paths
            record.systemdUnit = driver.unit
            record.keptSeccompProgram = keptSeccomp
            record.ownsPidNamespace = plan.createdNamespaces.contains(.pid)
            record.hooks = Hooks(poststart: plan.hooks.poststart, poststop: plan.hooks.poststop)
            try directory.recordCgroups(version: record.cgroupVersion, paths: record.cgroupPaths, systemdUnit: driver.unit)
            try driver.prepare(resources)
            // criu mounts the container's tree under a root of its own: the rootfs, bound where only we see it.
            try Files.mkdir(criuRoot, mode: 0o755)
            try Mounts.mount(source: plan.rootfs, target: criuRoot, type: nil, flags: Mounts.bind | Mounts.recursive, data: nil)
            rootMounted = true
            let pid = try runRestore(record, spec, plan, options, imagePath: imagePath, root: criuRoot, mode: mode,
                                     emptyNS: emptyNS, driver: driver, resources: resources, directory: directory)
            try? Mounts.unmount(criuRoot, detach: true)
            try? Files.rmdir(criuRoot)
            return pid
        } catch {
            if let record = try? directory.read(), record.pid > 0 { try? killAndWait(record, paused: false) }
            try? driver.manager.signalAll(SIGKILL)
            try? driver.destroy()
            if rootMounted { try? Mounts.unmount(criuRoot, detach: true) }
            try? Files.rmdir(criuRoot)
            try? directory.remove()
            throw RuntimeError("restore \(id): \(error)")
        }
    }

    private func runRestore(_ draft: ContainerRecord, _ spec: Spec, _ plan: ContainerPlan, _ options: RestoreOptions,
                            imagePath: String, root: String, mode: CriuCgroupMode, emptyNS: UInt32,
                            driver: any CgroupDriver, resources: Resources, directory: ContainerDirectory) throws -> pid_t {
        let images = try Files.open(imagePath, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        defer { images.close() }
        var criu = CriuOptions.forContainer(images: images, logFile: "restore.log", root: root, mode: mode, emptyNS: emptyNS,
                                            spec: spec, shellJob: options.shellJob, extUnixSk: options.extUnixSk,
                                            tcpEstablished: options.tcpEstablished, fileLocks: options.fileLocks,
                                            autoDedup: options.autoDedup)
        criu.evasiveDevices = true
        criu.restoreSibling = true
        if !options.lsmProfile.isEmpty { criu.lsmProfile = options.lsmProfile }
        if !options.lsmMountContext.isEmpty { criu.lsmMountContext = options.lsmMountContext }
        var logDirectory = imagePath
        var opened: [FileDescriptor] = []
        defer { for fd in opened { fd.close() } }
        if !options.workPath.isEmpty {
            try Files.makeDirectories(options.workPath, mode: 0o700)
            let work = try Files.open(options.workPath, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
            opened.append(work)
            criu.workDirFD = work.raw
            logDirectory = options.workPath
        }
        // Joined namespaces: net and pid go to criu as inherited fds under the keys the dump recorded them by,
        // the others as namespaces criu joins before restoring.
        var extraFDs: [Int32] = []
        for namespace in spec.linux?.namespaces ?? [] {
            guard let path = namespace.path else { continue }
            if let key = Runtime.externalNamespaceKey(namespace.type) {
                let fd = try Files.open(path, O_RDONLY | O_CLOEXEC)
                opened.append(fd)
                criu.inheritFDs.append((key, Int32(4 + extraFDs.count)))
                extraFDs.append(fd.raw)
            } else if namespace.type == .cgroup {
                throw RuntimeError("joining a cgroup namespace (linux.namespaces) is not supported by restore")
            } else {
                criu.joinNamespaces.append((Runtime.criuNamespaceName(namespace.type), path))
            }
        }
        criu.externalMounts = Runtime.restoreExternalMounts(spec, plan)
        for mount in criu.externalMounts where mount.value != "/dev/null" {
            // A bind mount's mount point must exist in the rootfs for criu to mount on.
            try Runtime.ensureMountPoint(root + mount.key, likeSource: mount.value)
        }
        // The init's pipes at dump time are ours now (criu's stdio), as runc's --inherit-fd mapping does.
        if let bytes = try? Files.readFile(imagePath + "/" + Runtime.descriptorsFile),
           let document = try? JSONDocument.parse(bytes),
           let descriptors = JSONDecodingContext(document: document).root.stringArray() {
            for (fd, name) in descriptors.enumerated() where fd < 3 && name.hasBytePrefix("pipe:") {
                criu.inheritFDs.append((name, Int32(fd)))
            }
        }
        var restoredPid: pid_t = 0
        var record = draft
        do {
            let answer = try CriuSwrk.run(CriuRequest(type: .restore, options: criu), criu: self.criu, stdio: [0, 1, 2],
                                          extraFDs: extraFDs,
                prepare: { criuPid, request in
                    // criu restores the tasks into cgroups below its own: the container's.
                    try driver.placeFromParent(criuPid, resources: resources, initPlacesItself: false)
                    request.options?.cgroupRoots = try Runtime.cgroupRoots(of: criuPid)
                },
                notify: { answer, fd in
                    switch answer.notifyScript {
                    case "setup-namespaces":
                        if let pid = answer.notifyPid { _ = try self.runCreateHooks(plan.hooks, draft, pid: pid) }
                    case "post-restore":
                        guard let pid = answer.notifyPid, let startTime = Processes.startTime(of: pid) else {
                            throw RuntimeError("criu restored no process")
                        }
                        restoredPid = pid
                        record.pid = pid
                        record.startTime = startTime
                        try directory.write(record)
                        try Runtime.recordTimeNamespace(spec, keptSeccomp: record.keptSeccompProgram, pid: pid, directory)
                        if let pidFile = options.pidFile { try Runtime.writePidFile(pidFile, pid) }
                    case "orphan-pts-master":
                        if let fd, let consoleSocket = options.consoleSocket { try Runtime.sendConsole(fd, to: consoleSocket) }
                    default:
                        break
                    }
                })
            if restoredPid == 0, let pid = answer.restoredPid { restoredPid = pid }
        } catch let error as RuntimeError {
            throw error
        } catch {
            throw RuntimeError(Runtime.criuError(error, log: logDirectory + "/restore.log"))
        }
        guard restoredPid > 0 else { throw RuntimeError("criu restored no process") }
        runPoststartHooks(record)
        return restoredPid
    }

    /// criu (3.14+) restores into a new time namespace, so monotonic clocks go on from where they were: the config
    /// snapshot gets it, so `exec` joins it too (as runc adds it to its config).
    static func recordTimeNamespace(_ spec: Spec, keptSeccomp: Bool, pid: pid_t, _ directory: ContainerDirectory) throws {
        guard !(spec.linux?.namespaces.contains { $0.type == .time } ?? true),
              let theirs = try? Files.readLink("/proc/\(pid)/ns/time"),
              let ours = try? Files.readLink("/proc/self/ns/time"), theirs != ours else { return }
        var withTime = snapshot(of: spec, keptSeccomp: keptSeccomp)
        withTime.linux?.namespaces.append(Namespace(type: .time))
        try directory.replaceConfig(withTime.encode(pretty: false))
    }

    /// The mounts restore maps from the image's keys to this host: bind mounts to their sources, masked files
    /// to /dev/null, device nodes to the host's.
    static func restoreExternalMounts(_ spec: Spec, _ plan: ContainerPlan) -> [(key: String, value: String)] {
        var mounts: [(key: String, value: String)] = []
        for mount in plan.mounts where mount.options.isBind {
            guard let source = mount.source else { continue }
            mounts.append((cleanDestination(mount.destination), source))
        }
        if !(spec.linux?.maskedPaths ?? []).isEmpty { mounts.append(("/dev/null", "/dev/null")) }
        for device in deviceMountPaths(spec) where !mounts.contains(where: { $0.key == device }) {
            mounts.append((device, device))
        }
        return mounts
    }

    /// A directory (or, for a file source, an empty file) at `path` when nothing is there.
    static func ensureMountPoint(_ path: String, likeSource source: String) throws {
        guard Files.lstatMode(path) == nil, Files.exists(source) else { return }
        if Files.isDirectory(source) {
            try Files.makeDirectories(path)
        } else {
            let parent = String(path[..<(path.lastIndex(of: "/") ?? path.endIndex)])
            try Files.makeDirectories(parent)
            try Files.writeFile(path, [], mode: 0o644)
        }
    }

    /// criu's cgroups from /proc/<pid>/cgroup, as cgroup_root entries (v2: one, for every controller).
    static func cgroupRoots(of pid: pid_t) throws -> [(controller: String?, path: String)] {
        var roots: [(controller: String?, path: String)] = []
        for line in try Files.readText("/proc/\(pid)/cgroup").split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            guard parts.count == 3 else { continue }
            roots.append((parts[1].isEmpty ? nil : String(parts[1]), String(parts[2])))
        }
        return roots
    }
}
