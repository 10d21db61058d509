import Checkpoint
import Glibc
import JSON
import Launcher
import OCISpec
import Plan
import StateStore
import Sys

/// runc's `checkpoint` flags.
package struct CheckpointOptions: Sendable {
    package var imagePath = ""
    package var workPath = ""
    package var parentPath = ""
    package var leaveRunning = false
    package var tcpEstablished = false
    package var extUnixSk = false
    package var shellJob = false
    package var lazyPages = false
    package var statusFD: Int32 = -1
    package var pageServer = ""
    package var fileLocks = false
    package var preDump = false
    package var manageCgroupsMode = ""
    package var emptyNamespaces: [String] = []
    package var autoDedup = false
    package init() {}
}

extension Runtime {
    /// What crabcan leaves to CRIU unsupported, refused before anything happens (runc's other flags all work).
    static func refuseUnsupported(lazyPages: Bool, pageServer: String = "") throws {
        // Lazy pages need criu's lazy-pages daemon and userfaultfd on both sides, a page server a remote peer:
        // neither is wired up here.
        if lazyPages { throw RuntimeError("--lazy-pages is not supported by crabcan") }
        if !pageServer.isEmpty { throw RuntimeError("--page-server is not supported by crabcan") }
    }

    /// runc's --empty-ns: only "network"; and, like runc, the network namespace is always left empty (criu
    /// neither dumps nor restores its interfaces: the runtime's caller sets the network up).
    static func emptyNamespaceMask(_ names: [String]) throws -> UInt32 {
        for name in names where name != "network" { throw RuntimeError("namespace \"\(name)\" is not supported") }
        return UInt32(Namespaces.network)
    }

    static func cgroupMode(_ flag: String) throws -> CriuCgroupMode {
        guard let mode = CriuCgroupMode(flag: flag) else { throw RuntimeError("invalid manage-cgroups-mode value") }
        return mode
    }

    /// runc's default image path: ./checkpoint.
    static func imageDirectory(_ given: String) throws -> String {
        let path = given.isEmpty ? "checkpoint" : given
        return path.hasBytePrefix("/") ? path : (try Files.currentDirectory()) + "/" + path
    }

    /// `checkpoint`: CRIU dumps the container's process tree into --image-path; then, unless --leave-running or
    /// --pre-dump, the container is gone (criu killed it) and, as runc does, deleted.
    package func checkpoint(_ id: String, _ options: CheckpointOptions) throws {
        try Runtime.refuseUnsupported(lazyPages: options.lazyPages, pageServer: options.pageServer)
        let mode = try Runtime.cgroupMode(options.manageCgroupsMode)
        let emptyNS = try Runtime.emptyNamespaceMask(options.emptyNamespaces)
        let directory = try self.directory(id)
        let lock: FileDescriptor
        do { lock = try directory.lock() } catch is ContainerDirectory.NotFound {
            throw RuntimeError("container \(id) does not exist")
        }
        do {
            defer { lock.close() }
            let snap = try snapshot(directory, locked: true)
            guard let record = snap.record, snap.status == .running || snap.status == .paused else {
                throw RuntimeError("Container cannot be checkpointed in \(snap.status.rawValue) state")
            }
            let spec = try Runtime.loadSpec(file: directory.configPath)
            try dump(record, spec, options, mode: mode, emptyNS: emptyNS)
        }
        if !options.leaveRunning && !options.preDump {
            do { try delete(id, force: true) } catch { log.warning("checkpoint \(id): \(error)") }
        }
    }

