import Glibc
import OCISpec
import Plan
import Sys

package enum IdmappedMounts {
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
    package static func probe(_ plan: ContainerPlan) -> [PlanError] {
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
