import Foundation
import Testing

// Issue 13: the Docker engine (Debian's docker.io: dockerd 20.10 with the containerd it starts itself and the runc
// v2 shim) drives the runtime. dockerd runs by hand, never as a service: data root, exec root, pid file, socket,
// cgroup parent and CLI config are a temp dir's own, and it is stopped by its pid.

extension ClientAvailability {
    static let docker: String? = {
        guard getuid() == 0 else { return "needs root" }
        let missing = ["dockerd", "containerd", "containerd-shim-runc-v2", "docker-init"].filter { Tools.find($0) == nil }
            + (FileManager.default.isExecutableFile(atPath: Docker.cli) ? [] : [Docker.cli])
        return missing.isEmpty ? nil : "\(missing.joined(separator: ", ")) not installed (`make test` installs docker.io with apt-get)"
    }()
}

/// dockerd with everything of its own under a temp dir, `--add-runtime <name>=<ClientRuntime>`, cgroupfs, no
/// network set-up (`--bridge=none --iptables=false`), nofile 1024 (this host's hard limit is below dockerd's
/// default). The image is imported at init.
final class Docker {
    /// The CLI of Debian's docker.io, beside its dockerd (another docker CLI may come first in PATH).
    static let cli = "/usr/bin/docker"
    /// The name `docker run --runtime` takes: `crabcan`, or `it-runc`/`it-crun` for a comparison run ("runc" is
    /// dockerd's own, which --add-runtime may not redefine).
    static let runtimeName = ClientRuntime.path == Paths.binary ? "crabcan" : "it-" + ClientRuntime.name

    let dir: String
    let socket: String
    /// Every container's cgroup is /<cgroupParent>/<id> in each hierarchy: ours to check and remove.
    let cgroupParent: String
    private let daemon: Command

