import Foundation
import Testing

// Helpers for the tests in which real orchestrators (podman through conmon, containerd through its runc v2 shim)
// drive the runtime. Each test gets its own storage, state and daemon in a temp dir, and removes them.

/// The OCI runtime handed to the clients: crabcan, or whatever CRABCAN_CLIENT_RUNTIME names (e.g. /usr/sbin/runc,
/// /usr/bin/crun) to run the same scenarios against another runtime for comparison.
enum ClientRuntime {
    static let path: String = {
        if let path = ProcessInfo.processInfo.environment["CRABCAN_CLIENT_RUNTIME"], !path.isEmpty { return path }
        return Paths.binary
    }()
    /// Scenarios another runtime fails here for a reason that is not the client's or the scenario's, seen when
    /// the client suites run side by side (docs/clients.md): the test records them as known issues for that
    /// runtime only, so the same suite runs for crabcan, runc and crun.
    static let knownDifferences: [String: String] = [
        "crun docker updateWithoutLimits": "crun 1.8.1 writes the zeros dockerd sends for unchanged limits: "
            + "`writing file memory.limit_in_bytes: Device or resource busy` (issue 13.1, fixed in crabcan)",
        "crun docker updateWithLimits": "crun 1.8.1 writes the zeros dockerd sends for unchanged limits "
            + "(memory.soft_limit_in_bytes becomes 0, then EBUSY on the second update)",
        "crun docker missingProgram": "crun reports a missing or non-executable program at create in words Docker "
            + "does not map to exit 127/126 (docker exits 125)",
    ]

    static func knownDifference(client: String, scenario: String) -> String? {
        knownDifferences["\(name) \(client) \(scenario)"]
    }

    static var name: String { URL(fileURLWithPath: path).lastPathComponent }
}

enum Tools {
    /// `name` found in PATH or the sbin/bin directories (the test runner's PATH may lack sbin).
    static func find(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        let dirs = path.split(separator: ":").map(String.init) + ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"]
        return dirs.map { $0 + "/" + name }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// `executable arguments` run with only stdio open, under a shell that waits for it. Foundation's Process
    /// learns that a child exited when every copy of a socket it leaves open in the child is closed, and then
    /// blocks its one monitoring thread in waitpid: podman and containerd would hand that socket on to conmon
    /// and the shims (which outlive them, so the wait never ends), and closing it in the command itself would
    /// park that thread until the command exits. The shell keeps it and exits with the command's status.
    /// (Signal the command, not the shell: it starts with the test runner's signal mask, TERM blocked.)
    static func onlyStdio(_ executable: String, _ arguments: [String]) -> (String, [String]) {
        let closeAll = "for fd in /proc/$BASHPID/fd/*; do fd=${fd##*/}; [ \"$fd\" -gt 2 ] && eval \"exec $fd>&-\"; done"
        let script = "(\(closeAll); exec \"$0\" \"$@\") <&0 & wait $!"
        return ("/bin/bash", ["-c", script, executable] + arguments)
    }

    /// The direct children of a process.
    static func children(of pid: Int32) -> [Int32] {
        read("/proc/\(pid)/task/\(pid)/children").split(separator: " ").compactMap { Int32($0) }
    }

    /// Single-quoted for sh.
    static func shellQuote(_ words: [String]) -> String {
        words.map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }.joined(separator: " ")
    }

    /// The lines of /proc/self/mountinfo whose mount point lies under `dir`, deepest first.
    static func mounts(under dir: String) -> [String] {
        Host.mountinfo().split(separator: "\n").compactMap { line -> String? in
            let fields = line.split(separator: " ")
            guard fields.count > 4 else { return nil }
            let point = String(fields[4])
            return point == dir || point.hasPrefix(dir + "/") ? point : nil
        }.sorted { $0.count > $1.count }
    }

    /// What a client left mounted under its temp dir (only after a failed test): detached, so the dir can go.
    static func unmountAll(under dir: String) {
        for point in mounts(under: dir) { _ = umount2(point, Int32(MNT_DETACH)) }
    }

