import Glibc
import OCISpec
import Sys

/// A mount's idmapping (runtime-spec 1.2 config.md: `uidMappings`/`gidMappings` of a mount, options `idmap` and
/// `ridmap`), planned before clone. docs/idmap-and-pidfd.md.
public struct MountIDMap: Sendable, Equatable {
    public enum Mappings: Sendable, Equatable {
        /// The mount's own mappings, or a new user namespace's (config.md: the runtime MAY use the container's).
        case given(uid: [IDMapping], gid: [IDMapping])
        /// A user namespace the container joins by path: its mappings, through the namespace itself (runc).
        case namespace(String)
    }

    public var mappings: Mappings
    /// `ridmap`: every mount of the copied tree is idmapped; `idmap` (or mappings alone): only its top mount,
    /// whatever an rbind brought along (runc's reading of the spec's footnote).
    public var recursive: Bool
    /// The option as the config names it, for messages.
    public var option: String { recursive ? "ridmap" : "idmap" }
}

public enum IdmappedMounts {
    public static let optionNames: Set<String> = ["idmap", "ridmap"]

    /// The idmapping of `.mounts[index]`, or nil for an ordinary mount. `idmap`/`ridmap` leave `options` (they are
    /// never mount(2) data); every refusal is recorded with its JSON path.
    static func plan(_ mount: Mount, index: Int, options: inout MountOptions, linux: OCISpec.Linux?,
                     created: Set<NamespaceType>, joined: [ContainerPlan.NamespaceJoin],
                     errors: inout [PlanError], warnings: inout [PlanError]) -> MountIDMap? {
        let path = ".mounts[\(index)]"
        let recursive = options.data.contains("ridmap")
        let named = recursive || options.data.contains("idmap")
        options.data.removeAll { optionNames.contains($0) }
        let hasMappings = !mount.uidMappings.isEmpty || !mount.gidMappings.isEmpty
        guard named || hasMappings else { return nil }
        let option = recursive ? "ridmap" : "idmap"
        var ok = true
        func refuse(_ field: String, _ message: String) {
            errors.append(PlanError(path + field, message))
            ok = false
        }
        if hasMappings && !named {
            // config.md: SHOULD name idmap or ridmap; runc applies the mappings as idmap, and so does crabcan.
            warnings.append(PlanError(path + ".options", "uidMappings without idmap or ridmap: applied as idmap (the top mount only)"))
        }
        // config.md: "If specified, it MUST be specified along with" the other.
        if !mount.uidMappings.isEmpty && mount.gidMappings.isEmpty { refuse(".gidMappings", "required with uidMappings") }
        if mount.uidMappings.isEmpty && !mount.gidMappings.isEmpty { refuse(".uidMappings", "required with gidMappings") }
        if !options.isBind {
            refuse(".options", "\(option): only a bind mount (bind or rbind) can be idmapped, as with runc")
        }
        if Processes.effectiveUID != 0 {
            refuse(".options", "\(option): an idmapped mount needs root (CAP_SYS_ADMIN over the source's filesystem), as with runc")
        }
        if !Mounts.idmapSupported {
            refuse(".options", "\(option): this kernel has no idmapped mounts (mount_setattr, Linux 5.12)")
        }
        var mappings: MountIDMap.Mappings?
        if hasMappings {
            mappings = .given(uid: mount.uidMappings, gid: mount.gidMappings)
        } else if created.contains(.user), let linux {
            mappings = .given(uid: linux.uidMappings, gid: linux.gidMappings)
        } else if let join = joined.first(where: { $0.type == .user }) {
            mappings = .namespace(join.path)
        } else {
            // config.md: no mappings and no user namespace "an error MUST be returned".
            refuse(".options", "\(option) without uidMappings and gidMappings takes the container's user namespace, and there is none")
        }
        guard ok, let mappings else { return nil }
        return MountIDMap(mappings: mappings, recursive: recursive)
    }

    // MARK: in the parent, before clone

    /// The bind sources the init attaches: `plain` (RootfsSetup.openBindSources) with each idmapped mount's
    /// source replaced by its idmapped detached copy. Made here, by the runtime with its privileges over the host's
    /// filesystems (MOUNT_ATTR_IDMAP needs CAP_SYS_ADMIN over the source's superblock), so the same code serves
    /// a container with or without a user namespace. Nothing is left on failure: the copies are detached.
    static func sources(_ plan: ContainerPlan, replacing plain: [Int: FileDescriptor]) throws -> [Int: FileDescriptor] {
        guard !plan.idmappedMounts.isEmpty else { return plain }
        var sources = plain
        var namespaces = NamespaceCache()
        for index in plan.idmappedMounts.keys.sorted() {
            sources[index]?.close()
            sources[index] = try idmappedCopy(plan, index, &namespaces)
        }
        return sources
    }

    /// `crabcan check`: whether this host makes each idmapped mount (the filesystem may refuse), by making it
    /// and letting it go.
    public static func probe(_ plan: ContainerPlan) -> [PlanError] {
        var namespaces = NamespaceCache()
        var problems: [PlanError] = []
        for index in plan.idmappedMounts.keys.sorted() {
            do {
                try idmappedCopy(plan, index, &namespaces).close()
            } catch let problem as PlanError {
                problems.append(problem)
            } catch {
                problems.append(PlanError(".mounts[\(index)]", "\(error)"))
            }
        }
        return problems
    }

    /// One user namespace per distinct set of mappings (most configs use one).
    struct NamespaceCache {
        var made: [String: FileDescriptor] = [:]

        mutating func namespace(for mappings: MountIDMap.Mappings) throws(SysError) -> FileDescriptor {
            switch mappings {
            case .namespace(let path):
                return try Files.open(path, O_RDONLY | O_CLOEXEC)
            case .given(let uid, let gid):
                let uidMap = UserNamespacePlan.text(uid), gidMap = UserNamespacePlan.text(gid)
                let key = uidMap + "/" + gidMap
                if let fd = made[key] { return fd }
                let fd = try UserNamespaces.withMappings(uidMap: uidMap, gidMap: gidMap)
                made[key] = fd
                return fd
            }
        }
    }

    /// open_tree(OPEN_TREE_CLONE, recursive for an rbind), then MOUNT_ATTR_IDMAP (on every mount of it for ridmap).
    static func idmappedCopy(_ plan: ContainerPlan, _ index: Int, _ namespaces: inout NamespaceCache) throws -> FileDescriptor {
        let mount = plan.mounts[index]
        guard let idmap = plan.idmappedMounts[index], let source = mount.source else {
            throw PlanError(".mounts[\(index)]", "no source to idmap")
        }
        let path = ".mounts[\(index)]"
        do {
            let copy = try Mounts.detachedCopy(of: source, recursive: mount.options.flags & Mounts.recursive != 0)
            let userNamespace = try namespaces.namespace(for: idmap.mappings)
            let set = Result { () throws(SysError) in
                try Mounts.setIDMapping(copy, userNamespace: userNamespace, recursive: idmap.recursive, describe: source)
            }
            if case .failure(let error) = set {
                guard error.errno == EINVAL else { throw error }
                throw PlanError(path + ".source", "\(idmap.option) of \(source): \(error): its filesystem (or one under it) "
                                + "does not take idmapped mounts on this kernel")
            }
            return copy
        } catch let error as SysError {
            throw PlanError(path, "\(idmap.option) of \(source): \(error)")
        }
    }
}
