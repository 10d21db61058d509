import Capabilities
import Cgroups
import Foundation
import OCISpec
@testable import Plan
import Testing

/// Which configs may get their mount namespace from open_tree(OPEN_TREE_NAMESPACE) (ContainerPlan.mayUseTreeNamespace):
/// only those that cannot tell it from a copy of the host's. The namespace itself needs Linux 7.0; the cgroup2
/// guest's run on the newer kernel (scripts/cgroup2-guest/checks.sh, group treens) shows what a container sees.
/// Root only: an ordinary caller's container is a rootless one, whose user namespace never uses it.
@Suite(.enabled(if: getuid() == 0, "needs root")) struct TreeNamespacePlanTests {
    static let rootfs = FileManager.default.temporaryDirectory.path + "/tree-namespace-plan-rootfs"
    static let v2Host = CgroupHost(mountinfo: "30 24 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw\n",
                                   selfCgroup: "0::/\n")

    func plan(_ change: (inout Spec) -> Void = { _ in }, host: CgroupHost? = v2Host) throws -> ContainerPlan {
        // The plan looks for the program in the rootfs.
        try FileManager.default.createDirectory(atPath: Self.rootfs + "/data", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: Self.rootfs + "/bin", withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: Self.rootfs + "/bin/true", contents: Data(), attributes: [.posixPermissions: 0o755])
        var spec = Spec.makeDefault(rootless: false)
        spec.root = Root(path: Self.rootfs)
        spec.process?.args = ["/bin/true"]
        change(&spec)
        let check = ContainerPlan.check(spec: spec, bundle: "/", lsm: LSMHost(appArmor: false, seLinux: false))
        var plan = try #require(check.plan, "\(check.errors)")
        plan.cgroupHost = host
        return plan
    }

    func bind(_ source: String, _ options: [String] = ["rbind"]) -> (inout Spec) -> Void {
        { $0.mounts.append(Mount(destination: "/mnt", type: "bind", source: source, options: options)) }
    }

    @Test func theDefaultConfigOnCgroupV2MayUseIt() throws {
        #expect(try plan().mayUseTreeNamespace)
        #expect(try plan(bind("/tmp", ["rbind", "rprivate", "ro"])).mayUseTreeNamespace, "private is what a copy is")
    }

    /// What Docker, podman and containerd wrote (Tests/Golden/foreign/): all of it takes the path on cgroup v2.
    @Test(arguments: ["docker-run", "docker-readonly", "podman-run", "podman-readonly", "ctr-run", "ctr-tty"])
    func clientsConfigsMayUseIt(_ name: String) throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().path
            + "/Golden/foreign/\(name).json"
        // The scrubbed state files and directories become host ones that exist.
        let text = try String(contentsOfFile: path, encoding: .utf8)
            .replacingOccurrences(of: "@FILE@", with: "/etc/hostname").replacingOccurrences(of: "@DIR@", with: "/tmp")
        let captured = try Spec.decode(Array(text.utf8))
        #expect(try plan { spec in
            spec.mounts = captured.mounts
            spec.hooks = captured.hooks
            spec.linux?.namespaces = captured.linux?.namespaces ?? []
        }.mayUseTreeNamespace)
    }

    @Test func aV1CgroupMountBindsHostDirectoriesUnlessInItsOwnCgroupNamespace() throws {
        #expect(try !plan(host: nil).mayUseTreeNamespace)
        #expect(try plan({ $0.linux?.namespaces.append(Namespace(type: .cgroup)) }, host: nil).mayUseTreeNamespace)
    }

    @Test func whatNeedsTheHostsTreeKeepsTheCopy() throws {
        let hook = [Hook(path: "/bin/true")]
        #expect(try !plan({ $0.hooks = Hooks(prestart: hook) }).mayUseTreeNamespace)
        #expect(try !plan({ $0.hooks = Hooks(createRuntime: hook) }).mayUseTreeNamespace)
        #expect(try !plan({ $0.hooks = Hooks(createContainer: hook) }).mayUseTreeNamespace)
        #expect(try plan({ $0.hooks = Hooks(startContainer: hook, poststart: hook) }).mayUseTreeNamespace,
                "after pivot_root, or outside the container")
        #expect(try !plan({ $0.linux?.rootfsPropagation = "shared" }).mayUseTreeNamespace)
    }

    @Test func bindSourcesMustBeCopiableAsTheyAreAndStayPrivate() throws {
        #expect(try !plan(bind(Self.rootfs + "/data")).mayUseTreeNamespace, "under the rootfs: earlier mounts would show")
        #expect(try !plan(bind("/sys/fs")).mayUseTreeNamespace, "the host's cgroup2 mount may be under it")
        #expect(try !plan(bind("/tmp", ["rbind", "rslave"])).mayUseTreeNamespace)
        #expect(try !plan(bind("/tmp", ["rbind", "shared"])).mayUseTreeNamespace)
    }

    @Test func aUserNamespaceCannotEnterIt() throws {
        let mapping = [IDMapping(containerID: 0, hostID: 100_000, size: 65536)]
        #expect(try !plan({
            $0.linux?.namespaces.append(Namespace(type: .user))
            $0.linux?.uidMappings = mapping
            $0.linux?.gidMappings = mapping
        }).mayUseTreeNamespace)
    }

    @Test func withoutAMountNamespaceOfItsOwnThereIsNothingToMake() throws {
        #expect(try !plan({ $0.linux?.namespaces.removeAll { $0.type == .mount } }).mayUseTreeNamespace)
    }
}
