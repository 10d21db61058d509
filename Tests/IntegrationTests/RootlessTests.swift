import Foundation
import Testing

/// A real unprivileged user made for one test (useradd without a home or automatic subordinate ids), with an
/// optional /etc/subuid and /etc/subgid range; `remove()` deletes it and its ranges (userdel) and its files.
final class TestUser {
    let name: String
    let uid: Int
    let gid: Int
    /// Its own directory (mode 0700): bundles and XDG_RUNTIME_DIR live here.
    let home: String
    var runtimeDir: String { home + "/xdg" }

    init(in sandbox: Sandbox, subordinateStart: Int? = nil) throws {
        name = "crabrl" + String(UUID().uuidString.lowercased().filter(\.isHexDigit).prefix(8))
        try TestUser.retryingLock("/usr/sbin/useradd", ["-M", "-s", "/bin/sh", "-K", "SUB_UID_COUNT=0", "-K", "SUB_GID_COUNT=0", name])
        if let start = subordinateStart {
            let range = "\(start)-\(start + 65535)"
            try TestUser.retryingLock("/usr/sbin/usermod", ["--add-subuids", range, "--add-subgids", range, name])
        }
        let id = Command.run("/usr/bin/id", [name])
        func number(_ key: String) -> Int? {
            id.stdout.split(separator: " ").first { $0.hasPrefix(key + "=") }
                .flatMap { Int($0.dropFirst(key.count + 1).prefix { $0.isNumber }) }
        }
        guard let uid = number("uid"), let gid = number("gid") else { throw SetupError("id \(name): \(id)") }
        self.uid = uid
        self.gid = gid
        home = sandbox.dir + "/" + name
        try FileManager.default.createDirectory(atPath: runtimeDir, withIntermediateDirectories: true)
        try own(home)
        try own(runtimeDir)
        chmod(runtimeDir, 0o700)
    }

    /// useradd and usermod fail while another process holds /etc/passwd's lock (other tests on this host).
    static func retryingLock(_ tool: String, _ arguments: [String]) throws {
        for _ in 0..<20 {
            let result = Command.run(tool, arguments)
            if result.status == 0 { return }
            guard result.stderr.contains("lock") else { throw SetupError("\(tool) \(arguments): \(result)") }
            usleep(200_000)
        }
        throw SetupError("\(tool) \(arguments): /etc/passwd stayed locked")
    }

    func own(_ path: String) throws {
        guard Command.run("/bin/chown", ["-R", "\(uid):\(gid)", path]).status == 0 else { throw SetupError("chown \(path)") }
    }

    /// `crabcan <arguments>` as this user, with XDG_RUNTIME_DIR set (or not) and no --root.
    func crabcan(_ arguments: [String], cwd: String, xdg: Bool = true) -> Result {
        let environment = ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"] + (xdg ? ["XDG_RUNTIME_DIR=" + runtimeDir] : [])
        return Command.run("/usr/sbin/runuser", ["-u", name, "--", "/usr/bin/env", "-i"] + environment + [Paths.binary] + arguments,
                           cwd: cwd)
    }

    /// Containers a failed test left go first: userdel refuses a user that still has processes.
    func remove() {
        let state = runtimeDir + "/crabcan"
        for id in (try? FileManager.default.contentsOfDirectory(atPath: state)) ?? [] {
            _ = crabcan(["delete", "--force", id], cwd: home)
        }
        _ = try? TestUser.retryingLock("/usr/sbin/userdel", [name])
    }
}

/// Issue 5: rootless containers. An ordinary user with /etc/subuid and /etc/subgid entries writes a config with
/// `spec --rootless` and runs it; it is root inside, nobody special outside; its state lives under
/// $XDG_RUNTIME_DIR/crabcan; cgroup settings are skipped with a warning unless a cgroup is delegated to it.
extension CrabcanCLI {
    /// The user's own bundle: `spec --rootless` as the user, then (as root) the sandbox's rootfs and `args`.
    static func rootlessBundle(_ user: TestUser, _ box: Sandbox, args: [String], name: String = "bundle",
                               edit: (inout [String: Any]) -> Void = { _ in }) throws -> (bundle: String, spec: Result) {
        let bundle = user.home + "/" + name
        try FileManager.default.createDirectory(atPath: bundle, withIntermediateDirectories: true)
        try user.own(bundle)
        let spec = user.crabcan(["spec", "--rootless"], cwd: bundle)
        guard spec.status == 0 else { return (bundle, spec) }
        let path = bundle + "/config.json"
        var config = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as! [String: Any]
        var process = config["process"] as! [String: Any]
        process["args"] = args
        process["terminal"] = false  // runc's default is a terminal for the interactive sh; these run commands
        config["process"] = process
        config["root"] = ["path": box.rootfs, "readonly": true]
        edit(&config)
        try JSONSerialization.data(withJSONObject: config, options: [.prettyPrinted]).write(to: URL(fileURLWithPath: path))
        return (bundle, spec)
    }

