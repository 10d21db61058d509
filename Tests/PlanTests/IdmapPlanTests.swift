import Capabilities
import Foundation
import OCISpec
@testable import Plan
import Testing

/// What the plan makes of a mount's `idmap`, `ridmap` and mappings (MountIDMap.plan), without a container.
/// Root only: an ordinary caller's idmapped mount is refused whatever it says (the integration tests show that).
@Suite(.enabled(if: getuid() == 0, "needs root")) struct IdmapPlanTests {
    static let map = [IDMapping(containerID: 100_000, hostID: 0, size: 65536)]

    func plan(_ mounts: [Mount], userNamespace: Bool = false) -> ContainerPlan.Check {
        var spec = Spec.makeDefault(rootless: false)
        spec.root = Root(path: "/")
        spec.process?.args = ["/bin/sh"]
        spec.mounts = mounts
        if userNamespace {
            spec.linux?.namespaces.append(Namespace(type: .user))
            spec.linux?.uidMappings = [IDMapping(containerID: 0, hostID: 100_000, size: 65536)]
            spec.linux?.gidMappings = [IDMapping(containerID: 0, hostID: 100_000, size: 65536)]
        }
        return ContainerPlan.check(spec: spec, bundle: "/", lsm: LSMHost(appArmor: false, seLinux: false))
    }

    @Test func idmapIsTheTopMountAndRidmapTheTree() throws {
        let check = plan([Mount(destination: "/a", type: "bind", source: "/tmp", options: ["rbind", "idmap", "ro"],
                                uidMappings: Self.map, gidMappings: Self.map),
                          Mount(destination: "/b", type: "bind", source: "/tmp", options: ["rbind", "ridmap"],
                                uidMappings: Self.map, gidMappings: Self.map),
                          Mount(destination: "/c", type: "bind", source: "/tmp", options: ["bind"])])
        let plan = try #require(check.plan, "\(check.errors)")
        #expect(plan.idmappedMounts[0] == MountIDMap(mappings: .given(uid: Self.map, gid: Self.map), recursive: false))
        #expect(plan.idmappedMounts[1] == MountIDMap(mappings: .given(uid: Self.map, gid: Self.map), recursive: true))
        #expect(plan.idmappedMounts[2] == nil)
        // Never mount(2) data; the rest of the options as before.
        #expect(plan.mounts[0].options.data.isEmpty && plan.mounts[1].options.data.isEmpty)
        #expect(plan.mounts[0].options.needsRemount, "ro still applies")
    }

    @Test func withoutMappingsTheUserNamespacesAreTaken() throws {
        let check = plan([Mount(destination: "/a", type: "bind", source: "/tmp", options: ["bind", "idmap"])], userNamespace: true)
        let plan = try #require(check.plan, "\(check.errors)")
        let container = [IDMapping(containerID: 0, hostID: 100_000, size: 65536)]
        #expect(plan.idmappedMounts[0] == MountIDMap(mappings: .given(uid: container, gid: container), recursive: false))
    }

    @Test func mappingsAloneAreIdmapWithAWarning() throws {
        let check = plan([Mount(destination: "/a", type: "bind", source: "/tmp", options: ["bind"],
                                uidMappings: Self.map, gidMappings: Self.map)])
        let plan = try #require(check.plan, "\(check.errors)")
        #expect(plan.idmappedMounts[0]?.recursive == false)
        #expect(check.warnings.map(\.description).contains(".mounts[0].options: uidMappings without idmap or ridmap: applied as idmap (the top mount only)"))
    }
}