    private func dump(_ record: ContainerRecord, _ spec: Spec, _ options: CheckpointOptions, mode: CriuCgroupMode,
                      emptyNS: UInt32) throws {
        let imagePath = try Runtime.imageDirectory(options.imagePath)
        try Files.makeDirectories(imagePath, mode: 0o700)
        if !options.parentPath.isEmpty {
            // runc's rule: relative to the image directory, which criu opens it from.
            guard !options.parentPath.hasBytePrefix("/") else { throw RuntimeError("--parent-path must be relative") }
            guard Files.isDirectory(imagePath + "/" + options.parentPath) else {
                throw RuntimeError("invalid --parent-path: \(imagePath)/\(options.parentPath) is not a directory")
            }
        }
        let images = try Files.open(imagePath, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        defer { images.close() }
        var criu = CriuOptions.forContainer(images: images, logFile: options.preDump ? "pre-dump.log" : "dump.log",
                                            root: record.rootfs, mode: mode, emptyNS: emptyNS, spec: spec,
                                            shellJob: options.shellJob, extUnixSk: options.extUnixSk,
                                            tcpEstablished: options.tcpEstablished, fileLocks: options.fileLocks,
                                            autoDedup: options.autoDedup)
        criu.pid = record.pid
        criu.leaveRunning = options.leaveRunning
        var logDirectory = imagePath
        var work: FileDescriptor?
        defer { work?.close() }
        if !options.workPath.isEmpty {
            try Files.makeDirectories(options.workPath, mode: 0o700)
            work = try Files.open(options.workPath, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
            criu.workDirFD = work?.raw
            logDirectory = options.workPath
        }
        // Namespaces the container joined rather than made stay outside the image: criu records them by inode
        // under the keys restore hands them back with.
        for namespace in spec.linux?.namespaces ?? [] {
            guard let path = namespace.path, let key = Runtime.externalNamespaceKey(namespace.type) else { continue }
            let inode = try Files.status(path).st_ino
            criu.external.append("\(Runtime.criuNamespaceName(namespace.type))[\(inode)]:\(key)")
        }
        // The freezer criu stops the tasks with (cgroup v2: the container's own cgroup).
        criu.freezeCgroup = record.cgroupPaths["freezer"] ?? record.cgroupPaths[""]
        if !options.parentPath.isEmpty {
            criu.parentImage = options.parentPath
            criu.trackMemory = true
        }
        if !options.preDump {
            criu.externalMounts = Runtime.dumpExternalMounts(spec, pid: record.pid)
            // The init's stdio as criu will see it (pipe:[ino], /dev/null...): restore hands new pipes for the pipes.
            let writer = JSONWriter(pretty: false)
            writer.beginArray()
            for fd in 0..<3 { writer.string((try? Files.readLink("/proc/\(record.pid)/fd/\(fd)")) ?? "") }
            writer.endArray()
            try Files.writeFile(imagePath + "/" + Runtime.descriptorsFile, writer.bytes, mode: 0o600)
        }
        if options.preDump {
            var check = CriuRequest(type: .featureCheck)
            check.features = (memTrack: true, lazyPages: nil)
            let answer = try CriuSwrk.run(check, criu: self.criu)
            if answer.features?.memTrack != true { throw RuntimeError("criu is missing features: [MemTrack]") }
        }
        do {
            _ = try CriuSwrk.run(CriuRequest(type: options.preDump ? .preDump : .dump, options: criu), criu: self.criu)
        } catch {
            throw RuntimeError(Runtime.criuError(error, log: logDirectory + "/" + (criu.logFile ?? "")))
        }
    }

    static let descriptorsFile = "descriptors.json"

    /// A network namespace of its own (made, or joined: either way not the host's).
    static func hasOwnNetwork(_ spec: Spec) -> Bool {
        spec.linux?.namespaces.contains { $0.type == .network } ?? false
    }

    /// What runc marks external at dump: bind mounts (keyed by their destination), masked files (bind mounts
    /// of /dev/null) and device nodes (bind mounts where they cannot be made).
    static func dumpExternalMounts(_ spec: Spec, pid: pid_t) -> [(key: String, value: String)] {
        var mounts: [(key: String, value: String)] = []
        for mount in spec.mounts where MountOptions(mount.options, type: mount.type).isBind {
            let destination = cleanDestination(mount.destination)
            mounts.append((destination, destination))
        }
        for path in spec.linux?.maskedPaths ?? [] {
            guard let mode = Files.lstatMode("/proc/\(pid)/root\(path)"), mode & S_IFMT != S_IFDIR else { continue }
            mounts.append((path, "/dev/null"))
        }
        for device in deviceMountPaths(spec) { mounts.append((device, device)) }
        return mounts
    }

    /// The default devices every container gets, then config.json's.
    static func deviceMountPaths(_ spec: Spec) -> [String] {
        var paths = ["/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom", "/dev/tty"]
        for device in spec.linux?.devices ?? [] where !paths.contains(device.path) { paths.append(device.path) }
        return paths
    }

    /// "/a//b/../c/" → "/a/c": how the destination appears in the container's mount table.
    static func cleanDestination(_ path: String) -> String {
        var parts: [Substring] = []
        for part in path.split(separator: "/") {
            if part == "." { continue }
            if part == ".." { _ = parts.popLast(); continue }
            parts.append(part)
        }
        return "/" + parts.joined(separator: "/")
    }

    /// criu's namespace names ("net", "mnt", ...), as in /proc/<pid>/ns.
    static func criuNamespaceName(_ type: NamespaceType) -> String {
        switch type {
        case .network: "net"
        case .mount: "mnt"
        default: type.rawValue
        }
    }

    /// runc's keys for the namespaces criu can leave external: extRootNetNS, extRootPidNS.
    static func externalNamespaceKey(_ type: NamespaceType) -> String? {
        switch type {
        case .network: "extRootNetNS"
        case .pid: "extRootPidNS"
        default: nil
        }
    }

    /// criu's error, with the first error line of its log (criu says little over RPC) and where the log is.
    static func criuError(_ error: any Error, log: String) -> String {
        let lines = CriuSwrk.errorLines(log: log).filter { $0.containsText("Error") }
        let first = lines.first.map { ": " + $0.trimmingCharacters(in: " \t") } ?? ""
        // No log: criu never ran (not found, or it died before opening one).
        return Files.exists(log) ? "\(error)\(first) (log: \(log))" : "\(error)"
    }
}

private extension String {
    func trimmingCharacters(in set: String) -> String {
        var s = Substring(self)
        while let c = s.first, set.contains(c) { s.removeFirst() }
        while let c = s.last, set.contains(c) { s.removeLast() }
        return String(s)
    }
}

extension CriuOptions {
    /// What runc sets alike for a dump and a restore: the images by fd, log level 4, the root, cgroups managed
    /// in `mode`, notify scripts, orphan pty masters, the network lock for the container's network.
    static func forContainer(images: FileDescriptor, logFile: String, root: String, mode: CriuCgroupMode, emptyNS: UInt32,
                             spec: Spec, shellJob: Bool, extUnixSk: Bool, tcpEstablished: Bool, fileLocks: Bool,
                             autoDedup: Bool) -> CriuOptions {
        var criu = CriuOptions()
        criu.imagesDirFD = images.raw
        criu.logLevel = 4
        criu.logFile = logFile
        criu.root = root
        criu.manageCgroups = true
        criu.manageCgroupsMode = mode
        criu.notifyScripts = true
        criu.shellJob = shellJob
        criu.tcpEstablished = tcpEstablished
        criu.extUnixSk = extUnixSk
        criu.fileLocks = fileLocks
        criu.emptyNamespaces = emptyNS
        criu.orphanPtsMaster = true
        criu.networkLock = CriuSwrk.networkLockMethod(ownNetworkNamespace: Runtime.hasOwnNetwork(spec), tcpEstablished: tcpEstablished)
        criu.autoDedup = autoDedup
        return criu
    }
}
