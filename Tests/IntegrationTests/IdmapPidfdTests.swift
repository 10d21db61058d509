import Foundation
import Testing

/// Issue 17 items 2-4: idmapped mounts (idmap, ridmap, a mount's own mappings), --pidfd-socket, and what
/// `check` says of both. docs/idmap-and-pidfd.md. Container ids start with `im-`.
extension CrabcanCLI {
    /// A container id of this file's own (their cgroups are named by it); deleted by `removeContainers`.
    static func idmapID(_ name: String) -> String { "im-\(name)-\(UUID().uuidString.prefix(8).lowercased())" }

    static func removeContainers(_ box: Sandbox, _ ids: [String]) {
        for id in ids where box.stateDirExists(id) { box.crabcan(["delete", "--force", id]) }
    }

    /// A directory of the sandbox owned by host 100000:100000, holding `file` owned the same.
    static func ownedTree(_ box: Sandbox, _ name: String, file: String = "f", owner: Int = 100000) throws -> String {
        let dir = box.dir + "/" + name
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: dir + "/" + file, contents: Data("x".utf8))
        let chown = Command.run("/bin/chown", ["-R", "\(owner):\(owner)", dir])
        guard chown.status == 0 else { throw SetupError("chown: \(chown)") }
        return dir
    }

    static func idmapMount(_ source: String, at destination: String, options: [String],
                           uid: [[String: Any]]? = nil, gid: [[String: Any]]? = nil) -> [String: Any] {
        var mount: [String: Any] = ["destination": destination, "type": "bind", "source": source, "options": options]
        if let uid { mount["uidMappings"] = uid }
        if let gid { mount["gidMappings"] = gid }
        return mount
    }

    static func addMounts(_ config: inout [String: Any], _ extra: [[String: Any]]) {
        config["mounts"] = (config["mounts"] as? [[String: Any]] ?? []) + extra
    }

    /// Host 100000-165535 shows as 0-65535 through the mount (a mapping whose "container" side is the disk's ids).
    static var diskToRoot: [[String: Any]] { [["containerID": 100000, "hostID": 0, "size": 65536]] }

    /// Without a user namespace: a file of host uid 100000 is root's inside, and what root makes inside is host
    /// 100000's outside; the same directory bound without idmap shows the real owner.
    @Test func idmappedBindShowsHostIDsMapped() throws {
        let box = try Sandbox()
        let id = Self.idmapID("bind")
        defer { Self.removeContainers(box, [id]); box.cleanup() }
        let source = try Self.ownedTree(box, "volume")
        let script = "stat -c 'idmapped %u %g' /mnt/f; stat -c 'plain %u %g' /plain/f; touch /mnt/made; "
            + "mkdir /mnt/dir; echo done"
        let bundle = try box.bundle(["sh", "-c", script]) { config in
            Self.addMounts(&config, [Self.idmapMount(source, at: "/mnt", options: ["bind", "idmap"], uid: Self.diskToRoot, gid: Self.diskToRoot),
                                     Self.idmapMount(source, at: "/plain", options: ["bind"])])
        }
        let before = HostSnapshot.mountLines()
        let result = box.crabcan(["run", "--bundle", bundle, id])
        #expect(result.status == 0, "\(result)")
        #expect(result.stdoutLines == ["idmapped 0 0", "plain 100000 100000", "done"], "\(result)")
        #expect(Self.owner(source + "/made").map { [$0.uid, $0.gid] } == [100000, 100000], "\(result)")
        #expect(Self.owner(source + "/dir").map { [$0.uid, $0.gid] } == [100000, 100000], "\(result)")
        #expect(Set(HostSnapshot.mountLines()).subtracting(before).isEmpty)
    }

    /// In a user namespace (0-65535 = host 100000-165535), `idmap` without mappings takes the container's: the
    /// host's root-owned files are root's inside (not nobody's), and root's files made inside are host root's.
    @Test func idmapTakesTheUserNamespacesMappings() throws {
        let box = try Sandbox()
        let id = Self.idmapID("userns")
        defer { Self.removeContainers(box, [id]); box.cleanup() }
        try Self.chownRootfs(box)
        let source = try Self.ownedTree(box, "volume", owner: 0)
        let script = "stat -c 'idmapped %u %g' /mnt/f; stat -c 'plain %u %g' /plain/f; touch /mnt/made; echo done"
        let bundle = try box.bundle(["sh", "-c", script]) { config in
            Self.withUserNamespace(&config)
            Self.addMounts(&config, [Self.idmapMount(source, at: "/mnt", options: ["bind", "idmap"]),
                                     Self.idmapMount(source, at: "/plain", options: ["bind"])])
        }
        let result = box.crabcan(["run", "--bundle", bundle, id])
        #expect(result.status == 0, "\(result)")
        #expect(result.stdoutLines == ["idmapped 0 0", "plain 65534 65534", "done"], "\(result)")
        #expect(Self.owner(source + "/made").map { [$0.uid, $0.gid] } == [0, 0], "\(result)")
    }

    /// A user namespace joined by path (a first container's): `idmap` without mappings takes that namespace's.
    @Test func idmapTakesAJoinedUserNamespace() throws {
        let box = try Sandbox()
        let first = Self.idmapID("owner"), second = Self.idmapID("joiner")
        defer { Self.removeContainers(box, [first, second]); box.cleanup() }
        try Self.chownRootfs(box)
        let owner = try box.bundle(["sleep", "100"], name: "owner") { Self.withUserNamespace(&$0) }
        #expect(box.crabcan(["run", "--detach", "--bundle", owner, first]).status == 0)
        let ownerPID = try #require(box.pid(first))
        let source = try Self.ownedTree(box, "volume", owner: 0)
        let joiner = try box.bundle(["sh", "-c", "stat -c 'idmapped %u %g' /mnt/f; touch /mnt/by-joiner"], name: "joiner") { config in
            var linux = config["linux"] as! [String: Any]
            linux["namespaces"] = [["type": "user", "path": "/proc/\(ownerPID)/ns/user"], ["type": "mount"], ["type": "pid"],
                                   ["type": "ipc"], ["type": "uts"], ["type": "network"]]
            config["linux"] = linux
            Self.addMounts(&config, [Self.idmapMount(source, at: "/mnt", options: ["bind", "idmap"])])
        }
        let result = box.crabcan(["run", "--bundle", joiner, second])
        #expect(result.status == 0, "\(result)")
        #expect(result.stdoutLines == ["idmapped 0 0"], "\(result)")
        #expect(Self.owner(source + "/by-joiner").map { [$0.uid, $0.gid] } == [0, 0], "\(result)")
    }

    /// An rbind of a tree with a submount (a tmpfs of the host's): `ridmap` maps the submount's files too,
    /// `idmap` maps the top mount only, whatever the rbind brought along.
    @Test func ridmapMapsSubmountsAndIdmapDoesNot() throws {
        let box = try Sandbox()
        let id = Self.idmapID("ridmap")
        defer { Self.removeContainers(box, [id]); box.cleanup() }
        let source = try Self.ownedTree(box, "tree")
        let sub = source + "/sub"
        try FileManager.default.createDirectory(atPath: sub, withIntermediateDirectories: true)
        let mount = Command.run("/bin/mount", ["-t", "tmpfs", "-o", "size=64k", "im-sub", sub])
        try #require(mount.status == 0, "\(mount)")
        defer { Command.run("/bin/umount", ["-l", sub]) }
        FileManager.default.createFile(atPath: sub + "/g", contents: Data("y".utf8))
        try #require(Command.run("/bin/chown", ["100000:100000", sub + "/g"]).status == 0)
        let script = "stat -c 'r %u' /r/f /r/sub/g; stat -c 'i %u' /i/f /i/sub/g"
        let bundle = try box.bundle(["sh", "-c", script]) { config in
            Self.addMounts(&config, [Self.idmapMount(source, at: "/r", options: ["rbind", "ridmap"], uid: Self.diskToRoot, gid: Self.diskToRoot),
                                     Self.idmapMount(source, at: "/i", options: ["rbind", "idmap"], uid: Self.diskToRoot, gid: Self.diskToRoot)])
        }
        let result = box.crabcan(["run", "--bundle", bundle, id])
        #expect(result.status == 0, "\(result)")
        #expect(result.stdoutLines == ["r 0", "r 0", "i 0", "i 100000"], "\(result)")
    }

    /// Refusals, each before anything is made or by the kernel during create: one error line naming the JSON
    /// path, exit 1, nothing left (no state dir, cgroup, process or mount).
    static let badIdmaps: [(name: String, expected: String, edit: @Sendable (inout [String: Any], String) -> Void)] = [
        ("uid-only", ".mounts[6].gidMappings: required with uidMappings", { config, source in
            addMounts(&config, [idmapMount(source, at: "/mnt", options: ["bind", "idmap"], uid: diskToRoot)])
        }),
        ("not-bind", ".mounts[6].options: idmap: only a bind mount (bind or rbind) can be idmapped", { config, _ in
            addMounts(&config, [["destination": "/mnt", "type": "tmpfs", "source": "tmpfs", "options": ["idmap"],
                                 "uidMappings": diskToRoot, "gidMappings": diskToRoot]])
        }),
        ("no-userns", ".mounts[6].options: idmap without uidMappings and gidMappings takes the container's user namespace, and there is none", { config, source in
            addMounts(&config, [idmapMount(source, at: "/mnt", options: ["bind", "idmap"])])
        }),
        // sysfs does not take idmapped mounts: the kernel says EINVAL at mount_setattr, during create.
        ("sysfs", ".mounts[6].source: idmap of /sys/kernel: mount_setattr MOUNT_ATTR_IDMAP /sys/kernel: EINVAL", { config, _ in
            addMounts(&config, [idmapMount("/sys/kernel", at: "/mnt", options: ["bind", "idmap"], uid: diskToRoot, gid: diskToRoot)])
        }),
    ]

    @Test(arguments: CrabcanCLI.badIdmaps.indices)
    func badIdmappedMountIsOneErrorAndLeavesNothing(_ index: Int) throws {
        let (name, expected, edit) = Self.badIdmaps[index]
        let box = try Sandbox()
        let id = Self.idmapID(name)
        defer { Self.removeContainers(box, [id]); box.cleanup() }
        let source = try Self.ownedTree(box, "volume")
        let bundle = try box.bundle(["true"]) { config in
            #expect((config["mounts"] as? [[String: Any]])?.count == 6, "the busybox config has 6 mounts")
            edit(&config, source)
        }
        let before = HostSnapshot.take(root: box.root, ids: [id])
        let result = box.crabcan(["create", "--bundle", bundle, id])
        #expect(isOneLineError(result), "\(name): \(result)")
        #expect(result.stderr.contains(expected), "\(name): \(result)")
        box.expectGone(id, name)
        let leaks = HostSnapshot.take(root: box.root, ids: [id]).leaks(since: before)
        #expect(leaks.isEmpty, "\(name): \(leaks)")
        // check says the same, at the same path (the kernel's refusal through its probe).
        let check = box.crabcan(["check", "--bundle", bundle])
        #expect(check.status == 1 && check.stdout.contains(expected), "\(name): \(check)")
    }

    /// An ordinary user: MOUNT_ATTR_IDMAP needs CAP_SYS_ADMIN over the source's filesystem, so the mount is refused
    /// with its path (runc refuses idmapped mounts in rootless containers too), by check and by create.
    @Test func idmapIsRefusedToAnOrdinaryUser() throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        let user = try TestUser(in: box, subordinateStart: 400000)
        defer { user.remove() }
        let spec = user.crabcan(["spec", "--rootless"], cwd: user.home)
        try #require(spec.status == 0, "\(spec)")
        let file = user.home + "/config.json"
        var config = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: file))) as? [String: Any])
        config["root"] = ["path": box.rootfs, "readonly": true]
        let index = (config["mounts"] as? [[String: Any]])?.count ?? 0
        Self.addMounts(&config, [Self.idmapMount(user.home, at: "/mnt", options: ["bind", "idmap"], uid: Self.diskToRoot, gid: Self.diskToRoot)])
        try JSONSerialization.data(withJSONObject: config).write(to: URL(fileURLWithPath: file))
        try user.own(file)
        let expected = ".mounts[\(index)].options: idmap: an idmapped mount needs root"
        let check = user.crabcan(["check"], cwd: user.home)
        #expect(check.status == 1 && check.stdout.contains("error: " + expected), "\(check)")
        let create = user.crabcan(["create", Self.idmapID("rootless")], cwd: user.home)
        #expect(isOneLineError(create) && create.stderr.contains(expected), "\(create)")
    }

    @Test func featuresAndCheckKnowIdmapAndPidfdSocket() throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        let features = box.crabcan(["features"])
        let document = try JSONSerialization.jsonObject(with: Data(features.stdout.utf8)) as? [String: Any]
        let linux = document?["linux"] as? [String: Any]
        let idmap = (linux?["mountExtensions"] as? [String: Any])?["idmap"] as? [String: Any]
        // Kernel 5.12+ has mount_setattr: this host's 6.x does.
        #expect(idmap?["enabled"] as? Bool == true, "\(features)")

        let source = try Self.ownedTree(box, "volume")
        let bundle = try box.bundle(["true"]) { config in
            Self.addMounts(&config, [Self.idmapMount(source, at: "/mnt", options: ["bind", "ridmap"], uid: Self.diskToRoot, gid: Self.diskToRoot)])
        }
        let ok = box.crabcan(["check", "--bundle", bundle])
        #expect(ok.status == 0 && ok.stdout.hasSuffix("config.json: ok\n"), "\(ok)")
        // --pidfd-socket: a path that is no socket is an error of check, as it would be of create.
        let notSocket = box.crabcan(["check", "--bundle", bundle, "--pidfd-socket", source + "/f"])
        #expect(notSocket.status == 1 && notSocket.stdout.contains("error: --pidfd-socket: \(source)/f is not a socket"), "\(notSocket)")
        let help = box.crabcan(["check", "--help"])
        #expect(help.stdout.contains("--pidfd-socket"), "\(help)")
        for command in ["run", "create", "exec"] {
            let help = box.crabcan([command, "--help"])
            #expect(help.stdout.contains("--pidfd-socket"), "\(command): \(help)")
        }
    }

    /// podman (the client Kubernetes-style user namespaces come through): `-v dir:/foo:idmap` in a container with
    /// `--uidmap 0:100000:65536` shows the host's root-owned files as root's, and root's new files are host root's.
    @Test(.disabled(if: noPodman != nil, Comment(rawValue: noPodman ?? "")))
    func podmanIdmappedVolume() throws {
        let podman = try Podman()
        defer { podman.cleanup() }
        let source = podman.dir + "/volume"
        try FileManager.default.createDirectory(atPath: source, withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: source + "/f", contents: Data("x".utf8))
        let userns = ["--uidmap", "0:100000:65536", "--gidmap", "0:100000:65536"]
        let idmapped = podman.run(userns + ["-v", source + ":/foo:idmap"], ["sh", "-c", "stat -c '%u %g' /foo/f; touch /foo/made"])
        #expect(idmapped.status == 0 && idmapped.stdout == "0 0\n", "\(idmapped)")
        #expect(Self.owner(source + "/made").map { [$0.uid, $0.gid] } == [0, 0], "\(idmapped)")
        let plain = podman.run(userns + ["-v", source + ":/foo"], ["stat", "-c", "%u %g", "/foo/f"])
        #expect(plain.status == 0 && plain.stdout == "65534 65534\n", "\(plain)")
    }

    // MARK: --pidfd-socket

    /// A supervisor as runc's tests have one (pidfd-kill): listens, takes one pidfd (SCM_RIGHTS), prints the
    /// payload and the pid the fd names (fdinfo), then on `go` signals through the pidfd.
    static let pidfdReceiver = """
        import os, signal, socket, sys, time
        path, go = sys.argv[1], sys.argv[2]
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.bind(path); s.listen(1)
        print("listening", flush=True)
        conn, _ = s.accept()
        msg, fds, _, _ = socket.recv_fds(conn, 64, 1)
        pid = [l.split()[1] for l in open(f"/proc/self/fdinfo/{fds[0]}") if l.startswith("Pid:")][0]
        print("payload", msg.decode(), "pid", pid, flush=True)
        while not os.path.exists(go): time.sleep(0.02)
        signal.pidfd_send_signal(fds[0], signal.SIGTERM)
        print("sent", flush=True)
        """

    func startReceiver(_ box: Sandbox, _ name: String) throws -> (Command, socket: String, go: String) {
        let script = box.dir + "/receiver.py"
        try Self.pidfdReceiver.write(toFile: script, atomically: true, encoding: .utf8)
        let socket = box.dir + "/\(name).sock", go = box.dir + "/\(name).go"
        let receiver = try Command("/usr/bin/python3", [script, socket, go])
        try #require(eventually { receiver.stdoutSoFar.contains("listening") }, "receiver did not start")
        return (receiver, socket, go)
    }

    /// The container's process traps SIGTERM and writes what it saw into the rootfs.
    static let trapScript = "trap 'echo term > /seen; exit 7' TERM; touch /ready; while true; do sleep 0.05; done"

    @Test func pidfdSocketGetsTheInitAndTheExecProcess() throws {
        let box = try Sandbox()
        let id = Self.idmapID("pidfd")
        defer { Self.removeContainers(box, [id]); box.cleanup() }
        let bundle = try box.bundle(["sh", "-c", Self.trapScript])

        // create sends the init's pidfd before it returns; the supervisor signals the started container through it.
        let (initReceiver, initSocket, initGo) = try startReceiver(box, "init")
        let create = box.crabcan(["create", "--bundle", bundle, "--pidfd-socket", initSocket, id])
        #expect(create.status == 0, "\(create)")
        let pid = box.pid(id) ?? -1
        #expect(eventually { initReceiver.stdoutSoFar.contains("payload standard pid \(pid)") }, "\(initReceiver.stdoutSoFar)")
        #expect(box.crabcan(["start", id]).status == 0)
        #expect(eventually { FileManager.default.fileExists(atPath: box.rootfs + "/ready") })

        // exec -d: the exec'd process's pidfd ("setns"), signalled while the init keeps running.
        try? FileManager.default.removeItem(atPath: box.rootfs + "/ready")
        let (execReceiver, execSocket, execGo) = try startReceiver(box, "exec")
        let exec = box.crabcan(["exec", "-d", "--pidfd-socket", execSocket, id, "sh", "-c",
                                Self.trapScript.replacingOccurrences(of: "/seen", with: "/seen-exec")])
        #expect(exec.status == 0, "\(exec)")
        #expect(eventually { execReceiver.stdoutSoFar.contains("payload setns pid ") }, "\(execReceiver.stdoutSoFar)")
        #expect(!execReceiver.stdoutSoFar.contains("pid \(pid)\n"), "the exec's pidfd must not name the init")
        #expect(eventually { FileManager.default.fileExists(atPath: box.rootfs + "/ready") })
        FileManager.default.createFile(atPath: execGo, contents: nil)
        #expect(execReceiver.wait(timeout: 10).stdout.contains("sent"))
        #expect(eventually { (try? String(contentsOfFile: box.rootfs + "/seen-exec", encoding: .utf8)) == "term\n" })
        #expect(box.status(id) == "running", "the init is untouched by the exec's signal")

        FileManager.default.createFile(atPath: initGo, contents: nil)
        #expect(initReceiver.wait(timeout: 10).stdout.contains("sent"))
        #expect(eventually { (try? String(contentsOfFile: box.rootfs + "/seen", encoding: .utf8)) == "term\n" })
        #expect(box.waitForStatus(id, "stopped"), "\(String(describing: box.state(id)))")
    }

    /// `run` (foreground): the signal through the pidfd ends the container, whose exit status run returns.
    @Test func pidfdSocketWithRun() throws {
        let box = try Sandbox()
        let id = Self.idmapID("pidfd-run")
        defer { Self.removeContainers(box, [id]); box.cleanup() }
        let bundle = try box.bundle(["sh", "-c", Self.trapScript])
        let (receiver, socket, go) = try startReceiver(box, "run")
        let run = try box.start(["run", "--bundle", bundle, "--pidfd-socket", socket, id])
        #expect(eventually { FileManager.default.fileExists(atPath: box.rootfs + "/ready") })
        #expect(receiver.stdoutSoFar.contains("payload standard pid "), "\(receiver.stdoutSoFar)")
        FileManager.default.createFile(atPath: go, contents: nil)
        let result = run.wait(timeout: 10)
        #expect(result.status == 7, "\(result)")
        #expect((try? String(contentsOfFile: box.rootfs + "/seen", encoding: .utf8)) == "term\n")
    }

    /// An unreachable socket: one error line, exit 1 (255 for exec, runc's failure code), nothing made.
    @Test func unreachablePidfdSocketIsOneErrorAndLeavesNothing() throws {
        let box = try Sandbox()
        let id = Self.idmapID("pidfd-bad")
        defer { Self.removeContainers(box, [id]); box.cleanup() }
        let bundle = try box.bundle(["sleep", "30"])
        let missing = box.dir + "/no-such.sock"
        let before = HostSnapshot.take(root: box.root, ids: [id])
        for command in ["create", "run"] {
            let result = box.crabcan([command, "--bundle", bundle, "--pidfd-socket", missing, id])
            #expect(isOneLineError(result), "\(command): \(result)")
            #expect(result.stderr.contains("pidfd socket \(missing): connect"), "\(command): \(result)")
            box.expectGone(id, command)
        }
        #expect(HostSnapshot.take(root: box.root, ids: [id]).leaks(since: before).isEmpty)

        #expect(box.crabcan(["run", "-d", "--bundle", bundle, id]).status == 0)
        let processes = box.processes(id).count
        let exec = box.crabcan(["exec", "--pidfd-socket", missing, id, "sleep", "40"])
        #expect(exec.status != 0 && exec.stderrLines.count == 1, "\(exec)")
        #expect(exec.stderr.contains("pidfd socket \(missing): connect"), "\(exec)")
        #expect(box.processes(id).count == processes, "exec left a process: \(box.processes(id))")
    }
}
