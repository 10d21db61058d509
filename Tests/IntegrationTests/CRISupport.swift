import Foundation
import Testing

// Issue 13: the kubelet's path. containerd 1.6 with its CRI plugin (config, root, state, socket, runtime roots in a
// temp dir) and a runtime handler `crabcan` (runtime_type io.containerd.runc.v2, options.BinaryName = ClientRuntime),
// driven by a small CRI client (scripts/cri.py: grpcio, stubs generated from ../shared/cri/api.proto by
// `make clients13` into .build-cri/) the way a kubelet drives it.

extension ClientAvailability {
    static let cri: String? = {
        guard getuid() == 0 else { return "needs root" }
        let missing = ["containerd", "ctr", "containerd-shim-runc-v2"].filter { Tools.find($0) == nil }
        if !missing.isEmpty {
            return "\(missing.joined(separator: ", ")) not installed (`make test` installs them with apt-get)"
        }
        guard FileManager.default.isExecutableFile(atPath: CRI.python),
              FileManager.default.fileExists(atPath: CRI.stubs + "/api_pb2_grpc.py") else {
            return "the CRI client is not set up: `make clients13` puts grpcio (PyPI) in .build-cri/venv and generates its stubs from ../shared/cri/api.proto"
        }
        return nil
    }()
}

/// The pod's pause image, made offline like the test image: the busybox rootfs whose command is a long sleep.
enum PauseImage {
    static let ref = "localhost/crabcan-pause:test"

