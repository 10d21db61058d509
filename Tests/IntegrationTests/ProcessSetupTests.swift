import Foundation
import Testing

/// What config.json says about the process and its world, as the container sees it:
/// user and groups, umask, env, cwd, domainname, devices, --no-pivot, and namespaces joined by path.
extension CrabcanCLI {
    @Test func userGroupsUmaskEnvAndCwdAreApplied() throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        let bundle = try box.bundle(["sh", "-c", "id -u; id -g; id -G; umask; echo $GREETING; pwd; echo $HOME"]) {
            var process = $0["process"] as! [String: Any]
            process["user"] = ["uid": 1000, "gid": 1000, "additionalGids": [5, 1001], "umask": 0o027]
            process["env"] = ["PATH=/bin:/usr/bin", "GREETING=hello from config"]
            process["cwd"] = "/work/here"  // missing in the rootfs: created, as runc does
            $0["process"] = process
        }
        let result = box.crabcan(["run", "--bundle", bundle, box.id("user")])
        #expect(result.status == 0, "\(result)")
        #expect(result.stdoutLines == ["1000", "1000", "1000 5 1001", "0027", "hello from config", "/work/here", "/home/user"],
                "\(result)")
    }

    @Test func domainnameAndLinuxDevicesAreCreated() throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        // A node in directories /dev lacks gets them made; modes are the config's exactly (no umask), /dev/null's too.
        let bundle = try box.bundle(["sh", "-c", "cat /proc/sys/kernel/domainname; stat -c '%F %t,%T %a %u:%g' /dev/mydev; "
                                     + "stat -c '%F %a %u' /dev/sub/dir/fifo1; stat -c '%F %a %u:%g' /dev/null"]) {
            $0["domainname"] = "example.test"
            var linux = $0["linux"] as! [String: Any]
            linux["devices"] = [["type": "c", "path": "/dev/mydev", "major": 1, "minor": 7, "fileMode": 0o640, "uid": 1000,
                                 "gid": 1002],
                                ["type": "p", "path": "/dev/sub/dir/fifo1", "fileMode": 0o662, "uid": 1001]]
            $0["linux"] = linux
        }
        let result = box.crabcan(["run", "--bundle", bundle, box.id("dev")])
        #expect(result.status == 0, "\(result)")
        #expect(result.stdoutLines == ["example.test", "character special file 1,7 640 1000:1002", "fifo 662 1001",
                                       "character special file 666 0:0"], "\(result)")
    }

    /// Without a /dev mount the image's own /dev is used: a node of the right type there is kept as it is, one of
    /// the wrong type is replaced, and a link name already taken is left alone (nodes and links are made first
    /// and looked at only when the name is taken).
    @Test func nodesAndLinksTheImageShipsAreKeptOrReplaced() throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        let dev = box.rootfs + "/dev"
        try FileManager.default.createDirectory(atPath: dev, withIntermediateDirectories: true)
        for name in ["null", "zero", "fd"] { try? FileManager.default.removeItem(atPath: dev + "/" + name) }
        #expect(FileManager.default.createFile(atPath: dev + "/null", contents: Data("not a device".utf8)))
        #expect(mknod(dev + "/zero", S_IFCHR | 0o600, dev_t(1 << 8 | 5)) == 0)  // makedev(1, 5)
        #expect(FileManager.default.createFile(atPath: dev + "/fd", contents: Data()))
        // A set-group-ID /dev gives new nodes its group: the default nodes must still end up root's (0:0), and the
        // chown crabcan skips where mknod already gave the wanted owner must not be skipped here.
        #expect(chown(dev, 0, 42) == 0 && chmod(dev, 0o2755) == 0)
        let bundle = try box.bundle(["sh", "-c", "stat -c '%n %F %a' /dev/null /dev/zero /dev/fd /dev/full; "
                                     + "stat -c '%u:%g' /dev/full"]) { config in
            config["mounts"] = (config["mounts"] as! [[String: Any]]).filter { $0["destination"] as? String != "/dev" }
        }
        let result = box.crabcan(["run", "--bundle", bundle, box.id("imagedev")])
        #expect(result.status == 0, "\(result)")
        #expect(result.stdoutLines == ["/dev/null character special file 666", "/dev/zero character special file 600",
                                       "/dev/fd regular empty file 644", "/dev/full character special file 666",
                                       "0:0"], "\(result)")
    }

    @Test func noPivotStillConfinesTheRoot() throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        let bundle = try box.bundle(["sh", "-c", "ls /; cat /proc/1/mountinfo | head -1"])
        let result = box.crabcan(["run", "--no-pivot", "--bundle", bundle, box.id("nopivot")])
        #expect(result.status == 0, "\(result)")
        #expect(result.stdoutLines.contains("bin"), "\(result)")
        #expect(!result.stdoutLines.contains("work"), "the host's / must not be visible: \(result)")
    }

    /// A second container joins the first one's pid, network, ipc and uts namespaces by path.
    @Test func namespacesAreJoinedByPath() throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        let first = box.id("ns-owner")
        let owner = try box.bundle(["sleep", "100"], name: "owner") { $0["hostname"] = "owner-host" }
        #expect(box.crabcan(["run", "--detach", "--bundle", owner, first]).status == 0)
        let ownerPID = try #require(box.pid(first))
        let ns = { (type: String) in "/proc/\(ownerPID)/ns/\(type)" }
        let joiner = try box.bundle(["sh", "-c", "hostname; ps -o comm | grep -c sleep; readlink /proc/self/ns/net"],
                                    name: "joiner") {
            $0.removeValue(forKey: "hostname")
            var linux = $0["linux"] as! [String: Any]
            linux["namespaces"] = [["type": "pid", "path": ns("pid")], ["type": "network", "path": ns("net")],
                                   ["type": "ipc", "path": ns("ipc")], ["type": "uts", "path": ns("uts")],
                                   ["type": "mount"]]
            $0["linux"] = linux
        }
        let result = box.crabcan(["run", "--bundle", joiner, box.id("ns-joiner")])
        #expect(result.status == 0, "\(result)")
        let ownerNet = try FileManager.default.destinationOfSymbolicLink(atPath: ns("net"))
        #expect(result.stdoutLines == ["owner-host", "1", ownerNet], "\(result)")
        #expect(box.crabcan(["delete", "--force", first]).status == 0)
    }

    @Test func joiningAMissingNamespaceIsRefusedWithItsPath() throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        let id = box.id("ns-missing")
        let bundle = try box.bundle(["true"]) {
            var linux = $0["linux"] as! [String: Any]
            linux["namespaces"] = [["type": "network", "path": "/proc/999999999/ns/net"], ["type": "mount"]]
            $0["linux"] = linux
            // Without a uts namespace the hostname would be a second fault, reported first (document order).
            $0.removeValue(forKey: "hostname")
        }
        let result = box.crabcan(["create", "--bundle", bundle, id])
        #expect(result.status == 1)
        #expect(result.stderrLines.count == 1 && result.stderr.contains("/proc/999999999/ns/net"), "\(result)")
        #expect(!box.stateDirExists(id))
    }
}
