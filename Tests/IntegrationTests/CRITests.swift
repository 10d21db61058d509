import Foundation
import Testing

/// Issue 13: what a kubelet asks of containerd's CRI plugin, with the runtime handler `crabcan` (a RuntimeClass).
/// Each scenario has a containerd of its own, and ends by stopping and removing every pod, stopping containerd and
/// checking that nothing is left (processes, container cgroups, mounts, runtime state dirs).
/// CRABCAN_CLIENT_RUNTIME=/usr/sbin/runc (or crun) plays them with another runtime as the handler.
enum CRIScenario: String, CaseIterable, Sendable {
    case podLifecycle, execSync, resourcesInTheCgroup, securityContext, updateResources
    case exitedStatus, oomKilledStatus, sharedPidNamespace, stopPodWithRunningContainers
}

extension CrabcanCLI {
    static let noCRI = ClientAvailability.cri

    @Test(.disabled(if: noCRI != nil, Comment(rawValue: noCRI ?? "")), arguments: CRIScenario.allCases)
    func cri(_ scenario: CRIScenario) throws {
        let cri = try CRI()
        defer { cri.cleanup() }
        try Self.play(scenario, cri)
        let left = cri.stopAndListLeftovers()
        #expect(left.isEmpty, "\(scenario) left: \(left)")
    }

    static func play(_ scenario: CRIScenario, _ cri: CRI) throws {
        switch scenario {
        case .podLifecycle:
            let podConfig = cri.podConfig("life")
            let pod = try #require(cri.runPod(podConfig))
            let podStatus = cri.call("RuntimeService/PodSandboxStatus", ["pod_sandbox_id": pod]).response?["status"] as? [String: Any]
            #expect(podStatus?["state"] as? String == "SANDBOX_READY", "\(String(describing: podStatus))")
            // The handler picked our runtime: the sandbox's state lives under its runtime root, not runc's.
            #expect(FileManager.default.fileExists(atPath: cri.stateRoot + "/" + pod), "the sandbox did not run with \(CRI.handler)")
            let id = try #require(cri.startContainer(pod: pod, podConfig: podConfig, name: "app",
                                                     command: ["sh", "-c", "echo started; echo oops >&2; trap 'echo stopping; exit 0' TERM; while :; do sleep 0.1; done"]))
            #expect(cri.state(id) == "CONTAINER_RUNNING")
            #expect(FileManager.default.fileExists(atPath: cri.stateRoot + "/" + id))
            // The CRI log format: "<time> <stream> <tag> <line>".
            let log = cri.dir + "/logs/life/app.log"
            #expect(eventually(timeout: 10) { Tools.read(log).contains(" stdout F started") && Tools.read(log).contains(" stderr F oops") }, "\(Tools.read(log))")
            let started = Date()
            #expect(cri.call("RuntimeService/StopContainer", ["container_id": id, "timeout": 10]).response != nil)
            #expect(Date().timeIntervalSince(started) < 8, "StopContainer waited for its SIGKILL")
            let stopped = cri.status(id)
            #expect(stopped["state"] as? String == "CONTAINER_EXITED" && stopped["exit_code"] as? Int == 0, "\(stopped)")
            #expect(Tools.read(log).contains(" stdout F stopping"))
            #expect(cri.call("RuntimeService/RemoveContainer", ["container_id": id]).response != nil)
            #expect(!FileManager.default.fileExists(atPath: cri.stateRoot + "/" + id))
            #expect(cri.call("RuntimeService/StopPodSandbox", ["pod_sandbox_id": pod]).response != nil)
            let notReady = cri.call("RuntimeService/PodSandboxStatus", ["pod_sandbox_id": pod]).response?["status"] as? [String: Any]
            #expect(notReady?["state"] as? String == "SANDBOX_NOTREADY")
            #expect(cri.call("RuntimeService/RemovePodSandbox", ["pod_sandbox_id": pod]).response != nil)
            #expect(!FileManager.default.fileExists(atPath: cri.stateRoot + "/" + pod))
            let pods = cri.call("RuntimeService/ListPodSandbox", [:]).response?["items"] as? [Any]
            #expect(pods?.isEmpty ?? true, "\(String(describing: pods))")