    /// A tmpfs of the test's own at `dir`, made shared: nothing on this host is, and propagation needs a peer group.
    /// The caller unmounts it (`unmountAll(under:)`).
    static func mountSharedTmpfs(_ dir: String, source: String) throws {
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try #require(Command.run("/bin/mount", ["-t", "tmpfs", source, dir]).status == 0)
        try #require(Command.run("/bin/mount", ["--make-shared", dir]).status == 0)
    }

    static func read(_ path: String) -> String {
        ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The v1 (or v2) cgroup file `file` of `controller` for a process, read on the host.
    static func cgroupFile(pid: Int32, controller: String, file: String) -> String {
        for line in read("/proc/\(pid)/cgroup").split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            guard parts.count == 3 else { continue }
            if parts[1].split(separator: ",").contains(Substring(controller)) {
                return read("/sys/fs/cgroup/\(controller)\(parts[2])/\(file)")
            }
        }
        return ""
    }
}

/// The busybox rootfs as an image, made once per test run by scripts/mkimage.sh: `layer.tar` for
/// `podman import`, `image.tar` (an OCI image layout archive) for `ctr images import`.
enum ClientImage {
    static let ref = "localhost/crabcan-busybox:test"

    static let dir: Swift.Result<String, SetupError> = {
        let dir = NSTemporaryDirectory() + "crabcan-it-image-" + UUID().uuidString.prefix(8)
        let made = Command.run("/bin/sh", [Paths.repo + "/scripts/mkimage.sh", Paths.sharedRootfs, dir, ref], timeout: 60)
        guard made.status == 0 else { return .failure(SetupError("mkimage.sh failed: \(made)")) }
        // Removed when the test process exits: several tests share it.
        atexit { ClientImage.removeAtExit() }
        return .success(dir)
    }()

    static func removeAtExit() {
        if case .success(let dir) = dir { try? FileManager.default.removeItem(atPath: dir) }
    }

    static func path(_ name: String) throws -> String { try dir.get() + "/" + name }
}

/// Why a client test is skipped: nil when the client is installed.
enum ClientAvailability {
    static let podman: String? = {
        guard getuid() == 0 else { return "needs root" }
        let missing = ["podman", "conmon"].filter { Tools.find($0) == nil }
        return missing.isEmpty ? nil : "\(missing.joined(separator: ", ")) not installed (`make test` installs them with apt-get)"
    }()

    static let containerd: String? = {
        guard getuid() == 0 else { return "needs root" }
        let missing = ["containerd", "ctr", "containerd-shim-runc-v2"].filter { Tools.find($0) == nil }
        return missing.isEmpty ? nil : "\(missing.joined(separator: ", ")) not installed (`make test` installs them with apt-get)"
    }()
}

// MARK: - podman

/// podman with storage, run root, tmpdir and containers.conf of its own in a temp dir, cgroupfs, and
/// ClientRuntime as `--runtime`. The image is imported at init.
final class Podman {
    let dir: String
    let conf: String
    private let binary: String

    /// podman's default nofile/nproc (1048576) exceed this host's hard limits; every runtime refuses them.
    static let runFlags = ["--network", "none", "--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024"]

    init() throws {
        binary = try Tools.find("podman") ?? { throw SetupError("podman not installed") }()
        dir = NSTemporaryDirectory() + "crabcan-it-podman-" + UUID().uuidString.prefix(8)
        conf = dir + "/containers.conf"
        try FileManager.default.createDirectory(atPath: dir + "/tmp", withIntermediateDirectories: true)
        // Only this file is read (not the host's): the runtime is declared as README describes it.
        let text = """
            [engine]
            cgroup_manager = "cgroupfs"
            events_logger = "none"
            runtime = "\(ClientRuntime.name)"

            [engine.runtimes]
            \(ClientRuntime.name) = ["\(ClientRuntime.path)"]
            """
        try text.write(toFile: conf, atomically: true, encoding: .utf8)
        let imported = podman(["import", "--quiet", try ClientImage.path("layer.tar"), ClientImage.ref], runtimeFlag: false, timeout: 60)
        guard imported.status == 0 else {
            cleanup()
            throw SetupError("podman import failed: \(imported)")
        }
    }

