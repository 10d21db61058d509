import Capabilities
import Cgroups
import Glibc
import JSON
import OCISpec
import Seccomp
import Sys

/// A config problem found after decoding: `.mounts[2].destination: must be absolute`.
package typealias PlanError = ConfigProblem

/// Everything the container's init needs, checked and resolved before clone: the child only acts.
/// Kept apart from the OCISpec wire types (docs/design.md §1).
package struct ContainerPlan: ProcessSettings {
    package struct NamespaceJoin: Sendable, Equatable {
        package var type: NamespaceType
        package var path: String
    }

    package struct PlannedMount: Sendable {
        package var source: String?
        package var destination: String
        package var type: String?
        package var options: MountOptions

        package init(source: String?, destination: String, type: String?, options: MountOptions) {
            self.source = source
            self.destination = destination
            self.type = type
            self.options = options
        }
    }

    package var rootfs: String
    package var rootReadonly: Bool
    package var newNamespaces: UInt = 0
    package var createdNamespaces: NamespaceSet = []
    package var joinedNamespaces: [NamespaceJoin] = []
    /// `linux.rootfsPropagation` as mount flags; nil when not given.
    package var rootfsPropagation: UInt?
    package var mounts: [PlannedMount] = []
    package var devices: [OCISpec.Device] = []
    package var hostname: String?
    package var domainname: String?
    package var maskedPaths: [String]
    package var readonlyPaths: [String]
    package var process: OCISpec.Process
    package var noPivot: Bool
    /// fds 3..<3+preserveFDs stay open in the container (`--preserve-fds`), besides stdio.
    package var preserveFDs: Int32
    /// Capabilities, rlimits, oom_score_adj of the process (validated here, applied by the init).
    package var privileges: ProcessPrivileges
    /// sysctl and personality, written from inside the container.
    package var kernel: KernelSettings
    /// AppArmor profile and SELinux labels (refused when the host lacks the module).
    package var labels: SecurityLabels
    /// The libseccomp filter, built before clone and loaded by the init.
    package var seccomp: SeccompProgram?
    /// The runtime's cgroup mounts, detected before clone: the init, which shares that mount table, reads only its
    /// own /proc/self/cgroup again for a `cgroup` mount (CgroupHost.detect(mountsOf:)).
    package var cgroupHost: CgroupHost?
    /// linux.netDevices, moved by `create` into the init's network namespace right after clone.
    package var netDevices: [NetDeviceMove] = []
    /// False when config.json has no `process`: `start` is then refused by the init (config.md).
    package var runsProcess = true
    /// Without a mount namespace of the container's: the directory of crabcan's the rootfs is bound on, in the
    /// runtime's mount namespace, and entered by chroot (HostRoot). Set by `create` (it is in the state dir).
    package var hostRoot: String?
    /// Scheduler, I/O priority and NUMA memory policy, applied by the init before it drops privileges.
    package var scheduling: ProcessScheduling?
    /// Things crabcan skipped rather than refused (unknown syscall names, capabilities this kernel lacks).
    package var warnings: [ConfigProblem] = []
    /// All six kinds; prestart, createRuntime and createContainer run during create, startContainer in `start`.
    package var hooks = Hooks()
    /// Name of the session keyring the init joins (runc's default); nil with `--no-new-keyring`.
    package var sessionKeyring: String?
    /// A new user namespace's mappings and how the parent writes them; nil without a new one.
    package var userNamespace: UserNamespacePlan?
    /// `linux.timeOffsets` as /proc/self/timens_offsets takes them, for a new time namespace.
    package var timeOffsets = ""
    /// Idmapped mounts (`idmap`, `ridmap`, a mount's own mappings) by their index in `mounts` (IdmappedMounts).
    package var idmappedMounts: [Int: MountIDMap] = [:]

    /// config-linux.md: a namespace type not listed is inherited from the runtime; for mount, see HostRoot.
    package var inheritsMountNamespace: Bool {
        !createdNamespaces.contains(.mount) && !joinedNamespaces.contains { $0.type == .mount }
    }

    /// The init may take its mount namespace from open_tree(OPEN_TREE_NAMESPACE) (Linux 7.0) instead of clone: a
    /// namespace holding only a copy of the rootfs, so the host's mounts are neither copied nor detached again
    /// (docs/performance.md). Only where no one can tell the difference: the host's tree is not in that namespace,
    /// so nothing may need a host path there (create-time hooks run against the rootfs's host path and may enter
    /// the namespace; a v1 cgroup mount without a cgroup namespace binds host directories), every bind source is
    /// copied before clone, so it must not lie in the rootfs (where earlier mounts of this config would show), and
    /// a copy's peer group is not its source's, so a bind asking for shared or slave propagation keeps the copy
    /// of the namespace. A user namespace could not enter it (setns needs CAP_SYS_ADMIN over the host's user
    /// namespace); --no-pivot, a rootfsPropagation and HostRoot keep their own ways.
    package var mayUseTreeNamespace: Bool {
        guard createdNamespaces.contains(.mount), !inUserNamespace, hostRoot == nil, !noPivot, rootfsPropagation == nil,
              hooks.prestart.isEmpty, hooks.createRuntime.isEmpty, hooks.createContainer.isEmpty else { return false }
        let rootfsPrefix = rootfs.hasByteSuffix("/") ? rootfs : rootfs + "/"
        let cgroupsBindHostDirectories = cgroupHost?.version != .v2 && !createdNamespaces.contains(.cgroup)
        return mounts.allSatisfy { mount in
            if mount.type == "cgroup" && !mount.options.isBind { return !cgroupsBindHostDirectories }
            guard mount.options.isBind else { return true }
            // Under /sys may be the host's cgroup2 mount, where a cgroup mount falls back to binding a host directory.
            guard let source = mount.source, source.hasBytePrefix("/"), source != rootfs, !source.hasBytePrefix(rootfsPrefix),
                  source != "/sys", !source.hasBytePrefix("/sys/")
            else { return false }
            return mount.options.propagation.allSatisfy { $0 & (Mounts.shared | Mounts.slave | Mounts.unbindable) == 0 }
        }
    }

    /// A user namespace is made or joined: the init becomes its root, and what needs host privilege (device
    /// nodes, sysfs without its network namespace) is done the way runc does it there.
    package var inUserNamespace: Bool { userNamespace != nil || joinedNamespaces.contains { $0.type == .user } }

    /// The new namespaces clone makes: not cgroup (unshared after placement, protocol step 0), not time (made
    /// by the init inside its user namespace; CLONE_NEWTIME also overlaps clone's exit-signal byte).
    package var cloneFlags: UInt { newNamespaces & ~(Namespaces.cgroup | Namespaces.time) }

    /// The outcome of checking a spec: every error and warning, and the plan when there is no error.
    package struct Check {
        package var plan: ContainerPlan?
        package var errors: [PlanError] = []
        package var warnings: [PlanError] = []
    }

    /// The plan, or the first problem (`Check` lists them all).
    package init(spec: Spec, bundle: String, noPivot: Bool = false, preserveFDs: Int32 = 0,
                sessionKeyring: String? = nil) throws(PlanError) {
        let check = ContainerPlan.check(spec: spec, bundle: bundle, noPivot: noPivot, preserveFDs: preserveFDs,
                                        sessionKeyring: sessionKeyring)
        guard let plan = check.plan else { throw check.errors.first ?? PlanError(".", "invalid config") }
        self = plan
    }

    private init(process: OCISpec.Process, rootfs: String, rootReadonly: Bool, noPivot: Bool, preserveFDs: Int32,
                 rootfsPropagation: UInt?, privileges: ProcessPrivileges, kernel: KernelSettings, labels: SecurityLabels,
                 maskedPaths: [String], readonlyPaths: [String]) {
        self.process = process
        self.rootfs = rootfs
        self.rootReadonly = rootReadonly
        self.noPivot = noPivot
        self.preserveFDs = preserveFDs
        self.rootfsPropagation = rootfsPropagation
        self.privileges = privileges
        self.kernel = kernel
        self.labels = labels
        self.maskedPaths = maskedPaths
        self.readonlyPaths = readonlyPaths
    }

    /// Whether `path` names the namespace of `type` this process is in (same inode as /proc/self/ns/...).
    static func isRuntimeNamespace(_ path: String, _ type: NamespaceType) -> Bool {
        guard let ours = try? Files.open("/proc/self/ns/\(type == .mount ? "mnt" : type.rawValue)", O_RDONLY | O_CLOEXEC) else { return false }
        defer { ours.close() }
        return Files.isSameFile(ours, path)
    }

    /// Every check `create` makes before clone, each problem recorded rather than the first thrown, so that
    /// `crabcan check` and `create` say the same things about a config. Checks that depend on a part that is
    /// itself wrong are skipped (no rootfs: no lookup of the program in it).
    package static func check(spec: Spec, bundle: String, noPivot: Bool = false, preserveFDs: Int32 = 0,
                             sessionKeyring: String? = nil, seccompCache: SeccompCache? = nil,
                             seccompJSON: ArraySlice<UInt8>? = nil, keptSeccomp: SeccompProgram? = nil,
                             lsm: @autoclosure () -> LSMHost = .detect()) -> Check {
        var result = Check()
        func error(_ path: String, _ message: String) { result.errors.append(PlanError(path, message)) }

        // config.md: process is OPTIONAL; only start needs it. Without one the init is set up as for a process
        // of root with no capabilities, and tells `start` it has nothing to run (runsProcess).
        let process: OCISpec.Process? = spec.process ?? OCISpec.Process(cwd: "/")
        if spec.process == nil {
            result.warnings.append(PlanError(".process", "absent: the container can be created, not started"))
        }
        var rootfs: String?
        if let root = spec.root {
            let path = root.path.hasBytePrefix("/") ? root.path : bundle + "/" + root.path
            if Files.isDirectory(path) {
                rootfs = path
            } else {
                error(".root.path", "\(path) is not a directory")
            }
        } else {
            error(".root", "required field is missing")
        }
        // cwd and hook paths are absolute: the decoder refused them otherwise (OCISpec `absolutePath`).

        let linux = spec.linux
        var newNamespaces: UInt = 0
        var created: NamespaceSet = []
        var joined: [NamespaceJoin] = []
        for (index, namespace) in (linux?.namespaces ?? []).enumerated() {
            let path = ".linux.namespaces[" + DecimalText.of(index) + "]"
            if let nsPath = namespace.path, !nsPath.isEmpty {
                joined.append(NamespaceJoin(type: namespace.type, path: nsPath))
                if !Files.exists(nsPath) { error(path + ".path", "\(nsPath) does not exist") }
            } else {
                created.insert(namespace.type)
                newNamespaces |= ContainerPlan.cloneFlag(namespace.type)
            }
        }
        // A mount namespace given by path must not be the runtime's own: pivot_root would move the host's root. The
        // runtime's own uts namespace is what a host-network pod joins (containerd's CRI): allowed, as runc, unless a
        // hostname or domainname would then rename the host.
        let setsNames = !(spec.hostname ?? "").isEmpty || !(spec.domainname ?? "").isEmpty
        for (index, namespace) in (linux?.namespaces ?? []).enumerated()
        where namespace.type == .mount || (namespace.type == .uts && setsNames) {
            if let nsPath = namespace.path, !nsPath.isEmpty, ContainerPlan.isRuntimeNamespace(nsPath, namespace.type) {
                error(".linux.namespaces[\(index)].path", "\(nsPath) is the runtime's own \(namespace.type.rawValue) namespace")
            }
        }
        // runtime-spec config.md: a hostname needs a UTS namespace of the container's, new or joined (as runc).
        let ownsUTS = created.contains(.uts) || joined.contains { $0.type == .uts }
        if let hostname = spec.hostname, !hostname.isEmpty, !ownsUTS {
            error(".hostname", "cannot set hostname without a new uts namespace")
        }
        if let domainname = spec.domainname, !domainname.isEmpty, !ownsUTS {
            error(".domainname", "cannot set domainname without a new uts namespace")
        }
        // Without a mount namespace of its own (config-linux.md: inherited) the container's mounts are made in the
        // runtime's, under a mount point of crabcan's (HostRoot); a propagation setting there would have no owner.
        if !created.contains(.mount) && !joined.contains(where: { $0.type == .mount }),
           let propagation = linux?.rootfsPropagation, !propagation.isEmpty {
            error(".linux.rootfsPropagation", "needs a mount namespace of the container's in .linux.namespaces")
        }
        // What the init needs of the user and time namespaces.
        let userNamespaceProblems = ConfigChecks.userNamespace(linux: linux, process: process, created: created, joined: joined)
        result.errors += userNamespaceProblems
        var userNamespace: UserNamespacePlan?
        var timeOffsets = ""
        do {
            if userNamespaceProblems.isEmpty { userNamespace = try ContainerPlan.planUserNamespace(spec, created: created) }
        } catch {
            result.errors.append(error)
        }
        do {
            timeOffsets = try ContainerPlan.planTimeNamespace(linux, created: created)
        } catch {
            result.errors.append(error)
        }

        var mounts: [PlannedMount] = []
        var idmappedMounts: [Int: MountIDMap] = [:]
        for (index, mount) in spec.mounts.enumerated() {
            let path = ".mounts[" + DecimalText.of(index) + "]"
            // runtime-spec once allowed relative destinations (decoding keeps them); runc warns, crabcan refuses,
            // in the words of spec-schema/config.schema.json.
            guard mount.destination.hasBytePrefix("/") else {
                error(path + ".destination", "expected an absolute path, got \(jsonQuote(mount.destination))")
                continue
            }
            if ConfigChecks.climbsAboveRoot(mount.destination) {
                error(path + ".destination", "\(jsonQuote(mount.destination)) climbs out of the container's root with \"..\"")
                continue
            }
            var source = mount.source
            var dropped: [String] = []
            var options = MountOptions(ContainerPlan.mappedOwnerOptions(mount, userNamespace, warnings: &dropped), type: mount.type)
            var idmapProblems: (errors: [PlanError], warnings: [PlanError]) = ([], [])  // `result` is captured: one inout at a time
            idmappedMounts[mounts.count] = MountIDMap.plan(mount, index: index, options: &options, linux: linux, created: created,
                                                               joined: joined, errors: &idmapProblems.errors, warnings: &idmapProblems.warnings)
            result.errors += idmapProblems.errors
            result.warnings += idmapProblems.warnings
            result.warnings += dropped.map { PlanError(path + ".options", $0) }
            // runtime-spec config.md: a relative bind source is relative to the bundle.
            if options.isBind, let relative = source, !relative.hasBytePrefix("/") { source = bundle + "/" + relative }
            if options.isBind {
                if let source, !Files.exists(source) {
                    error(path + ".source", "\(source) does not exist")
                } else if source == nil {
                    error(path + ".source", "required for a bind mount")
                }
            }
            result.errors += ConfigChecks.mappings(mount.uidMappings, path: path + ".uidMappings", kind: "uid")
            result.errors += ConfigChecks.mappings(mount.gidMappings, path: path + ".gidMappings", kind: "gid")
            mounts.append(PlannedMount(source: source, destination: mount.destination, type: mount.type, options: options))
        }
        var rootfsPropagation: UInt?
        if let propagation = linux?.rootfsPropagation, !propagation.isEmpty {
            if let flags = MountOptions.propagation(propagation) {
                rootfsPropagation = flags
            } else {
                error(".linux.rootfsPropagation", "unknown propagation \(jsonQuote(propagation))")
            }
        }

        var problems: [PlanError] = []
        let privileges = process.map { ProcessPrivileges(process: $0, problems: &problems) }
        let kernel = KernelSettings(linux: linux, newNamespaces: created, problems: &problems)
        let labels = process.map { SecurityLabels(process: $0, linux: linux, host: lsm(), problems: &problems) }
        var schedulingWarnings: [PlanError] = []
        let scheduling = process.map {
            ProcessScheduling(process: $0, linux: linux, prefix: ".process", isInit: true, problems: &problems, warnings: &schedulingWarnings)
        }
        result.errors += problems
        result.warnings += privileges?.warnings ?? []
        result.warnings += labels?.warnings ?? []
        result.warnings += schedulingWarnings
        // config-linux.md: each device of the runtime's namespace moves into the container's, renamed there.
        var netDevices: [NetDeviceMove] = []
        let hasNetworkNamespace = created.contains(.network) || joined.contains { $0.type == .network }
        // Sorted only when there are any: the sort's array of (key, value) pairs is a type made at run time.
        for (name, device) in (linux?.netDevices ?? [:]).isEmpty ? [] : linux!.netDevices.sorted(by: { $0.key < $1.key }) {
            let path = ".linux.netDevices[\(jsonQuote(name))]"
            let newName = device.name.flatMap { $0.isEmpty ? nil : $0 } ?? name
            if !hasNetworkNamespace {
                error(path, "needs a network namespace of the container's in .linux.namespaces")
            } else if let problem = NetDeviceMove.badName(newName) {
                error(path + ".name", problem)
            } else if let index = Netlink.interfaceIndex(name) {
                netDevices.append(NetDeviceMove(hostName: name, index: index, name: newName))
            } else {
                error(path, "no network device \(jsonQuote(name)) in the runtime's network namespace")
            }
        }
        // `keptSeccomp`: found by the profile's text (left undecoded, unless it notifies: the listener needs it).
        var seccomp: SeccompProgram?
        if let keptSeccomp {
            seccomp = keptSeccomp
            result.warnings += keptSeccomp.warnings
        } else if let profile = linux?.seccomp {
            var seccompProblems: [PlanError] = []
            seccomp = seccompCache.map { $0.program(profile, json: seccompJSON, problems: &seccompProblems) }
                ?? SeccompProgram(profile, problems: &seccompProblems)
            result.errors += seccompProblems
            result.warnings += seccomp?.warnings ?? []
        }
        if spec.process != nil, let process, let rootfs {
            // A create-time hook could also put the program in place.
            let hooks = spec.hooks.map { !($0.prestart + $0.createRuntime + $0.createContainer).isEmpty } ?? false
            if let problem = ConfigChecks.program(process, rootfs: rootfs, mounts: mounts, searchPath: ProgramSearch.path(process.env)) {
                if hooks {
                    result.warnings.append(PlanError(problem.path, problem.message + " (unless a hook puts it there)"))
                } else {
                    result.errors.append(problem)
                }
            }
        }

        guard result.errors.isEmpty, let process, let rootfs, let root = spec.root, let privileges, let labels else {
            return result
        }
        var plan = ContainerPlan(
            process: process, rootfs: rootfs, rootReadonly: root.readonly, noPivot: noPivot, preserveFDs: preserveFDs,
            rootfsPropagation: rootfsPropagation, privileges: privileges, kernel: kernel, labels: labels,
            maskedPaths: linux?.maskedPaths ?? [], readonlyPaths: linux?.readonlyPaths ?? [])
        plan.sessionKeyring = sessionKeyring
        plan.newNamespaces = newNamespaces
        plan.createdNamespaces = created
        plan.joinedNamespaces = joined
        if let hostname = spec.hostname, !hostname.isEmpty { plan.hostname = hostname }
        if let domainname = spec.domainname, !domainname.isEmpty { plan.domainname = domainname }
        plan.mounts = mounts
        plan.seccomp = seccomp
        plan.devices = linux?.devices ?? []
        plan.warnings = result.warnings
        plan.scheduling = scheduling
        plan.runsProcess = spec.process != nil
        plan.netDevices = netDevices
        plan.hooks = spec.hooks ?? Hooks()
        plan.userNamespace = userNamespace
        plan.timeOffsets = timeOffsets
        plan.idmappedMounts = idmappedMounts
        result.plan = plan
        return result
    }

    /// Whether the runtime and an init sharing its memory may run the set-up pinned to one CPU (Launcher's SetUpCPU):
    /// not with hooks, the user's programs, which would inherit the pin (the runtime runs prestart, createRuntime,
    /// poststart and poststop; the init createContainer and startContainer), nor with SCHED_DEADLINE, under which
    /// the init could not be given every CPU back.
    package var mayPinSetUpCPU: Bool {
        !hasInitHooks && hooks.poststart.isEmpty && hooks.poststop.isEmpty && !(scheduling?.setsDeadline ?? false)
    }

    /// The init stops before pivot_root for these (protocol step 1c), and needs a state for startContainer.
    package var hasInitHooks: Bool {
        !(hooks.prestart.isEmpty && hooks.createRuntime.isEmpty && hooks.createContainer.isEmpty && hooks.startContainer.isEmpty)
    }

    package static func cloneFlag(_ type: NamespaceType) -> UInt {
        switch type {
        case .pid: return Namespaces.pid
        case .network: return Namespaces.network
        case .mount: return Namespaces.mount
        case .ipc: return Namespaces.ipc
        case .uts: return Namespaces.uts
        case .user: return Namespaces.user
        case .cgroup: return Namespaces.cgroup
        case .time: return Namespaces.time
        }
    }

    /// The PATH the container's process sees: its own env, else the conventional default.
    package var searchPath: String { ProgramSearch.path(process.env) }
}
