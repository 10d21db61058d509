import Foundation
import Testing

/// `run` and `create` pin the runtime and its shared-memory init to one CPU for the set-up (Launcher's SetUpCPU);
/// what the container's process may run on must be exactly what it would have been without that.
extension CrabcanCLI {
    static func allowedCPUs(_ pid: pid_t) -> String? {
        let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
        return status.split(separator: "\n").first { $0.hasPrefix("Cpus_allowed_list:") }
            .map { $0.dropFirst("Cpus_allowed_list:".count).trimmingCharacters(in: .whitespaces) }
    }

    static var onlineCPUs: String {
        ((try? String(contentsOfFile: "/sys/devices/system/cpu/online", encoding: .utf8)) ?? "")
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The online CPUs' numbers, from the kernel's list ("0-3,6").
    static var onlineCPUNumbers: [Int] {
        onlineCPUs.split(separator: ",").flatMap { item -> [Int] in
            let bounds = item.split(separator: "-").compactMap { Int($0) }
            return bounds.count == 2 ? Array(bounds[0]...bounds[1]) : bounds
        }
    }

    static var hasTwoCPUs: Bool { onlineCPUNumbers.count >= 2 }

    /// The pin needs a runtime free to run on every online CPU; a test runner kept off some (taskset, a cpuset)
    /// starts crabcan kept off them too, and these tests skip.
    static var canPin: Bool { hasTwoCPUs && allowedCPUs(getpid()) == onlineCPUs }

    /// A container process that prints what it may run on.
    static let showCPUs = ["sh", "-c", "grep Cpus_allowed_list /proc/self/status"]

    /// For each of the first two online CPUs, `crabcan --root <root> <arguments>` (a "{cpu}" argument made a fresh
    /// id) under `taskset -c CPU`, whose container must print that CPU alone.
    static func underTaskset(_ box: Sandbox, _ arguments: [String]) {
        for cpu in onlineCPUNumbers.prefix(2).map(String.init) {
            let result = Command.run("/usr/bin/taskset", ["-c", cpu, Paths.binary, "--root", box.root]
                                     + arguments.map { $0 == "{cpu}" ? box.id("taskset-\(cpu)") : $0 })
            #expect(result.stdoutLines == ["Cpus_allowed_list:\t\(cpu)"], "\(result)")
        }
    }

    @Test(.enabled(if: canPin, "one online CPU, or this process kept off some"))
    func thePinnedRuntimeGivesTheContainerEveryCPUItsCpusetAllows() throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        let id = box.id("pinned")
        let bundle = try box.bundle(["sh", "-c", "grep Cpus_allowed_list /proc/self/status; nproc; sleep 30"])
        let run = try box.start(["run", "--bundle", bundle, id])
        #expect(box.waitForStatus(id, "running"))
        let runtimeCPUs = Self.allowedCPUs(run.pid)
        let containerCPUs = box.pid(id).flatMap { Self.allowedCPUs($0) }
        box.crabcan(["kill", id, "KILL"])
        let result = run.wait()
        // The runtime stays on the one CPU it set up on; its container was given every CPU back before execve.
        #expect(runtimeCPUs.map { Int($0) != nil } == true, "the runtime ran on \(runtimeCPUs ?? "?")")
        #expect(containerCPUs == Self.onlineCPUs)
        #expect(result.stdoutLines == ["Cpus_allowed_list:\t\(Self.onlineCPUs)", "\(Self.onlineCPUNumbers.count)"], "\(result)")

        // With a cpuset of one CPU, that CPU, whichever the runtime set up on.
        for cpu in Self.onlineCPUNumbers.prefix(2).map(String.init) {
            let limited = try box.bundle(Self.showCPUs, name: "cpuset-\(cpu)") { config in
                var linux = config["linux"] as! [String: Any]
                linux["resources"] = ["cpu": ["cpus": cpu, "mems": "0"]]
                config["linux"] = linux
            }
            let seen = box.crabcan(["run", "--bundle", limited, box.id("cpuset-\(cpu)")])
            #expect(seen.stdoutLines == ["Cpus_allowed_list:\t\(cpu)"], "\(seen)")
        }
    }

    /// A runtime kept off some CPUs (taskset here; a cpuset of its own alike) is not pinned: its container inherits
    /// the restriction, which "every CPU" would have lifted.
    @Test(.enabled(if: canPin && FileManager.default.isExecutableFile(atPath: "/usr/bin/taskset"),
                   "needs every online CPU, two of them, and taskset"))
    func aRestrictedRuntimeIsNotPinnedAndItsContainerKeepsTheRestriction() throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        Self.underTaskset(box, ["run", "--bundle", try box.bundle(Self.showCPUs), "{cpu}"])
    }

    /// `exec` pins itself and the process it clones the same way: that process gets every CPU back before execve,
    /// keeps a restricted runtime's restriction, and an execCPUAffinity of the user's is left as they asked.
    @Test(.enabled(if: canPin && FileManager.default.isExecutableFile(atPath: "/usr/bin/taskset"),
                   "needs every online CPU, two of them, and taskset"))
    func anExecdProcessGetsWhatItWouldHaveInherited() throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        let id = box.id("exec-cpus")
        #expect(box.crabcan(["run", "--detach", "--bundle", try box.bundle(["sleep", "100"]), id]).status == 0)
        let free = box.crabcan(["exec", id] + Self.showCPUs)
        #expect(free.stdoutLines == ["Cpus_allowed_list:\t\(Self.onlineCPUs)"], "\(free)")
        Self.underTaskset(box, ["exec", id] + Self.showCPUs)
        let file = box.dir + "/process.json"
        let last = Self.onlineCPUNumbers[1]
        try #"{"args":["sh","-c","grep Cpus_allowed_list /proc/self/status"],"cwd":"/","user":{"uid":0,"gid":0},"execCPUAffinity":{"final":"\#(last)"}}"#
            .write(toFile: file, atomically: true, encoding: .utf8)
        let asked = box.crabcan(["exec", "--process", file, id])
        #expect(asked.stdoutLines == ["Cpus_allowed_list:\t\(last)"], "\(asked)")
        box.crabcan(["delete", "--force", id])
    }

    /// Hooks are the user's programs, forked by the runtime (and createContainer by the init): with any hook
    /// nothing is pinned, so none inherits a single CPU.
    @Test(.enabled(if: canPin, "one online CPU, or this process kept off some"))
    func hooksNeverRunPinned() throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        let seen = box.dir + "/hook-cpus"
        let hook: [String: Any] = ["path": "/bin/sh", "args": ["sh", "-c", "grep Cpus_allowed_list /proc/self/status >> \(seen)"]]
        let bundle = try box.bundle(["true"]) { config in
            config["hooks"] = ["poststart": [hook], "poststop": [hook]]
        }
        let result = box.crabcan(["run", "--bundle", bundle, box.id("hooked")])
        #expect(result.status == 0, "\(result)")
        let lines = ((try? String(contentsOfFile: seen, encoding: .utf8)) ?? "").split(separator: "\n")
        #expect(lines == Array(repeating: "Cpus_allowed_list:\t\(Self.onlineCPUs)", count: 2), "\(lines)")
    }
}