    init() throws {
        let dockerd = try Tools.find("dockerd") ?? { throw SetupError("dockerd not installed") }()
        let tag = String(UUID().uuidString.prefix(8)).lowercased()
        dir = NSTemporaryDirectory() + "crabcan-it-docker-" + tag
        socket = dir + "/docker.sock"
        cgroupParent = "crabcan-it-docker-" + tag
        try FileManager.default.createDirectory(atPath: dir + "/cli", withIntermediateDirectories: true)
        let arguments = [
            "--data-root", dir + "/data", "--exec-root", dir + "/exec", "--pidfile", dir + "/docker.pid",
            "-H", "unix://" + socket, "--bridge=none", "--iptables=false", "--ip-masq=false", "--userland-proxy=false",
            "--exec-opt", "native.cgroupdriver=cgroupfs", "--cgroup-parent", cgroupParent,
            "--default-ulimit", "nofile=1024:1024", "--add-runtime", "\(Docker.runtimeName)=\(ClientRuntime.path)",
            "--log-level", "warn",
        ]
        let (executable, wrapped) = Tools.onlyStdio(dockerd, arguments)
        daemon = try Command(executable, wrapped)
        let up = eventually(timeout: 30) { [socket] in
            FileManager.default.fileExists(atPath: socket) && Command.run(Docker.cli, ["-H", "unix://" + socket, "version"], timeout: 5).status == 0
        }
        guard up else {
            let log = daemon.wait(timeout: 1)
            cleanup()
            throw SetupError("dockerd did not come up: \(log)")
        }
        let imported = docker(["import", "--change", "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                               "--change", "CMD [\"sh\"]", try ClientImage.path("layer.tar"), ClientImage.ref], timeout: 60)
        guard imported.status == 0 else {
            cleanup()
            throw SetupError("docker import failed: \(imported)")
        }
    }

    /// `docker -H <our socket> arguments` (the CLI's config dir is ours too).
    @discardableResult
    func docker(_ arguments: [String], stdin: Data? = nil, timeout: Double = 30) -> Result {
        Command.run("/usr/bin/env", ["DOCKER_CONFIG=" + dir + "/cli", Docker.cli, "-H", "unix://" + socket] + arguments,
                    stdin: stdin, timeout: timeout)
    }

    /// The same under a pseudo-terminal (`script`), which `-it` needs on the CLI's side.
    func dockerInTerminal(_ arguments: [String], timeout: Double = 30) -> Result {
        let line = Tools.shellQuote(["/usr/bin/env", "DOCKER_CONFIG=" + dir + "/cli", Docker.cli, "-H", "unix://" + socket] + arguments)
        return Command.run(Tools.find("script") ?? "/usr/bin/script", ["-qec", line, "/dev/null"], timeout: timeout)
    }

    /// `docker run --rm --runtime <name> --network none <flags> image <command>`.
    func run(_ flags: [String], _ command: [String], stdin: Data? = nil, timeout: Double = 30) -> Result {
        docker(["run", "--rm", "--runtime", Docker.runtimeName, "--network", "none"] + flags + [ClientImage.ref] + command,
               stdin: stdin, timeout: timeout)
    }

    /// `docker run -d ...`: the container id, or nil (recording why).
    func runDetached(_ command: [String], flags: [String] = []) -> String? {
        let result = docker(["run", "-d", "--runtime", Docker.runtimeName, "--network", "none"] + flags + [ClientImage.ref] + command)
        guard result.status == 0, let id = result.stdoutLines.last, id.count == 64 else {
            Issue.record("docker run -d failed: \(result)")
            return nil
        }
        return id
    }

    func inspect(_ id: String, _ format: String) -> String {
        docker(["inspect", "--format", format, id]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func pid(_ id: String) -> Int32? { Int32(inspect(id, "{{.State.Pid}}")).flatMap { $0 > 0 ? $0 : nil } }

    /// The cgroup dirs under our parent, in every hierarchy.
    func cgroupDirs() -> [String] {
        let controllers = (try? FileManager.default.contentsOfDirectory(atPath: "/sys/fs/cgroup")) ?? []
        return controllers.flatMap { controller -> [String] in
            let parent = "/sys/fs/cgroup/\(controller)/\(cgroupParent)"
            guard FileManager.default.fileExists(atPath: parent) else { return [] }
            let children = (try? FileManager.default.contentsOfDirectory(atPath: parent)) ?? []
            var isDirectory: ObjCBool = false
            return [parent] + children.map { parent + "/" + $0 }
                .filter { FileManager.default.fileExists(atPath: $0, isDirectory: &isDirectory) && isDirectory.boolValue }
        }
    }

    /// Processes that name our dir on their command line (dockerd, its containerd, the shims) or live in our cgroups.
    func processes() -> [Int32] {
        let inCgroups = cgroupDirs().flatMap { Tools.read($0 + "/cgroup.procs").split(separator: "\n").compactMap { Int32($0) } }
        let named = Host.pids().filter { pid in Host.cmdline(pid).contains { $0.contains(dir) } }
        return Array(Set(inCgroups + named)).filter { $0 != getpid() }
    }

    /// What is left of ours once every container is removed and dockerd (with its containerd) has stopped:
    /// processes, container cgroups under our parent, mounts under our dir, runtime state dirs. Empty when clean.
    func stopAndListLeftovers() -> [String] {
        let all = docker(["ps", "--all", "--quiet"]).stdoutLines
        if !all.isEmpty { docker(["rm", "--force"] + all, timeout: 60) }
        if let pid = Int32(Tools.read(dir + "/docker.pid")) { kill(pid, SIGTERM) }
        _ = daemon.wait(timeout: 20)
        var left: [String] = []
        // The shims exit once their container is deleted; dockerd's containerd with dockerd.
        if !eventually(timeout: 10, { self.processes().isEmpty }) {
            left += processes().map { "process \($0): \(Host.cmdline($0).joined(separator: " "))" }
        }
        left += cgroupDirs().filter { !$0.hasSuffix("/" + cgroupParent) }.map { "cgroup \($0)" }
        left += Tools.mounts(under: dir).map { "mount \($0)" }
        // The shim runs the runtime with --root <exec-root>/runtime-<name>/moby: one dir per container while it exists.
        let stateRoot = dir + "/exec/runtime-\(Docker.runtimeName)/moby"
        left += RuntimeRoot.containerEntries(stateRoot).map { "runtime state \(stateRoot)/\($0)" }
        return left
    }

    /// Stops everything (see stopAndListLeftovers), kills and removes what a failed test left, removes the dir.
    func cleanup() {
        if daemon.isRunning { _ = stopAndListLeftovers() }
        for pid in processes() { kill(pid, SIGKILL) }
        _ = eventually(timeout: 5) { self.processes().isEmpty }
        for cgroup in cgroupDirs().sorted(by: { $0.count > $1.count }) {
            _ = eventually(timeout: 2) { rmdir(cgroup) == 0 || errno == ENOENT }
        }
        Tools.unmountAll(under: dir)
        try? FileManager.default.removeItem(atPath: dir)
    }
}
