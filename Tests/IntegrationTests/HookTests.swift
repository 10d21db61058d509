import Foundation
import Testing

/// Issue 5: the six hook kinds of config.md, each at its point, in its namespace, with the state on stdin.
extension CrabcanCLI {
    /// A hook script: appends "<kind> ns=<mount ns> cwd=<cwd>" to <log>/order and saves its stdin as <log>/<kind>.json.
    static let hookScript = """
    #!/bin/sh
    kind=$1; log=$2
    cat > "$log/$kind.json"
    echo "$kind ns=$(readlink /proc/self/ns/mnt) cwd=$(pwd)" >> "$log/order"
    exit ${3:-0}
    """

    /// The bundle's hooks: host-side ones run <dir>/hook, startContainer runs /hook inside the rootfs; all log into
    /// <dir>/hooklog, bound into the container at the same path.
    func hookBundle(_ box: Sandbox, _ args: [String], hooks: (String) -> [String: Any]) throws -> (bundle: String, log: String) {
        let log = box.dir + "/hooklog"
        try FileManager.default.createDirectory(atPath: log, withIntermediateDirectories: true)
        let script = box.dir + "/hook"
        try Self.hookScript.write(toFile: script, atomically: true, encoding: .utf8)
        try Self.hookScript.write(toFile: box.rootfs + "/hook", atomically: true, encoding: .utf8)
        for path in [script, box.rootfs + "/hook"] { chmod(path, 0o755) }
        let bundle = try box.bundle(args) { config in
            config["hooks"] = hooks(script)
            var mounts = config["mounts"] as! [[String: Any]]
            mounts.append(["destination": log, "type": "bind", "source": log, "options": ["rbind"]])
            config["mounts"] = mounts
        }
        return (bundle, log)
    }

    static func hook(_ path: String, _ kind: String, _ log: String, exit: Int = 0, timeout: Int? = nil) -> [String: Any] {
        var hook: [String: Any] = ["path": path, "args": ["hook", kind, log, String(exit)], "env": ["PATH=/usr/bin:/bin"]]
        if let timeout { hook["timeout"] = timeout }
        return hook
    }

    /// create (with `global` flags first), start, wait until stopped, delete: create's result, the init's pid and
    /// the mount namespaces a hook may show (the container's, read while the init waits for start, and ours).
    func createStartAndDelete(_ box: Sandbox, _ bundle: String, _ id: String, global: [String] = [])
        throws -> (create: Result, initPID: Int32, containerNS: String, hostNS: String) {
        let create = box.crabcan(global + ["create", "--bundle", bundle, id])
        let initPID = try #require(box.pid(id), "\(create)")
        let containerNS = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(initPID)/ns/mnt")
        let hostNS = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/ns/mnt")
        #expect(box.crabcan(["start", id]).status == 0)
        #expect(box.waitForStatus(id, "stopped"))
        #expect(box.crabcan(["delete", id]).status == 0)
        return (create, initPID, containerNS, hostNS)
    }

    @Test func hooksRunInOrderWhereTheSpecSaysWithTheState() throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        var logDir = ""
        let (bundle, log) = try hookBundle(box, ["true"]) { script in
            logDir = box.dir + "/hooklog"
            return [
                "prestart": [Self.hook(script, "prestart", logDir)],
                "createRuntime": [Self.hook(script, "createRuntime", logDir)],
                "createContainer": [Self.hook(script, "createContainer", logDir)],
                "startContainer": [Self.hook("/hook", "startContainer", logDir)],
                "poststart": [Self.hook(script, "poststart", logDir)],
                "poststop": [Self.hook(script, "poststop", logDir)],
            ]
        }
        let id = box.id("hooks")
        let (create, initPID, containerNS, hostNS) = try createStartAndDelete(box, bundle, id)
        #expect(create.status == 0, "\(create)")

        let order = try String(contentsOfFile: log + "/order", encoding: .utf8).split(separator: "\n").map(String.init)
        let kinds = order.map { String($0.split(separator: " ")[0]) }
        #expect(kinds == ["prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"], "\(order)")
        func line(_ kind: String) -> String { order.first { $0.hasPrefix(kind + " ") } ?? "" }
        for kind in ["prestart", "createRuntime", "poststart", "poststop"] {
            #expect(line(kind).contains("ns=\(hostNS)"), "\(kind) runs in the runtime's namespace: \(line(kind))")
        }
        for kind in ["createContainer", "startContainer"] {
            #expect(line(kind).contains("ns=\(containerNS)"), "\(kind) runs in the container's: \(line(kind))")
        }
        #expect(line("createContainer").hasSuffix("cwd=\(box.rootfs)"), "\(line("createContainer"))")
        #expect(line("startContainer").hasSuffix("cwd=/"), "\(line("startContainer"))")