        case .execSync:
            let podConfig = cri.podConfig("exec")
            let pod = try #require(cri.runPod(podConfig))
            let id = try #require(cri.startContainer(pod: pod, podConfig: podConfig, name: "app", command: ["sleep", "1000"]))
            let ok = cri.execSync(id, ["sh", "-c", "echo out; echo err >&2"])
            #expect(ok?.code == 0 && ok?.stdout == "out\n" && ok?.stderr == "err\n", "\(String(describing: ok))")
            let three = cri.execSync(id, ["sh", "-c", "exit 3"])
            #expect(three?.code == 3, "\(String(describing: three))")
            // An exec probe's process sees the container's namespaces: pid 1 is the container's sleep.
            let ns = cri.execSync(id, ["sh", "-c", "cat /proc/1/cmdline | tr '\\0' ' '"])
            #expect(ns?.stdout == "sleep 1000 ", "\(String(describing: ns))")
            // A missing program is an error of the call (the kubelet reports the probe as failed).
            let missing = cri.call("RuntimeService/ExecSync", ["container_id": id, "cmd": ["/nonexistent"], "timeout": 10], expectFailure: true)
            #expect(missing.result.status != 0 || (missing.response?["exit_code"] as? Int ?? 0) != 0, "\(missing.result)")

        case .resourcesInTheCgroup:
            let podConfig = cri.podConfig("res")
            let pod = try #require(cri.runPod(podConfig))
            let id = try #require(cri.startContainer(pod: pod, podConfig: podConfig, name: "app", command: ["sleep", "1000"],
                                                     linux: ["resources": ["memory_limit_in_bytes": 64 << 20, "cpu_quota": 50000,
                                                                           "cpu_period": 100000, "cpu_shares": 512]]))
            let pid = try #require(cri.pid(id))
            #expect(Tools.cgroupFile(pid: pid, controller: "memory", file: "memory.limit_in_bytes") == String(64 << 20))
            #expect(Tools.cgroupFile(pid: pid, controller: "cpu", file: "cpu.cfs_quota_us") == "50000")
            #expect(Tools.cgroupFile(pid: pid, controller: "cpu", file: "cpu.shares") == "512")
            #expect(Tools.read("/proc/\(pid)/cgroup").contains("/\(cri.cgroupParent)/res/"), "not under the pod's cgroup parent")

        case .securityContext:
            let podConfig = cri.podConfig("sec")
            let pod = try #require(cri.runPod(podConfig))
            let security: [String: Any] = ["run_as_user": ["value": 1000], "readonly_rootfs": true, "no_new_privs": true,
                                           "capabilities": ["drop_capabilities": ["ALL"], "add_capabilities": ["NET_BIND_SERVICE"]],
                                           "seccomp": ["profile_type": "RuntimeDefault"]]
            let id = try #require(cri.startContainer(pod: pod, podConfig: podConfig, name: "app", command: ["sleep", "1000"],
                                                     linux: ["security_context": security]))
            // A non-root user keeps no effective capability (no ambient ones are asked for); the bounding set is what
            // drop ALL + add NET_BIND_SERVICE leaves.
            let seen = cri.execSync(id, ["sh", "-c", "id -u; touch /x 2>/dev/null && echo root-writable; grep -E '^(CapEff|CapBnd|NoNewPrivs|Seccomp):' /proc/self/status"])
            #expect(seen?.code == 0 && seen?.stdout == "1000\nCapEff:\t0000000000000000\nCapBnd:\t0000000000000400\nNoNewPrivs:\t1\nSeccomp:\t2\n", "\(String(describing: seen))")
            // And the container's own init, not just the exec'd process.
            let pid = try #require(cri.pid(id))
            let status = Tools.read("/proc/\(pid)/status")
            #expect(status.contains("Uid:\t1000\t1000\t1000\t1000") && status.contains("NoNewPrivs:\t1") && status.contains("Seccomp:\t2"), "\(status)")

        case .updateResources:
            let podConfig = cri.podConfig("upd")
            let pod = try #require(cri.runPod(podConfig))
            let limited = try #require(cri.startContainer(pod: pod, podConfig: podConfig, name: "limited", command: ["sleep", "1000"],
                                                          linux: ["resources": ["memory_limit_in_bytes": 64 << 20, "cpu_shares": 512,
                                                                                "cpu_quota": 50000, "cpu_period": 100000]]))
            let free = try #require(cri.startContainer(pod: pod, podConfig: podConfig, name: "free", command: ["sleep", "1000"]))
            for id in [limited, free] {
                let pid = try #require(cri.pid(id))
                let update = cri.call("RuntimeService/UpdateContainerResources",
                                      ["container_id": id, "linux": ["memory_limit_in_bytes": 100 << 20, "cpu_quota": 25000, "cpu_period": 100000]])
                #expect(update.response != nil, "\(update.result)")
                #expect(Tools.cgroupFile(pid: pid, controller: "memory", file: "memory.limit_in_bytes") == String(100 << 20))
                #expect(Tools.cgroupFile(pid: pid, controller: "cpu", file: "cpu.cfs_quota_us") == "25000")
            }
            // The fields the update left at 0 stay as they were.
            let pid = try #require(cri.pid(limited))
            #expect(Tools.cgroupFile(pid: pid, controller: "cpu", file: "cpu.shares") == "512")

        case .exitedStatus:
            // The process exits on its own; the CRI plugin then sends `kill --all ID 9` and must take the
            // runtime's answer for "already finished", record the exit, and let the kubelet stop and remove it.
            let podConfig = cri.podConfig("exit")
            let pod = try #require(cri.runPod(podConfig))
            let id = try #require(cri.startContainer(pod: pod, podConfig: podConfig, name: "app", command: ["sh", "-c", "echo bye; exit 7"]))
            #expect(eventually(timeout: 15) { cri.state(id) == "CONTAINER_EXITED" }, "\(cri.status(id))")
            let status = cri.status(id)
            #expect(status["exit_code"] as? Int == 7 && status["reason"] as? String == "Error", "\(status)")
            let stop = cri.call("RuntimeService/StopContainer", ["container_id": id, "timeout": 5])
            #expect(stop.response != nil, "StopContainer of an exited container: \(stop.result)")
            #expect(cri.call("RuntimeService/RemoveContainer", ["container_id": id]).response != nil)
            #expect(cri.call("RuntimeService/StopPodSandbox", ["pod_sandbox_id": pod]).response != nil)
            #expect(cri.call("RuntimeService/RemovePodSandbox", ["pod_sandbox_id": pod]).response != nil)

        case .oomKilledStatus:
            let podConfig = cri.podConfig("oom")
            let pod = try #require(cri.runPod(podConfig))
            // The init itself grows until the OOM killer ends it.
            let id = try #require(cri.startContainer(pod: pod, podConfig: podConfig, name: "app", command: ["tail", "/dev/zero"],
                                                     linux: ["resources": ["memory_limit_in_bytes": 32 << 20, "memory_swap_limit_in_bytes": 32 << 20]]))
            #expect(eventually(timeout: 30) { cri.state(id) == "CONTAINER_EXITED" }, "\(cri.status(id))")
            let status = cri.status(id)
            #expect(status["exit_code"] as? Int == 137 && status["reason"] as? String == "OOMKilled", "\(status)")
            #expect(cri.call("RuntimeService/StopContainer", ["container_id": id, "timeout": 5]).response != nil)

        case .sharedPidNamespace:
            let podConfig = cri.podConfig("shared", sharedPid: true)
            let pod = try #require(cri.runPod(podConfig))
            let id = try #require(cri.startContainer(pod: pod, podConfig: podConfig, name: "app", command: ["sleep", "1000"]))
            // The pause process is pid 1 of the pod's pid namespace and the container sees it.
            let seen = cri.execSync(id, ["sh", "-c", "cat /proc/1/cmdline | tr '\\0' ' '; echo; ps -o pid,args | grep -c 'sleep 1000$'"])
            #expect(seen?.stdout == "sleep 2147483647 \n1\n", "\(String(describing: seen))")
            let short = try #require(cri.startContainer(pod: pod, podConfig: podConfig, name: "short", command: ["sh", "-c", "exit 4"]))
            #expect(eventually(timeout: 15) { cri.state(short) == "CONTAINER_EXITED" }, "\(cri.status(short))")
            #expect(cri.status(short)["exit_code"] as? Int == 4)
            #expect(cri.call("RuntimeService/StopContainer", ["container_id": id, "timeout": 2]).response != nil)
            #expect(cri.state(id) == "CONTAINER_EXITED")

        case .stopPodWithRunningContainers:
            // The kubelet's pod deletion: StopPodSandbox ends every container of the pod first.
            let podConfig = cri.podConfig("stoppod")
            let pod = try #require(cri.runPod(podConfig))
            let ids = try ["a", "b"].map { name in
                try #require(cri.startContainer(pod: pod, podConfig: podConfig, name: name, command: ["sleep", "1000"]))
            }
            let pids = ids.compactMap { cri.pid($0) }
            #expect(pids.count == 2)
            #expect(cri.call("RuntimeService/StopPodSandbox", ["pod_sandbox_id": pod]).response != nil)
            for id in ids { #expect(cri.state(id) == "CONTAINER_EXITED") }
            #expect(pids.allSatisfy { !Host.isAlive($0) })
            #expect(cri.call("RuntimeService/RemovePodSandbox", ["pod_sandbox_id": pod]).response != nil)
            let containers = cri.call("RuntimeService/ListContainers", [:]).response?["containers"] as? [Any]
            #expect(containers?.isEmpty ?? true)
        }
    }
}
