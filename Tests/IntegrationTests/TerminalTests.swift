import Foundation
import Testing

/// Issue 6: `process.terminal` gives the container a pty from its own devpts, its master handed over
/// --console-socket as runc does (conmon and containerd's shim read it), or relayed by `run` itself.
extension CrabcanCLI {
    /// A console-socket listener: takes the fd (SCM_RIGHTS), types `input` into it and records what it got.
    static let consoleReceiver = """
    import json, os, select, socket, sys, time
    path, out, typed = sys.argv[1:]
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    server.listen(1)
    conn, _ = server.accept()
    message, fds, _, _ = socket.recv_fds(conn, 4096, 4)
    master = fds[0]
    kind = os.readlink(f"/proc/self/fd/{master}")
    os.write(master, typed.encode())
    output = b""
    deadline = time.time() + 15
    while time.time() < deadline:
        ready, _, _ = select.select([master], [], [], 0.5)
        if not ready:
            continue
        try:
            chunk = os.read(master, 4096)
        except OSError:
            break
        if not chunk:
            break
        output += chunk
        if b"END" in output:
            break
    json.dump({"payload": message.decode(), "fds": len(fds), "kind": kind, "output": output.decode(errors="replace")}, open(out, "w"))
    """

    func startConsoleReceiver(_ box: Sandbox, typing input: String) throws -> (socket: String, report: String, process: Command) {
        let socketPath = box.dir + "/console-\(UUID().uuidString.prefix(6)).sock"
        let report = socketPath + ".json"
        let receiver = try Command("/usr/bin/python3", ["-c", Self.consoleReceiver, socketPath, report, input])
        try #require(eventually { FileManager.default.fileExists(atPath: socketPath) }, "receiver did not start")
        return (socketPath, report, receiver)
    }

    static func readReport(_ path: String) throws -> [String: Any] {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    static func withTerminal(_ config: inout [String: Any]) {
        var process = config["process"] as! [String: Any]
        process["terminal"] = true
        process["consoleSize"] = ["height": 33, "width": 111]
        config["process"] = process
    }

    @Test func consoleSocketGetsThePtyMaster() throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        let receiver = try startConsoleReceiver(box, typing: "typed-line\n")
        defer { if receiver.process.isRunning { receiver.process.signal(SIGKILL) } }
        let bundle = try box.bundle(["sh", "-c", "read line; echo got:$line; tty; stty size; ls -l /dev/console; echo END"],
                                    edit: Self.withTerminal)
        let id = box.id("console")
        let create = box.crabcan(["--debug", "create", "--console-socket", receiver.socket, "--bundle", bundle, id])
        #expect(create.status == 0, "\(create)")
        // The init shares crabcan's memory: the master went with its queued packets (SCM_RIGHTS from its C end).
        // (Its mount namespace may be the template's copy: "clone (template namespace, shared memory)".)
        #expect(create.stderr.contains("shared memory)"), "\(create)")
        #expect(box.crabcan(["start", id]).status == 0)
        _ = receiver.process.wait(timeout: 20)
        let report = try Self.readReport(receiver.report)
        #expect(report["fds"] as? Int == 1 && report["payload"] as? String == "/dev/ptmx", "\(report)")
        #expect((report["kind"] as? String)?.contains("ptmx") == true, "\(report)")
        let output = report["output"] as? String ?? ""
        #expect(output.contains("got:typed-line"), "\(output)")
        #expect(output.contains("/dev/pts/0"), "\(output)")
        #expect(output.contains("33 111"), "\(output)")
        #expect(output.contains("136,"), "/dev/console is the pty: \(output)")
    }

    @Test func runRelaysTheTerminalAndItsStatus() throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        let bundle = try box.bundle(["sh", "-c", "test -t 0 && test -t 1 && tty; stty size; exit 3"], edit: Self.withTerminal)
        let result = box.crabcan(["run", "--bundle", bundle, box.id("relay")])
        #expect(result.status == 3, "\(result)")
        // A terminal writes "\r\n", which Swift holds as one Character.
        let lines = result.stdout.replacingOccurrences(of: "\r\n", with: "\n").split(separator: "\n").map(String.init)
        #expect(lines == ["/dev/pts/0", "33 111"], "\(result)")
    }

    @Test func terminalWithoutConsoleSocketIsRefusedWhenDetached() throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        let bundle = try box.bundle(["true"], edit: Self.withTerminal)
        let id = box.id("noconsole")
        let create = box.crabcan(["create", "--bundle", bundle, id])
        #expect(create.status == 1 && create.stderrLines.count == 1 && create.stderr.contains("console socket"), "\(create)")
        #expect(!box.stateDirExists(id))
        let plain = try box.bundle(["true"], name: "plain")
        let socketless = box.crabcan(["create", "--console-socket", box.dir + "/none.sock", "--bundle", plain, box.id("nottty")])
        #expect(socketless.status == 1 && socketless.stderr.contains("tty"), "\(socketless)")
    }

    /// An image whose /dev/console is a symlink (here to a file standing for the host's) does not get the
    /// console bound through it: create fails and the target is untouched (runc GHSA of November 2025).
    @Test func consoleSymlinkIsNotFollowed() throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        let victim = box.dir + "/victim"
        try "precious\n".write(toFile: victim, atomically: true, encoding: .utf8)
        try FileManager.default.createDirectory(atPath: box.rootfs + "/dev", withIntermediateDirectories: true)
        try? FileManager.default.removeItem(atPath: box.rootfs + "/dev/console")
        try FileManager.default.createSymbolicLink(atPath: box.rootfs + "/dev/console", withDestinationPath: victim)
        let receiver = try startConsoleReceiver(box, typing: "")
        defer { if receiver.process.isRunning { receiver.process.signal(SIGKILL) } }
        let before = Host.mountinfo()
        let bundle = try box.bundle(["true"]) { config in
            Self.withTerminal(&config)
            config["mounts"] = (config["mounts"] as! [[String: Any]]).filter { $0["destination"] as? String != "/dev" }
        }
        let id = box.id("console-link")
        let create = box.crabcan(["create", "--console-socket", receiver.socket, "--bundle", bundle, id])
        #expect(create.status == 1 && create.stderr.contains("/dev/console"), "\(create)")
        #expect(!box.stateDirExists(id))
        #expect(try String(contentsOfFile: victim, encoding: .utf8) == "precious\n")
        #expect(Host.mountinfo() == before)
    }

    @Test func execWithTerminalOverConsoleSocketAndRelayed() throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        let id = try sleeper(box, "exec-tty")
        let receiver = try startConsoleReceiver(box, typing: "abc\n")
        defer { if receiver.process.isRunning { receiver.process.signal(SIGKILL) } }
        let viaSocket = box.crabcan(["exec", "--tty", "--detach", "--console-socket", receiver.socket, id,
                                     "sh", "-c", "read x; echo exec-got:$x; tty; echo END"])
        #expect(viaSocket.status == 0, "\(viaSocket)")
        _ = receiver.process.wait(timeout: 20)
        let output = try Self.readReport(receiver.report)["output"] as? String ?? ""
        #expect(output.contains("exec-got:abc") && output.contains("/dev/pts/"), "\(output)")
        let relayed = box.crabcan(["exec", "-t", id, "sh", "-c", "test -t 1 && echo is-tty; exit 5"])
        #expect(relayed.status == 5 && relayed.stdout.contains("is-tty"), "\(relayed)")
    }
}