    static func mappings(_ user: TestUser, _ bundle: String) throws -> [[Int]] {
        let config = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: bundle + "/config.json"))) as! [String: Any]
        let linux = config["linux"] as! [String: Any]
        return (linux["uidMappings"] as! [[String: Int]]).map { [$0["containerID"]!, $0["hostID"]!, $0["size"]!] }
    }

    @Test func rootlessContainerIsRootOnlyInside() throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        let user = try TestUser(in: box, subordinateStart: 600000)
        defer { user.remove() }
        // A host directory and file of root's, bound into the container read-write.
        let hostDir = box.dir + "/host-owned"
        try FileManager.default.createDirectory(atPath: hostDir, withIntermediateDirectories: true)
        try "secret\n".write(toFile: hostDir + "/secret", atomically: false, encoding: .utf8)
        // (The mount point is in the image: container root cannot create directories in a root-owned rootfs.)
        try FileManager.default.createDirectory(atPath: box.rootfs + "/mnt/host", withIntermediateDirectories: true)
        let script = "id; cat /proc/self/uid_map; "
            + "echo x >> /mnt/host/secret 2>/dev/null && echo wrote || echo write-denied; "
            + "rm -f /mnt/host/secret 2>/dev/null && echo removed || echo remove-denied; "
            + "touch /mnt/host/new 2>/dev/null && echo created || echo create-denied"
        let (bundle, spec) = try Self.rootlessBundle(user, box, args: ["sh", "-c", script]) {
            $0["mounts"] = ($0["mounts"] as! [[String: Any]])
                + [["destination": "/mnt/host", "type": "bind", "source": hostDir, "options": ["rbind", "rw"]]]
        }
        #expect(spec.status == 0, "\(spec)")
        // The user's own uid is root, its /etc/subuid range the ids after it.
        #expect(try Self.mappings(user, bundle) == [[0, user.uid, 1], [1, 600000, 65536]])

        let id = box.id("rootless")
        let result = user.crabcan(["run", id], cwd: bundle)
        #expect(result.status == 0, "\(result)")
        let lines = result.stdoutLines
        #expect(lines.first?.hasPrefix("uid=0(root) gid=0(root)") == true, "\(result)")
        #expect(lines.dropFirst().prefix(2).map { $0.split(separator: " ").map(String.init) }
                == [["0", "\(user.uid)", "1"], ["1", "600000", "65536"]], "\(result)")
        #expect(Array(lines.suffix(3)) == ["write-denied", "remove-denied", "create-denied"], "\(result)")
        #expect(try String(contentsOfFile: hostDir + "/secret", encoding: .utf8) == "secret\n")
        #expect(!FileManager.default.fileExists(atPath: hostDir + "/new"))
        #expect(!FileManager.default.fileExists(atPath: user.runtimeDir + "/crabcan/" + id), "run deletes its container")
    }

    /// State goes under $XDG_RUNTIME_DIR/crabcan (runc's default for a non-root caller), owned by the user;
    /// exec, state and delete work there too.
    @Test func rootlessStateLivesUnderTheUsersRuntimeDir() throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        let user = try TestUser(in: box, subordinateStart: 600000)
        defer { user.remove() }
        let (bundle, spec) = try Self.rootlessBundle(user, box, args: ["sleep", "100"])
        #expect(spec.status == 0, "\(spec)")
        let id = box.id("rootless-state")
        #expect(user.crabcan(["run", "--detach", id], cwd: bundle).status == 0)
        let stateFile = user.runtimeDir + "/crabcan/" + id + "/state.json"
        #expect(Self.owner(stateFile)?.uid == user.uid)
        #expect(!FileManager.default.fileExists(atPath: "/run/crabcan/" + id))
        let state = user.crabcan(["state", id], cwd: bundle)
        #expect(state.status == 0 && state.stdout.contains("\"owner\": \"\(user.uid)\""), "\(state)")
        let exec = user.crabcan(["exec", id, "sh", "-c", "id -u; ps -o pid,comm | grep -c sleep"], cwd: bundle)
        #expect(exec.status == 0 && exec.stdoutLines == ["0", "1"], "\(exec)")
        // The host sees the container's processes as the user's.
        if let pid = (try? JSONSerialization.jsonObject(with: Data(state.stdout.utf8)) as? [String: Any])?["pid"] as? Int {
            let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
            let uidLine = status.split(separator: "\n").first { $0.hasPrefix("Uid:") }
            #expect(uidLine?.split(whereSeparator: { $0 == " " || $0 == "\t" }).dropFirst().first == "\(user.uid)"[...], "\(status)")
        }
        #expect(user.crabcan(["delete", "--force", id], cwd: bundle).status == 0)
        #expect(!FileManager.default.fileExists(atPath: user.runtimeDir + "/crabcan/" + id))
    }

    /// Without /etc/subuid entries `spec --rootless` maps the user's own ids only (runc's config): the maps are
    /// written without newuidmap, after setgroups is denied.
    @Test func rootlessWithoutSubordinateIDsMapsOnlyTheUser() throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        let user = try TestUser(in: box)
        defer { user.remove() }
        let (bundle, spec) = try Self.rootlessBundle(user, box, args: ["sh", "-c", "id -u; cat /proc/self/uid_map /proc/self/setgroups"])
        #expect(spec.status == 0, "\(spec)")
        #expect(try Self.mappings(user, bundle) == [[0, user.uid, 1]])
        let result = user.crabcan(["run", box.id("rootless-single")], cwd: bundle)
        #expect(result.status == 0, "\(result)")
        #expect(result.stdoutLines.map { $0.split(separator: " ").joined(separator: " ") } == ["0", "0 \(user.uid) 1", "deny"], "\(result)")

        // An ordinary user can have a time namespace too: the init makes it inside its user namespace.
        guard Self.haveTimeNamespaces else { return }
        let (timeBundle, timeSpec) = try Self.rootlessBundle(user, box, args: ["cat", "/proc/uptime"], name: "timed") {
            Self.withTimeNamespace(&$0)
        }
        #expect(timeSpec.status == 0, "\(timeSpec)")
        let timed = user.crabcan(["run", box.id("rootless-time")], cwd: timeBundle)
        #expect(timed.status == 0, "\(timed)")
        #expect((Self.uptime(timed.stdoutLines.first) ?? 0) >= (try Self.hostUptime()) + Double(Self.yearSeconds) - 1, "\(timed)")
    }

    static let haveV1Pids = FileManager.default.fileExists(atPath: "/sys/fs/cgroup/pids/cgroup.procs")

    /// linux.resources without a delegated cgroup: skipped with a warning, the container still runs. With a
    /// pids cgroup delegated to the user (chowned to it), the limit is applied there and the init placed in it.
    @Test(.enabled(if: CrabcanCLI.haveV1Pids))
    func rootlessCgroupsAreSkippedUnlessDelegated() throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        let user = try TestUser(in: box)
        defer { user.remove() }
        let delegated = "/sys/fs/cgroup/pids/crabcan-it-" + user.name
        try FileManager.default.createDirectory(atPath: delegated, withIntermediateDirectories: false)
        defer { rmdir(delegated) }
        try user.own(delegated)
        let (bundle, spec) = try Self.rootlessBundle(user, box, args: ["sleep", "100"]) {
            var linux = $0["linux"] as! [String: Any]
            linux["resources"] = ["pids": ["limit": 10]]
            linux["cgroupsPath"] = "/crabcan-it-\(user.name)/c"
            $0["linux"] = linux
        }
        #expect(spec.status == 0, "\(spec)")
        let id = box.id("rootless-cg")
        let run = user.crabcan(["run", "--detach", id], cwd: bundle)
        #expect(run.status == 0, "\(run)")
        #expect(!run.stderr.contains("skipped"), "\(run)")
        let pid = try #require((try? JSONSerialization.jsonObject(with: Data(user.crabcan(["state", id], cwd: bundle).stdout.utf8)))
            .flatMap { ($0 as? [String: Any])?["pid"] as? Int })
        #expect(try String(contentsOfFile: delegated + "/c/pids.max", encoding: .utf8) == "10\n")
        #expect(try String(contentsOfFile: delegated + "/c/cgroup.procs", encoding: .utf8).split(separator: "\n").contains("\(pid)"[...]))
        #expect(user.crabcan(["delete", "--force", id], cwd: bundle).status == 0)
        #expect(!FileManager.default.fileExists(atPath: delegated + "/c"))

        // Not delegated: the memory hierarchy is root's.
        let config = bundle + "/config.json"
        var json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: config))) as! [String: Any]
        var linux = json["linux"] as! [String: Any]
        linux["resources"] = ["pids": ["limit": 10], "memory": ["limit": 64 << 20]]
        linux["cgroupsPath"] = "/crabcan-it-\(user.name)/d"
        json["linux"] = linux
        try JSONSerialization.data(withJSONObject: json).write(to: URL(fileURLWithPath: config))
        let second = box.id("rootless-cg")
        // The skip is a warning: in the --log file (or on stderr under --debug), never on the container's stderr.
        let partly = user.crabcan(["--debug", "run", "--detach", second], cwd: bundle)
        #expect(partly.status == 0, "\(partly)")
        let warnings = partly.stderrLines.filter { $0.contains(" level=warning ") }
        #expect(warnings.count == 1 && partly.stderr.contains(".linux.resources.memory skipped"), "\(partly)")
        #expect(try String(contentsOfFile: delegated + "/d/pids.max", encoding: .utf8) == "10\n")
        #expect(!FileManager.default.fileExists(atPath: "/sys/fs/cgroup/memory/crabcan-it-\(user.name)"))
        #expect(user.crabcan(["delete", "--force", second], cwd: bundle).status == 0)
    }
}
