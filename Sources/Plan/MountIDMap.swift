import OCISpec
import Sys

/// A mount's idmapping (runtime-spec 1.2 config.md: `uidMappings`/`gidMappings` of a mount, options `idmap` and
/// `ridmap`), planned before clone. docs/idmap-and-pidfd.md.
package struct MountIDMap: Sendable, Equatable {
    package enum Mappings: Sendable, Equatable {
        /// The mount's own mappings, or a new user namespace's (config.md: the runtime MAY use the container's).
        case given(uid: [IDMapping], gid: [IDMapping])
        /// A user namespace the container joins by path: its mappings, through the namespace itself (runc).
        case namespace(String)
    }

    package var mappings: Mappings
    /// `ridmap`: every mount of the copied tree is idmapped; `idmap` (or mappings alone): only its top mount,
    /// whatever an rbind brought along (runc's reading of the spec's footnote).
    package var recursive: Bool
    /// The option as the config names it, for messages.
    package var option: String { recursive ? "ridmap" : "idmap" }
}

extension MountIDMap {
    /// A list, not a Set: a Set<String> is a type `run` would make at run time for it alone.
    package static let optionNames = ["idmap", "ridmap"]

    /// The idmapping of `.mounts[index]`, or nil for an ordinary mount. `idmap`/`ridmap` leave `options` (they are
    /// never mount(2) data); every refusal is recorded with its JSON path.
    package static func plan(_ mount: Mount, index: Int, options: inout MountOptions, linux: OCISpec.Linux?,
                     created: NamespaceSet, joined: [ContainerPlan.NamespaceJoin],
                     errors: inout [PlanError], warnings: inout [PlanError]) -> MountIDMap? {
        let path = ".mounts[" + DecimalText.of(index) + "]"
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
}
