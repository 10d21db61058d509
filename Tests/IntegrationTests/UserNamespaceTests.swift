import Foundation
import Testing

/// Issue 5: user namespaces. Root in the container is host uid 100000 (the rootfs copy is chowned to it, as an
/// image unpacked for a remapped container would be); mappings are checked before anything is made.
extension CrabcanCLI {
    static var mapped: [[String: Any]] { [["containerID": 0, "hostID": 100000, "size": 65536]] }

    /// Adds a new user namespace mapping 0-65535 to host 100000-165535, and chowns the rootfs to match.
    static func withUserNamespace(_ config: inout [String: Any], namespaces extra: [[String: Any]] = []) {
        var linux = config["linux"] as! [String: Any]
        var namespaces = linux["namespaces"] as! [[String: Any]]
        namespaces.append(["type": "user"])
        linux["namespaces"] = namespaces + extra
        linux["uidMappings"] = mapped
        linux["gidMappings"] = mapped
        config["linux"] = linux
    }

    static func chownRootfs(_ box: Sandbox, to id: Int = 100000) throws {
        let result = Command.run("/bin/chown", ["-R", "\(id):\(id)", box.rootfs])
        guard result.status == 0 else { throw SetupError("chown rootfs: \(result)") }
    }

    static func owner(_ path: String) -> (uid: Int, gid: Int)? {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
              let uid = attributes[.ownerAccountID] as? NSNumber, let gid = attributes[.groupOwnerAccountID] as? NSNumber
        else { return nil }
        return (uid.intValue, gid.intValue)
    }