    /// `podman <isolating flags> [--runtime <ClientRuntime>] arguments`.
    @discardableResult
    func podman(_ arguments: [String], runtimeFlag: Bool = true, timeout: Double = 30) -> Result {
        var global = ["--root", dir + "/root", "--runroot", dir + "/runroot", "--tmpdir", dir + "/tmp",
                      "--storage-driver", "overlay", "--cgroup-manager", "cgroupfs", "--events-backend", "none"]
        if runtimeFlag { global += ["--runtime", ClientRuntime.path] }
        let (executable, wrapped) = Tools.onlyStdio("/usr/bin/env", ["CONTAINERS_CONF=" + conf, binary] + global + arguments)
        return Command.run(executable, wrapped, timeout: timeout)
    }

    /// `podman run --rm <runFlags> <flags> image <command>`.
    func run(_ flags: [String], _ command: [String], timeout: Double = 30) -> Result {
        podman(["run", "--rm"] + Podman.runFlags + flags + [ClientImage.ref] + command, timeout: timeout)
    }

    /// `podman run -d ...`: the container id, or nil (recording why).
    func runDetached(_ command: [String], flags: [String] = []) -> String? {
        let result = podman(["run", "-d"] + Podman.runFlags + flags + [ClientImage.ref] + command)
        guard result.status == 0, let id = result.stdoutLines.last, id.count == 64 else {
            Issue.record("podman run -d failed: \(result)")
            return nil
        }
        return id
    }