    static let dir: Swift.Result<String, SetupError> = {
        let dir = NSTemporaryDirectory() + "crabcan-it-pause-" + UUID().uuidString.prefix(8)
        let made = Command.run("/bin/sh", [Paths.repo + "/scripts/mkimage.sh", Paths.sharedRootfs, dir, ref, #"["sleep","2147483647"]"#], timeout: 60)
        guard made.status == 0 else { return .failure(SetupError("mkimage.sh failed: \(made)")) }
        atexit { PauseImage.removeAtExit() }
        return .success(dir)
    }()

    static func removeAtExit() {
        if case .success(let dir) = dir { try? FileManager.default.removeItem(atPath: dir) }
    }
}

/// A containerd with the CRI plugin, all of it in a temp dir, the images imported into the k8s.io namespace.
final class CRI {
    static let python = Paths.repo + "/.build-cri/venv/bin/python"
    static let stubs = Paths.repo + "/.build-cri/stubs"
    static let script = Paths.repo + "/scripts/cri.py"
    /// The RuntimeClass handler: crabcan, or runc/crun's own name for a comparison run.
    static let handler = ClientRuntime.path == Paths.binary ? "crabcan" : "it-" + ClientRuntime.name

    let dir: String
    let socket: String
    /// Pods get /<cgroupParent>/<pod> as their cgroup parent (a kubelet's /kubepods/...): ours to check and remove.
    let cgroupParent: String
    private let daemon: Command

    init() throws {
        let containerd = try Tools.find("containerd") ?? { throw SetupError("containerd not installed") }()
        let tag = String(UUID().uuidString.prefix(8)).lowercased()
        dir = NSTemporaryDirectory() + "crabcan-it-cri-" + tag
        socket = dir + "/containerd.sock"
        cgroupParent = "crabcan-it-cri-" + tag
        try FileManager.default.createDirectory(atPath: dir + "/logs", withIntermediateDirectories: true)
        try CRI.config(dir: dir, socket: socket).write(toFile: dir + "/config.toml", atomically: true, encoding: .utf8)
        let (executable, wrapped) = Tools.onlyStdio(containerd, ["--config", dir + "/config.toml"])
        daemon = try Command(executable, wrapped)
        let ctr = try Tools.find("ctr") ?? { throw SetupError("ctr not installed") }()
        let up = eventually(timeout: 20) { [socket] in
            FileManager.default.fileExists(atPath: socket) && Command.run(ctr, ["--address", socket, "version"], timeout: 5).status == 0
        }
        guard up else {
            let log = daemon.wait(timeout: 1)
            cleanup()
            throw SetupError("containerd did not come up: \(log)")
        }
        for archive in [try ClientImage.path("image.tar"), try PauseImage.dir.get() + "/image.tar"] {
            let imported = Command.run(ctr, ["--address", socket, "--namespace", "k8s.io", "images", "import", archive], timeout: 60)
            guard imported.status == 0 else {
                cleanup()
                throw SetupError("ctr images import failed: \(imported)")
            }
        }
    }

    /// README's configuration, as tested: the `crabcan` handler beside the default runc one (each with a runtime
    /// root of its own, so which runtime ran a container shows in its state dir); cgroupfs; the pause image made
    /// offline. This host's bounding set lacks CAP_SYS_RESOURCE, so the sandbox may not lower its oom_score_adj
    /// (restrict_oom_score_adj, as for any unprivileged containerd); no CNI: pods use the node's network.
    static func config(dir: String, socket: String) -> String {
        Containerd.baseConfig(dir: dir, socket: socket) + """
        [plugins."io.containerd.grpc.v1.cri"]
          sandbox_image = "\(PauseImage.ref)"
          disable_tcp_service = true
          restrict_oom_score_adj = true
          disable_apparmor = true
          [plugins."io.containerd.grpc.v1.cri".cni]
            bin_dir = "\(dir)/cni/bin"
            conf_dir = "\(dir)/cni/conf"
          [plugins."io.containerd.grpc.v1.cri".containerd]
            snapshotter = "overlayfs"
            default_runtime_name = "runc"
            [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
              runtime_type = "io.containerd.runc.v2"
              [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
                Root = "\(dir)/runtime-root/runc"
            [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.\(handler)]
              runtime_type = "io.containerd.runc.v2"
              [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.\(handler).options]
                BinaryName = "\(ClientRuntime.path)"
                Root = "\(dir)/runtime-root/\(handler)"
                SystemdCgroup = false
        """
    }

    /// The runtime's --root for the CRI plugin's namespace: one dir per sandbox or container while it exists.
    var stateRoot: String { dir + "/runtime-root/\(CRI.handler)/k8s.io" }

    /// One CRI call: `RuntimeService/Method` with `request`; the response, or nil with the error recorded unless
    /// `expectFailure`.
    @discardableResult
    func call(_ method: String, _ request: [String: Any], expectFailure: Bool = false, timeout: Double = 60) -> (response: [String: Any]?, result: Result) {
        let body = (try? JSONSerialization.data(withJSONObject: request)) ?? Data("{}".utf8)
        let result = Command.run(CRI.python, [CRI.script, CRI.stubs, socket, method], stdin: body, timeout: timeout)
        guard result.status == 0 else {
            if !expectFailure { Issue.record("\(method) failed: \(result)") }
            return (nil, result)
        }
        let response = try? JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        return (response, result)
    }

    /// A pod's config (what the kubelet sends with every call of the pod): host network (no CNI here), the pid
    /// namespace per container unless `sharedPid`, a cgroup parent under ours, logs under our dir.
    func podConfig(_ name: String, sharedPid: Bool = false) -> [String: Any] {
        try? FileManager.default.createDirectory(atPath: dir + "/logs/" + name, withIntermediateDirectories: true)
        return [
            "metadata": ["name": name, "uid": "uid-" + name, "namespace": "crabcan-it", "attempt": 0],
            "log_directory": dir + "/logs/" + name,
            "linux": ["cgroup_parent": "/\(cgroupParent)/\(name)",
                      "security_context": ["namespace_options": ["network": "NODE", "pid": sharedPid ? "POD" : "CONTAINER", "ipc": "POD"]]],
        ]
    }

    /// RunPodSandbox with runtime_handler = our handler: the sandbox id.
    func runPod(_ config: [String: Any]) -> String? {
        call("RuntimeService/RunPodSandbox", ["config": config, "runtime_handler": CRI.handler]).response?["pod_sandbox_id"] as? String
    }

    /// CreateContainer + StartContainer of the busybox image running `command`: the container id.
    func startContainer(pod: String, podConfig: [String: Any], name: String, command: [String],
                        linux: [String: Any] = [:]) -> String? {
        var config: [String: Any] = ["metadata": ["name": name, "attempt": 0], "image": ["image": ClientImage.ref],
                                     "command": command, "log_path": name + ".log"]
        // The kubelet repeats the pod's namespace options in each container's security context (containerd takes
        // the container's: left out, the pid namespace would be the pod's).
        var linux = linux
        var security = linux["security_context"] as? [String: Any] ?? [:]
        security["namespace_options"] = ((podConfig["linux"] as? [String: Any])?["security_context"] as? [String: Any])?["namespace_options"]
        linux["security_context"] = security
        config["linux"] = linux
        guard let id = call("RuntimeService/CreateContainer", ["pod_sandbox_id": pod, "config": config, "sandbox_config": podConfig])
            .response?["container_id"] as? String else { return nil }
        guard call("RuntimeService/StartContainer", ["container_id": id]).response != nil else { return nil }
        return id
    }

    /// ContainerStatus's status object (state, exit_code, reason, ...), and with `verbose` the shim's info (pid).
    func status(_ id: String) -> [String: Any] {
        (call("RuntimeService/ContainerStatus", ["container_id": id]).response?["status"] as? [String: Any]) ?? [:]
    }

    func state(_ id: String) -> String { status(id)["state"] as? String ?? "?" }

    /// The container's init pid on the host (ContainerStatus verbose info).
    func pid(_ id: String) -> Int32? {
        guard let info = call("RuntimeService/ContainerStatus", ["container_id": id, "verbose": true]).response?["info"] as? [String: Any],
              let text = info["info"] as? String,
              let decoded = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else { return nil }
        return (decoded["pid"] as? Int).map { Int32($0) }
    }

    /// ExecSync: (exit code, stdout, stderr); stdout/stderr come back base64 in proto3's JSON.
    func execSync(_ id: String, _ command: [String], timeout: Int = 20) -> (code: Int, stdout: String, stderr: String)? {
        guard let response = call("RuntimeService/ExecSync", ["container_id": id, "cmd": command, "timeout": timeout]).response else { return nil }
        func text(_ key: String) -> String {
            (response[key] as? String).flatMap { Data(base64Encoded: $0) }.map { String(decoding: $0, as: UTF8.self) } ?? ""
        }
        return ((response["exit_code"] as? Int) ?? -1, text("stdout"), text("stderr"))
    }

    /// Every pod stopped and removed (and so their containers), as the kubelet does when pods go.
    func removeAllPods() {
        let pods = (call("RuntimeService/ListPodSandbox", [:]).response?["items"] as? [[String: Any]]) ?? []
        for pod in pods.compactMap({ $0["id"] as? String }) {
            call("RuntimeService/StopPodSandbox", ["pod_sandbox_id": pod])
            call("RuntimeService/RemovePodSandbox", ["pod_sandbox_id": pod])
        }
    }

    func cgroupDirs() -> [String] {
        let controllers = (try? FileManager.default.contentsOfDirectory(atPath: "/sys/fs/cgroup")) ?? []
        var found: [String] = []
        func walk(_ path: String) {
            found.append(path)
            for name in (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? [] {
                var isDirectory: ObjCBool = false
                if FileManager.default.fileExists(atPath: path + "/" + name, isDirectory: &isDirectory), isDirectory.boolValue { walk(path + "/" + name) }
            }
        }
        for controller in controllers where FileManager.default.fileExists(atPath: "/sys/fs/cgroup/\(controller)/\(cgroupParent)") {
            walk("/sys/fs/cgroup/\(controller)/\(cgroupParent)")
        }
        return found
    }

    /// Processes that name our dir (containerd, the shims) or live in our cgroups.
    func processes() -> [Int32] {
        let inCgroups = cgroupDirs().flatMap { Tools.read($0 + "/cgroup.procs").split(separator: "\n").compactMap { Int32($0) } }
        let named = Host.pids().filter { pid in Host.cmdline(pid).contains { $0.contains(dir) } }
        return Array(Set(inCgroups + named)).filter { $0 != getpid() }
    }

    /// Once every pod is stopped and removed and containerd has stopped: what is left of ours (processes, the
    /// containers' and sandboxes' cgroups, mounts, runtime state dirs). Empty when clean.
    func stopAndListLeftovers() -> [String] {
        removeAllPods()
        for child in Tools.children(of: daemon.pid) { kill(child, SIGTERM) }
        _ = daemon.wait(timeout: 20)
        var left: [String] = []
        if !eventually(timeout: 10, { self.processes().isEmpty }) {
            left += processes().map { "process \($0): \(Host.cmdline($0).joined(separator: " "))" }
        }
        // The runtime removes a container's cgroup, not the parents the kubelet would own (ours and the pods').
        left += cgroupDirs().filter { dir in
            guard let range = dir.range(of: "/" + cgroupParent) else { return false }
            return dir[range.upperBound...].split(separator: "/").count > 1
        }.map { "cgroup \($0)" }
        left += Tools.mounts(under: dir).map { "mount \($0)" }
        left += RuntimeRoot.containerEntries(stateRoot).map { "runtime state \(stateRoot)/\($0)" }
        return left
    }

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