        let expected = ["prestart": "created", "createRuntime": "created", "createContainer": "created",
                        "startContainer": "created", "poststart": "running", "poststop": "stopped"]
        for (kind, status) in expected {
            let path = log + "/\(kind).json"
            let check = Command.run("/usr/bin/python3", [Paths.validator, "state", path])
            #expect(check.status == 0, "\(kind) state is not a valid state document: \(check)")
            let state = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any])
            #expect(state["id"] as? String == id && state["status"] as? String == status, "\(kind): \(state)")
            #expect(state["bundle"] as? String == bundle, "\(kind): \(state)")
            if status != "stopped" { #expect(state["pid"] as? Int == Int(initPID), "\(kind): \(state)") }
        }
    }

    /// Without startContainer hooks the init shares the runtime's memory (the `--debug` trace says "clone (shared
    /// memory)"): it waits in the kernel while the runtime runs prestart and createRuntime, then runs createContainer
    /// itself. The hooks still run in order, each in its namespace, with the init's pid in their state.
    @Test func createTimeHooksRunWhileTheInitSharesTheRuntimesMemory() throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        let (bundle, log) = try hookBundle(box, ["true"]) { script in
            let logDir = box.dir + "/hooklog"
            return ["prestart": [Self.hook(script, "prestart", logDir)], "createRuntime": [Self.hook(script, "createRuntime", logDir)],
                    "createContainer": [Self.hook(script, "createContainer", logDir)], "poststop": [Self.hook(script, "poststop", logDir)]]
        }
        let id = box.id("sharedhooks")
        let (create, initPID, containerNS, hostNS) = try createStartAndDelete(box, bundle, id, global: ["--debug"])
        #expect(create.status == 0 && create.stderr.contains("clone (shared memory)"), "\(create)")
        let order = try String(contentsOfFile: log + "/order", encoding: .utf8).split(separator: "\n").map(String.init)
        #expect(order.map { String($0.split(separator: " ")[0]) } == ["prestart", "createRuntime", "createContainer", "poststop"], "\(order)")
        for line in order {
            let namespace = line.hasPrefix("createContainer ") ? containerNS : hostNS
            #expect(line.contains("ns=\(namespace)"), "\(line)")
        }
        for kind in ["prestart", "createRuntime", "createContainer"] {
            let state = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: log + "/\(kind).json"))) as? [String: Any])
            #expect(state["status"] as? String == "created" && state["pid"] as? Int == Int(initPID), "\(kind): \(state)")
        }
    }

    /// `run` makes no exec.fifo for an init that shares its memory: it releases the init through its socket
    /// (protocol step 3). A createRuntime hook, which runs in our namespace while the init waits, looks for the
    /// fifo in the state dir: `create` has made it by then, `run` never does, and both containers run.
    @Test func runReleasesASharedInitWithoutExecFifo() throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        let seen = box.dir + "/fifo-seen"
        let bundle = try box.bundle(["true"]) { config in
            let look = "test -p \(box.root)/$1/exec.fifo && echo fifo >> \(seen) || echo none >> \(seen)"
            config["hooks"] = ["createRuntime": [["path": "/bin/sh", "args": ["sh", "-c", look, "sh", "ID"]]]]
        }
        let text = try String(contentsOfFile: bundle + "/config.json", encoding: .utf8)
        for (command, id) in [("run", box.id("runnofifo")), ("create", box.id("createfifo"))] {
            try text.replacingOccurrences(of: "\"ID\"", with: "\"\(id)\"").write(toFile: bundle + "/config.json", atomically: true, encoding: .utf8)
            let result = box.crabcan(["--debug", command, "--bundle", bundle, id])
            #expect(result.status == 0 && result.stderr.contains("clone (shared memory)"), "\(result)")
            if command == "create" {
                #expect(box.crabcan(["start", id]).status == 0)
                #expect(box.waitForStatus(id, "stopped"))
                #expect(box.crabcan(["delete", id]).status == 0)
            }
            box.expectGone(id, command)
        }
        #expect(try String(contentsOfFile: seen, encoding: .utf8) == "none\nfifo\n")
    }

    /// `run` gives poststart the record create wrote (it no longer reads state.json back): the same running
    /// state a `start` would, then poststop once the process is gone, all in the runtime's namespace.
    @Test func runRunsPoststartThenPoststopWithTheirStates() throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        let (bundle, log) = try hookBundle(box, ["true"]) { script in
            ["poststart": [Self.hook(script, "poststart", box.dir + "/hooklog")],
             "poststop": [Self.hook(script, "poststop", box.dir + "/hooklog")]]
        }
        let id = box.id("runhooks")
        let run = box.crabcan(["run", "--bundle", bundle, id])
        #expect(run.status == 0, "\(run)")
        #expect(!box.stateDirExists(id))
        let order = try String(contentsOfFile: log + "/order", encoding: .utf8).split(separator: "\n").map(String.init)
        #expect(order.map { String($0.split(separator: " ")[0]) } == ["poststart", "poststop"], "\(order)")
        let hostNS = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/ns/mnt")
        #expect(order.allSatisfy { $0.contains("ns=\(hostNS)") }, "\(order)")
        for (kind, status) in ["poststart": "running", "poststop": "stopped"] {
            let path = log + "/\(kind).json"
            let check = Command.run("/usr/bin/python3", [Paths.validator, "state", path])
            #expect(check.status == 0, "\(kind) state is not a valid state document: \(check)")
            let state = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any])
            #expect(state["id"] as? String == id && state["status"] as? String == status && state["bundle"] as? String == bundle,
                    "\(kind): \(state)")
            if kind == "poststart" { #expect((state["pid"] as? Int ?? 0) > 0, "\(state)") }
        }
    }

    @Test(arguments: ["prestart", "createRuntime", "createContainer"])
    func failingCreateHookFailsCreateAndLeavesNothing(kind: String) throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        let (bundle, _) = try hookBundle(box, ["true"]) { script in [kind: [Self.hook(script, kind, box.dir + "/hooklog", exit: 3)]] }
        let before = Host.mountinfo()
        let id = box.id("hookfail")
        let create = box.crabcan(["create", "--bundle", bundle, id])
        #expect(create.status == 1, "\(create)")
        #expect(create.stderrLines.count == 1 && create.stderr.contains("\(kind) hook \(box.dir)/hook") && create.stderr.contains("status 3"),
                "\(create)")
        #expect(!box.stateDirExists(id))
        #expect(Host.mountinfo() == before)
        #expect(Host.processes(usingRootfs: box.rootfs, orMentioning: id).isEmpty)
    }

    @Test func failingStartContainerHookFailsStart() throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        let (bundle, log) = try hookBundle(box, ["sh", "-c", "echo ran > /ran"]) { _ in
            ["startContainer": [Self.hook("/hook", "startContainer", box.dir + "/hooklog", exit: 4)]]
        }
        let id = box.id("startfail")
        #expect(box.crabcan(["create", "--bundle", bundle, id]).status == 0)
        let start = box.crabcan(["start", id])
        #expect(start.status == 1 && start.stderr.contains("startContainer hook /hook") && start.stderr.contains("status 4"), "\(start)")
        #expect(box.waitForStatus(id, "stopped"))
        #expect(!FileManager.default.fileExists(atPath: box.rootfs + "/ran"), "the process ran despite the failed hook")
        #expect(FileManager.default.fileExists(atPath: log + "/startContainer.json"))
    }

    @Test func failingPoststartAndPoststopHooksOnlyWarn() throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        let (bundle, _) = try hookBundle(box, ["sleep", "30"]) { script in
            ["poststart": [Self.hook(script, "poststart", box.dir + "/hooklog", exit: 5)],
             "poststop": [Self.hook(script, "poststop", box.dir + "/hooklog", exit: 6)]]
        }
        let id = box.id("postfail")
        #expect(box.crabcan(["create", "--bundle", bundle, id]).status == 0)
        // Warnings go to the --log file, never to the caller's stderr (docs/design.md §4.9).
        let log = box.dir + "/runtime.log"
        let logged = { (try? String(contentsOfFile: log, encoding: .utf8)) ?? "" }
        let start = box.crabcan(["--log", log, "start", id])
        #expect(start.status == 0 && start.stderr.isEmpty, "\(start)")
        #expect(logged().contains("poststart hook") && logged().contains("status 5"), "\(logged())")
        #expect(box.status(id) == "running")
        let delete = box.crabcan(["--log", log, "delete", "--force", id])
        #expect(delete.status == 0 && delete.stderr.isEmpty, "\(delete)")
        #expect(logged().contains("poststop hook") && logged().contains("status 6"), "\(logged())")
        #expect(!box.stateDirExists(id))
    }

    @Test func hookPastItsTimeoutIsKilled() throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        let sleeper = box.dir + "/slow-hook"
        try "#!/bin/sh\nexec sleep 30\n".write(toFile: sleeper, atomically: true, encoding: .utf8)
        chmod(sleeper, 0o755)
        let bundle = try box.bundle(["true"]) { config in
            config["hooks"] = ["createRuntime": [["path": sleeper, "timeout": 1]]]
        }
        let id = box.id("timeout")
        let started = Date()
        let create = box.crabcan(["create", "--bundle", bundle, id])
        #expect(create.status == 1 && create.stderr.contains("timed out"), "\(create)")
        #expect(Date().timeIntervalSince(started) < 10)
        #expect(!box.stateDirExists(id))
        let leftovers = Host.pids().filter { Host.isAlive($0) && Host.cmdline($0).contains(sleeper) }
        #expect(leftovers.isEmpty, "the timed-out hook is still running: \(leftovers)")
    }

    @Test func relativeHookPathIsRefusedWithItsJSONPath() throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        let bundle = try box.bundle(["true"]) { $0["hooks"] = ["poststop": [["path": "hooks/x"]]] }
        let id = box.id("relhook")
        let create = box.crabcan(["create", "--bundle", bundle, id])
        #expect(create.status == 1 && create.stderrLines.count == 1 && create.stderr.contains(".hooks.poststop[0].path"), "\(create)")
        #expect(!box.stateDirExists(id))
    }
}
