import Capabilities
import OCISpec
import Seccomp
import Sys

/// A config problem found after decoding: `.mounts[2].destination: must be absolute`.
public typealias PlanError = ConfigProblem

/// Everything the container's init needs, checked and resolved before clone: the child only acts.
/// Kept apart from the OCISpec wire types (DESIGN.md §1).
public struct ContainerPlan: ProcessSettings {
    public struct NamespaceJoin: Sendable, Equatable {
        public var type: NamespaceType
        public var path: String
    }

    public struct PlannedMount: Sendable {
        public var source: String?
        public var destination: String
        public var type: String?
        public var options: MountOptions
    }

    public var rootfs: String
    public var rootReadonly: Bool
    public var newNamespaces: UInt = 0
    public var createdNamespaces: Set<NamespaceType> = []
    public var joinedNamespaces: [NamespaceJoin] = []
    public var rootfsPropagation: UInt
    public var mounts: [PlannedMount] = []
    public var devices: [OCISpec.Device] = []
    public var hostname: String?
    public var domainname: String?
    public var maskedPaths: [String]
    public var readonlyPaths: [String]
    public var process: OCISpec.Process
    public var noPivot: Bool
    /// fds 3..<3+preserveFDs stay open in the container (`--preserve-fds`), besides stdio.
    public var preserveFDs: Int32
    /// Capabilities, rlimits, oom_score_adj of the process (validated here, applied by the init).
    public var privileges: ProcessPrivileges
    /// sysctl and personality, written from inside the container.
    public var kernel: KernelSettings
    /// AppArmor profile and SELinux labels (refused when the host lacks the module).
    public var labels: SecurityLabels
    /// The libseccomp filter, built before clone and loaded by the init.
    public var seccomp: SeccompProgram?
    /// Things crabcan skipped rather than refused (unknown syscall names, capabilities this kernel lacks).
    public var warnings: [String] = []
    /// Name of the session keyring the init joins (runc's default); nil with `--no-new-keyring`.
    public var sessionKeyring: String?
    /// A new user namespace's mappings and how the parent writes them; nil without a new one.
    public var userNamespace: UserNamespacePlan?
    /// `linux.timeOffsets` as /proc/self/timens_offsets takes them, for a new time namespace.
    public var timeOffsets = ""

    /// A user namespace is made or joined: the init becomes its root, and what needs host privilege (device
    /// nodes, sysfs without its network namespace) is done the way runc does it there.
    public var inUserNamespace: Bool { userNamespace != nil || joinedNamespaces.contains { $0.type == .user } }

    /// The new namespaces clone makes: not cgroup (unshared after placement, protocol step 0), not time (made
    /// by the init inside its user namespace; CLONE_NEWTIME also overlaps clone's exit-signal byte).
    public var cloneFlags: UInt { newNamespaces & ~(Namespaces.cgroup | Namespaces.time) }

    public init(spec: Spec, bundle: String, noPivot: Bool = false, preserveFDs: Int32 = 0,
                sessionKeyring: String? = nil) throws(PlanError) {
        self.sessionKeyring = sessionKeyring
        guard let process = spec.process else { throw PlanError(".process", "required field is missing") }
        guard let root = spec.root else { throw PlanError(".root", "required field is missing") }
        self.process = process
        self.rootfs = root.path.hasPrefix("/") ? root.path : bundle + "/" + root.path
        guard Files.isDirectory(rootfs) else { throw PlanError(".root.path", "\(rootfs) is not a directory") }
        self.rootReadonly = root.readonly
        self.noPivot = noPivot
        self.preserveFDs = preserveFDs
        guard process.cwd.hasPrefix("/") else { throw PlanError(".process.cwd", "must be an absolute path") }

        let linux = spec.linux
        for (index, namespace) in (linux?.namespaces ?? []).enumerated() {
            if let path = namespace.path, !path.isEmpty {
                joinedNamespaces.append(NamespaceJoin(type: namespace.type, path: path))
                guard Files.exists(path) else {
                    throw PlanError(".linux.namespaces[\(index)].path", "\(path) does not exist")
                }
            } else {
                createdNamespaces.insert(namespace.type)
                newNamespaces |= ContainerPlan.cloneFlag(namespace.type)
            }
        }
        userNamespace = try ContainerPlan.planUserNamespace(spec, created: createdNamespaces)
        timeOffsets = try ContainerPlan.planTimeNamespace(linux, created: createdNamespaces)
        let ownsUTS = createdNamespaces.contains(.uts)
        if let hostname = spec.hostname, !hostname.isEmpty {
            // runtime-spec config.md: a hostname needs a private UTS namespace.
            guard ownsUTS else { throw PlanError(".hostname", "cannot set hostname without a new uts namespace") }
            self.hostname = hostname
        }
        if let domainname = spec.domainname, !domainname.isEmpty {
            guard ownsUTS else { throw PlanError(".domainname", "cannot set domainname without a new uts namespace") }
            self.domainname = domainname
        }

        // The rootfs is entered by pivot_root in a private mount namespace; without one we would change the host's.
        guard createdNamespaces.contains(.mount) else {
            throw PlanError(".linux.namespaces", "a new mount namespace is required")
        }
        for (index, mount) in spec.mounts.enumerated() {
            guard mount.destination.hasPrefix("/") else {
                throw PlanError(".mounts[\(index)].destination", "must be an absolute path")
            }
            var source = mount.source
            let options = MountOptions(ContainerPlan.mappedOwnerOptions(mount, userNamespace, warnings: &warnings), type: mount.type)
            // runtime-spec config.md: a relative bind source is relative to the bundle.
            if options.isBind, let relative = source, !relative.hasPrefix("/") { source = bundle + "/" + relative }
            mounts.append(PlannedMount(source: source, destination: mount.destination, type: mount.type,
                                       options: options))
        }
        if let propagation = linux?.rootfsPropagation, !propagation.isEmpty {
            guard let flags = MountOptions.propagationOptions[propagation] else {
                throw PlanError(".linux.rootfsPropagation", "unknown propagation \"\(propagation)\"")
            }
            rootfsPropagation = flags
        } else {
            rootfsPropagation = Mounts.private | Mounts.recursive
        }
        privileges = try ProcessPrivileges(process: process)
        kernel = try KernelSettings(linux: linux, newNamespaces: createdNamespaces)
        labels = try SecurityLabels(process: process, linux: linux)
        warnings += privileges.warnings
        if let profile = linux?.seccomp {
            let program = try SeccompProgram(profile)
            warnings += program.warnings
            seccomp = program
        }
        devices = linux?.devices ?? []
        maskedPaths = linux?.maskedPaths ?? []
        readonlyPaths = linux?.readonlyPaths ?? []
    }

    public static func cloneFlag(_ type: NamespaceType) -> UInt {
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
    public var searchPath: String {
        for entry in process.env where entry.hasPrefix("PATH=") { return String(entry.dropFirst(5)) }
        return "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
    }
}