    func inspect(_ id: String, _ format: String) -> String {
        podman(["inspect", "--format", format, id]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Removes every container (and so their conmons, mounts and cgroups), then the storage.
    func cleanup() {
        podman(["rm", "--all", "--force", "--time", "0"], timeout: 60)
        podman(["system", "reset", "--force"], timeout: 60)
        Tools.unmountAll(under: dir)
        try? FileManager.default.removeItem(atPath: dir)
    }
}

// MARK: - containerd

/// A containerd 1.6 of our own: config, root, state and socket in a temp dir, a namespace of its own, and
/// `--runc-binary <ClientRuntime>` on every `ctr run` (the runc v2 shim's BinaryName option). Image imported at init.
final class Containerd {
    let dir: String
    let socket: String
    let namespace = "crabcan-it"
    private let ctrBinary: String
    private let daemon: Command

    init() throws {
        let containerd = try Tools.find("containerd") ?? { throw SetupError("containerd not installed") }()
        ctrBinary = try Tools.find("ctr") ?? { throw SetupError("ctr not installed") }()
        dir = NSTemporaryDirectory() + "crabcan-it-ctrd-" + UUID().uuidString.prefix(8)
        socket = dir + "/containerd.sock"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        // The CRI plugin would want CNI and a sandbox image.
        let config = Self.baseConfig(dir: dir, socket: socket, disabling: ["io.containerd.grpc.v1.cri"])
        try config.write(toFile: dir + "/config.toml", atomically: true, encoding: .utf8)
        let (executable, wrapped) = Tools.onlyStdio(containerd, ["--config", dir + "/config.toml"])
        daemon = try Command(executable, wrapped)
        let ctrBinary = self.ctrBinary, socket = self.socket
        let up = eventually(timeout: 15) {
            FileManager.default.fileExists(atPath: socket)
                && Command.run(ctrBinary, ["--address", socket, "version"], timeout: 5).status == 0
        }
        guard up else {
            let log = daemon.wait(timeout: 1)
            cleanup()
            throw SetupError("containerd did not come up: \(log)")
        }
        let imported = ctr(["images", "import", try ClientImage.path("image.tar")], timeout: 60)
        guard imported.status == 0 else {
            cleanup()
            throw SetupError("ctr images import failed: \(imported)")
        }
    }

    @discardableResult
    func ctr(_ arguments: [String], timeout: Double = 30) -> Result {
        Command.run(ctrBinary, ["--address", socket, "--namespace", namespace] + arguments, timeout: timeout)
    }

    /// `ctr run <flags> --runc-binary <runtime> image id command`.
    func run(_ flags: [String], _ id: String, _ command: [String], timeout: Double = 30) -> Result {
        ctr(["run"] + flags + ["--runc-binary", ClientRuntime.path, ClientImage.ref, id] + command, timeout: timeout)
    }

    /// The same under a pseudo-terminal (`script`), which `ctr run --tty` needs on its own side.
    func runInTerminal(_ flags: [String], _ id: String, _ command: [String], timeout: Double = 30) -> Result {
        let line = Tools.shellQuote([ctrBinary, "--address", socket, "--namespace", namespace, "run"] + flags
                                    + ["--runc-binary", ClientRuntime.path, ClientImage.ref, id] + command)
        return Command.run(Tools.find("script") ?? "/usr/bin/script", ["-qec", line, "/dev/null"], timeout: timeout)
    }

    /// The pid of a task's init as containerd reports it (`ctr task ls`), nil when it has none.
    func taskPid(_ id: String) -> Int32? {
        for line in ctr(["task", "ls"]).stdoutLines {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            if fields.count >= 3, fields[0] == Substring(id) { return Int32(fields[1]) }
        }
        return nil
    }

    func taskStatus(_ id: String) -> String? {
        for line in ctr(["task", "ls"]).stdoutLines {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            if fields.count >= 3, fields[0] == Substring(id) { return String(fields[2]) }
        }
        return nil
    }

    /// Kills what a failed test left (tasks, containers), stops the daemon and its shims, removes everything.
    func cleanup() {
        for line in ctr(["task", "ls", "--quiet"]).stdoutLines {
            ctr(["task", "kill", "--signal", "KILL", line])
            ctr(["task", "delete", "--force", line])
        }
        for line in ctr(["container", "ls", "--quiet"]).stdoutLines { ctr(["container", "delete", line]) }
        for child in Tools.children(of: daemon.pid) { kill(child, SIGTERM) }
        _ = daemon.wait(timeout: 10)
        // Shims outlive the daemon by design (a failed test may leave one); ours name our socket on their command line.
        for pid in Host.pids() where Host.cmdline(pid).contains(where: { $0.contains(dir) }) { kill(pid, SIGKILL) }
        // cgroups the runtime made under the namespace's parent (ctr's cgroupsPath is /<namespace>/<id>).
        for controller in (try? FileManager.default.contentsOfDirectory(atPath: "/sys/fs/cgroup")) ?? [] {
            rmdir("/sys/fs/cgroup/\(controller)/\(namespace)")
        }
        // The shim's runtime --root for our namespace (empty once every container is deleted).
        rmdir("/run/containerd/runc/\(namespace)")
        Tools.unmountAll(under: dir)
        try? FileManager.default.removeItem(atPath: dir)
    }
}

extension Containerd {
    /// A containerd of the tests' own: root, state and sockets under `dir`; snapshotters for other filesystems and
    /// tracing only log noise, so they are off, with `disabling` besides. The CRI test adds its plugin's section.
    static func baseConfig(dir: String, socket: String, disabling: [String] = []) -> String {
        let disabled = disabling + ["io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs",
                                    "io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.devmapper",
                                    "io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing"]
        return """
            version = 2
            root = "\(dir)/root"
            state = "\(dir)/state"
            disabled_plugins = [\(disabled.map { "\"\($0)\"" }.joined(separator: ", "))]
            [grpc]
              address = "\(socket)"
            [ttrpc]
              address = "\(socket).ttrpc"
            [debug]
              address = ""
            [metrics]
              address = ""

            """
    }
}