    @Test func userNamespaceMakesRootTheMappedHostUser() throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        try Self.chownRootfs(box)
        let script = "id; cat /proc/self/uid_map /proc/self/gid_map; touch /made-inside; echo ok > /dev/null && echo null-ok; "
            + "stat -c '%t,%T' /dev/null; touch /for-1000; chown 1000:1000 /for-1000"
        let bundle = try box.bundle(["sh", "-c", script]) { Self.withUserNamespace(&$0) }
        let result = box.crabcan(["--debug", "run", "--bundle", bundle, box.id("userns")])
        #expect(result.status == 0, "\(result)")
        // The init shares crabcan's memory: the id maps are written while it waits in the kernel for `placed`.
        #expect(result.stderr.contains("clone (shared memory)"), "\(result)")
        let lines = result.stdoutLines
        #expect(lines.first?.hasPrefix("uid=0(root) gid=0(root)") == true, "\(result)")
        let maps = lines.dropFirst().prefix(2).map { $0.split(separator: " ").map(String.init) }
        #expect(maps == [["0", "100000", "65536"], ["0", "100000", "65536"]], "\(result)")
        // /dev/null is the host's own node, bound in (mknod is refused in a user namespace).
        #expect(lines.contains("null-ok") && lines.contains("1,3"), "\(result)")
        // What root made inside belongs to host uid 100000; an id chowned inside to 1000 is host 101000.
        #expect(Self.owner(box.rootfs + "/made-inside").map { [$0.uid, $0.gid] } == [100000, 100000])
        #expect(Self.owner(box.rootfs + "/for-1000").map { [$0.uid, $0.gid] } == [101000, 101000], "\(result)")
        #expect(box.rootEntries().isEmpty)
    }

    /// Without its own network namespace a container may not mount sysfs: the host's /sys is bound instead.
    @Test func sysfsWithoutOwnNetworkNamespaceIsTheHostsBound() throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        try Self.chownRootfs(box)
        let bundle = try box.bundle(["sh", "-c", "ls /sys/class/net; grep ' /sys ' /proc/self/mountinfo"]) {
            Self.withUserNamespace(&$0)
            Self.withoutNamespace(&$0, "network")
        }
        let result = box.crabcan(["run", "--bundle", bundle, box.id("userns-sys")])
        #expect(result.status == 0, "\(result)")
        let hostInterfaces = try FileManager.default.contentsOfDirectory(atPath: "/sys/class/net").sorted()
        #expect(Array(result.stdoutLines.prefix(hostInterfaces.count)).sorted() == hostInterfaces, "\(result)")
        #expect(result.stdout.contains(" ro,"), "/sys must stay read-only: \(result)")
    }

    @Test func execEntersTheUserNamespaceAsItsRoot() throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        try Self.chownRootfs(box)
        let id = box.id("userns-exec")
        let bundle = try box.bundle(["sleep", "100"]) { Self.withUserNamespace(&$0) }
        #expect(box.crabcan(["run", "--detach", "--bundle", bundle, id]).status == 0)
        let pid = try #require(box.pid(id))
        let result = box.crabcan(["exec", id, "sh", "-c", "id -u; readlink /proc/self/ns/user; touch /by-exec"])
        #expect(result.status == 0, "\(result)")
        let userNamespace = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/ns/user")
        #expect(result.stdoutLines == ["0", userNamespace], "\(result)")
        #expect(Self.owner(box.rootfs + "/by-exec")?.uid == 100000)
        #expect(box.crabcan(["delete", "--force", id]).status == 0)
    }

    /// A second container joins the first one's user and network namespaces by path; its new namespaces
    /// (mount, pid, ipc, uts) belong to the joined user namespace, so it can mount in them.
    @Test func userNamespaceIsJoinedByPath() throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        try Self.chownRootfs(box)
        let first = box.id("userns-owner")
        let owner = try box.bundle(["sleep", "100"], name: "owner") { Self.withUserNamespace(&$0) }
        #expect(box.crabcan(["run", "--detach", "--bundle", owner, first]).status == 0)
        let ownerPID = try #require(box.pid(first))
        let ns = { (type: String) in "/proc/\(ownerPID)/ns/\(type)" }
        let joiner = try box.bundle(["sh", "-c", "id -u; cat /proc/self/uid_map; readlink /proc/self/ns/user; "
                                     + "readlink /proc/self/ns/net; echo $$; touch /by-joiner"], name: "joiner") {
            var linux = $0["linux"] as! [String: Any]
            linux["namespaces"] = [["type": "user", "path": ns("user")], ["type": "network", "path": ns("net")],
                                   ["type": "mount"], ["type": "pid"], ["type": "ipc"], ["type": "uts"]]
            $0["linux"] = linux
        }
        let result = box.crabcan(["run", "--bundle", joiner, box.id("userns-joiner")])
        #expect(result.status == 0, "\(result)")
        let expected = ["0", "0 100000 65536", try FileManager.default.destinationOfSymbolicLink(atPath: ns("user")),
                        try FileManager.default.destinationOfSymbolicLink(atPath: ns("net")), "1"]
        #expect(result.stdoutLines.map { $0.split(separator: " ").joined(separator: " ") } == expected, "\(result)")
        #expect(Self.owner(box.rootfs + "/by-joiner")?.uid == 100000)
        #expect(box.crabcan(["delete", "--force", first]).status == 0)
    }

    static let badMappings: [(name: String, expected: String, edit: @Sendable (inout [String: Any]) -> Void)] = [
        ("missing", ".linux.uidMappings: a new user namespace needs uid mappings", { config in
            withUserNamespace(&config)
            var linux = config["linux"] as! [String: Any]
            linux.removeValue(forKey: "uidMappings")
            config["linux"] = linux
        }),
        ("without-userns", ".linux.gidMappings: needs a new user namespace in .linux.namespaces", { config in
            var linux = config["linux"] as! [String: Any]
            linux["gidMappings"] = mapped
            config["linux"] = linux
        }),
        ("overlap", ".linux.uidMappings[1].containerID: container uids 10...19 overlap .linux.uidMappings[0]", { config in
            withUserNamespace(&config)
            var linux = config["linux"] as! [String: Any]
            linux["uidMappings"] = mapped + [["containerID": 10, "hostID": 300000, "size": 10]]
            config["linux"] = linux
        }),
        ("size-zero", ".linux.gidMappings[0].size: must be greater than zero", { config in
            withUserNamespace(&config)
            var linux = config["linux"] as! [String: Any]
            linux["gidMappings"] = [["containerID": 0, "hostID": 100000, "size": 0]]
            config["linux"] = linux
        }),
        ("unmapped-user", ".process.user.uid: 70000 is not mapped by .linux.uidMappings", { config in
            withUserNamespace(&config)
            var process = config["process"] as! [String: Any]
            process["user"] = ["uid": 70000, "gid": 0]
            config["process"] = process
        }),
    ]

    @Test(arguments: CrabcanCLI.badMappings.indices)
    func badMappingsAreRefusedWithTheirPath(_ index: Int) throws {
        let bad = Self.badMappings[index]
        let box = try Sandbox()
        defer { box.cleanup() }
        let id = box.id("map-" + bad.name)
        let bundle = try box.bundle(["true"]) { bad.edit(&$0) }
        let result = box.crabcan(["run", "--bundle", bundle, id])
        #expect(result.status == 1, "\(result)")
        #expect(result.stderrLines.count == 1 && result.stderr.contains(bad.expected), "\(bad.name): \(result)")
        #expect(!box.stateDirExists(id))
        #expect(box.rootEntries().isEmpty, "left in --root: \(box.rootEntries())")
    }
}
