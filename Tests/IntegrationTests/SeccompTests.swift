import Foundation
import Testing

/// Issues 12.1, 12.1b, 12 (profiles written by others) and 18.6: what a seccomp profile lets the container see,
/// and that nothing of crabcan's own runs under the filter that the profile did not allow (docs/seccomp.md).
enum SeccompFixtures {
    /// What `busybox echo` (static) needs, and nothing a runtime would use: no close_range, fcntl, openat,
    /// rt_sigaction, setuid... capset is the one call crabcan makes after the filter without no_new_privs.
    static let echoOnly = ["arch_prctl", "brk", "capset", "execve", "exit", "exit_group", "getrandom", "getuid",
                           "mprotect", "prctl", "prlimit64", "readlink", "rseq", "set_robust_list", "set_tid_address",
                           "write"]
    /// A default-deny profile allowing `allowed` only: as the runtime-tools generator, Docker before 2020 and
    /// podman before close_range write them, for every architecture of this machine.
    static func denyAllBut(_ allowed: [String], more: [[String: Any]] = []) -> [String: Any] {
        ["defaultAction": "SCMP_ACT_ERRNO", "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
         "syscalls": [["names": allowed, "action": "SCMP_ACT_ALLOW"]] + more]
    }

    static func setSeccomp(_ config: inout [String: Any], _ profile: [String: Any], noNewPrivileges: Bool) {
        var linux = config["linux"] as! [String: Any]
        linux["seccomp"] = profile
        config["linux"] = linux
        var process = config["process"] as! [String: Any]
        process["noNewPrivileges"] = noNewPrivileges
        config["process"] = process
    }

    static let haveGCC = FileManager.default.isExecutableFile(atPath: "/usr/bin/gcc")

    /// Compiles Tests/Programs/NAME.c to `output` (static: it runs inside the busybox rootfs).
    static func compile(_ name: String, to output: String, isStatic: Bool, libraries: [String] = []) throws {
        let flags = isStatic ? ["-static"] : []
        let result = Command.run("/usr/bin/gcc", flags + ["-O2", "-o", output, Paths.repo + "/Tests/Programs/\(name).c"] + libraries,
                                 timeout: 60)
        guard result.status == 0 else { throw SetupError("gcc \(name).c: \(result)") }
    }

    /// The seccomp agent of Tests/Programs/seccomp-listener.c, listening at `socket`, answering every call.
    static func startListener(_ box: Sandbox, socket: String, report: String) throws -> Command {
        let binary = box.dir + "/seccomp-listener"
        try compile("seccomp-listener", to: binary, isStatic: false)
        let listener = try Command(binary, [socket, report])
        guard eventually({ FileManager.default.fileExists(atPath: socket) }) else { throw SetupError("listener did not start") }
        return listener
    }

    /// The agent's log once a filter it serves has no process left ("done"), or what it has after 10 s.
    static func agentLog(_ path: String) -> String {
        var log = ""
        _ = eventually(timeout: 10) {
            log = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
            return log.contains("done\n")
        }
        return log
    }

    // MARK: Profiles written by others

    static let containersCommon = "/usr/share/containers/seccomp.json"
    static let moby = Paths.repo + "/.build-profiles/moby/usr/share/gocode/src/github.com/docker/docker/profiles/seccomp/default.json"
    static let runtimeTools = Paths.repo + "/.build-profiles/runtime-tools-config.json"

    static func exists(_ path: String) -> Bool { FileManager.default.fileExists(atPath: path) }

    /// A profile in the format of moby and containers-common (archMap, includes/excludes by capability,
    /// architecture and kernel) turned into linux.seccomp as they do for a container with `capabilities` on
    /// x86_64 (moby's profiles/seccomp/seccomp_linux.go, read).
    static func ociProfile(containersFormat profile: [String: Any], capabilities: Set<String>) -> [String: Any] {
        var result: [String: Any] = ["defaultAction": profile["defaultAction"]!]
        if let errnoRet = profile["defaultErrnoRet"] { result["defaultErrnoRet"] = errnoRet }
        let archMap = profile["archMap"] as? [[String: Any]] ?? []
        if let native = archMap.first(where: { $0["architecture"] as? String == "SCMP_ARCH_X86_64" }) {
            result["architectures"] = ["SCMP_ARCH_X86_64"] + (native["subArchitectures"] as? [String] ?? [])
        }
        var rules: [[String: Any]] = []
        for rule in profile["syscalls"] as? [[String: Any]] ?? [] {
            let includes = rule["includes"] as? [String: Any] ?? [:]
            let excludes = rule["excludes"] as? [String: Any] ?? [:]
            if let arches = includes["arches"] as? [String], !arches.isEmpty, !arches.contains("amd64") { continue }
            if let caps = includes["caps"] as? [String], !caps.allSatisfy(capabilities.contains) { continue }
            if let minimum = includes["minKernel"] as? String, !kernelAtLeast(minimum) { continue }
            if let arches = excludes["arches"] as? [String], arches.contains("amd64") { continue }
            if let caps = excludes["caps"] as? [String], caps.contains(where: capabilities.contains) { continue }
            var oci: [String: Any] = ["names": rule["names"] ?? [rule["name"]!], "action": rule["action"]!]
            for key in ["args", "errnoRet"] { if let value = rule[key], !(value is NSNull) { oci[key] = value } }
            rules.append(oci)
        }
        result["syscalls"] = rules
        return result
    }

    static func kernelAtLeast(_ version: String) -> Bool {
        var name = utsname()
        uname(&name)
        let release = withUnsafeBytes(of: name.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        let have = release.split(whereSeparator: { !$0.isNumber }).prefix(2).compactMap { Int($0) }
        let want = version.split(separator: ".").compactMap { Int($0) }
        return have.lexicographicallyPrecedes(want) == false
    }

    static func json(_ path: String) throws -> [String: Any] {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        guard let object = try JSONSerialization.jsonObject(with: data) as? [String: Any] else { throw SetupError("\(path): not an object") }
        return object
    }
}

extension CrabcanCLI {
    /// 12.1: a default-deny profile without close_range, fcntl or any set-up call: before, every container died
    /// right after start (`crabcan: close_range: EPERM`); now only execve follows the filter (and, without
    /// no_new_privs, the capset that drops what loading it took).
    @Test(arguments: [true, false]) func onlyExecveFollowsTheFilter(noNewPrivileges: Bool) throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        let bundle = try box.bundle(["echo", "nothing-else-ran"]) {
            SeccompFixtures.setSeccomp(&$0, SeccompFixtures.denyAllBut(SeccompFixtures.echoOnly), noNewPrivileges: noNewPrivileges)
        }
        let result = box.crabcan(["run", "--bundle", bundle, box.id("sc-last")])
        #expect(result.status == 0, "\(result)")
        #expect(result.stdoutLines == ["nothing-else-ran"], "\(result)")
    }

    /// The same for `exec`: its process gets the container's profile as the last step too.
    @Test(arguments: [true, false]) func execLoadsTheFilterLastToo(noNewPrivileges: Bool) throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        let id = try sleeper(box, "sc-exec") {
            let profile = SeccompFixtures.denyAllBut(SeccompFixtures.echoOnly + ["nanosleep", "clock_nanosleep"])
            SeccompFixtures.setSeccomp(&$0, profile, noNewPrivileges: noNewPrivileges)
        }
        let result = box.crabcan(["exec", id, "echo", "exec-under-filter"])
        #expect(result.status == 0, "\(result)")
        #expect(result.stdoutLines == ["exec-under-filter"], "\(result)")
    }

    /// 12.1b: a profile written before clone3, close_range and openat2 (default EPERM): those get ENOSYS, so
    /// glibc falls back to the older calls; a call the profile names keeps its errno even when it is the highest
    /// one named (pidfd_open, 434); an unnamed older call (getppid, 110) gets the default.
    @Test(.enabled(if: SeccompFixtures.haveGCC, "needs gcc"), arguments: [true, false])
    func syscallsNewerThanTheProfileGetENOSYS(noNewPrivileges: Bool) throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        try SeccompFixtures.compile("syscall-probe", to: box.rootfs + "/probe", isStatic: true)
        let bundle = try box.bundle(["/probe", "435", "436", "437", "434", "110"]) {
            let profile = SeccompFixtures.denyAllBut(SeccompFixtures.echoOnly + ["ioctl", "newfstatat", "fstat", "mmap", "munmap"],
                                                     more: [["names": ["pidfd_open"], "action": "SCMP_ACT_ERRNO", "errnoRet": 18]])
            SeccompFixtures.setSeccomp(&$0, profile, noNewPrivileges: noNewPrivileges)
        }
        let result = box.crabcan(["run", "--bundle", bundle, box.id("sc-enosys")])
        #expect(result.status == 0, "\(result)")
        #expect(result.stdoutLines == ["435 ENOSYS", "436 ENOSYS", "437 ENOSYS", "434 EXDEV", "110 EPERM"], "\(result)")
    }

    /// 18.6: SCMP_ACT_NOTIFY over the calls a runtime makes, and an agent that lets them go on: before, create
    /// hung for good (the init's calls waited for an agent that never got the listener). The agent now gets it
    /// while the init waits, and answers everything the init and the container do until they are gone.
    @Test(.enabled(if: SeccompFixtures.haveGCC, "needs gcc"), arguments: [false, true])
    func notifyOverRuntimeCallsFinishes(noNewPrivileges: Bool) throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        let socket = box.dir + "/agent.sock", report = box.dir + "/agent.log"
        let listener = try SeccompFixtures.startListener(box, socket: socket, report: report)
        // The agent forks a server per connection: those go too, or a container process trapped to one outlives the test.
        defer {
            if listener.isRunning { listener.signal(SIGKILL) }
            _ = Command.run("/usr/bin/pkill", ["-KILL", "-f", box.dir + "/seccomp-listener"])
        }
        let notified = ["close", "fcntl", "read", "openat", "getdents64", "prctl", "capset", "setuid", "setgid",
                        "setgroups", "sendto", "sendmsg", "recvfrom", "recvmsg", "close_range", "rt_sigaction",
                        "rt_sigprocmask", "umask", "newfstatat", "execve"]
        let id = box.id("sc-notify")
        let bundle = try box.bundle(["sh", "-c", "echo hello-agent"]) {
            SeccompFixtures.setSeccomp(&$0, ["defaultAction": "SCMP_ACT_ALLOW", "listenerPath": socket,
                                             "syscalls": [["names": notified, "action": "SCMP_ACT_NOTIFY"]]],
                                       noNewPrivileges: noNewPrivileges)
        }
        let result = box.crabcan(["run", "--bundle", bundle, id], timeout: 30)
        #expect(!result.timedOut && result.status == 0, "\(result)")
        #expect(result.stdoutLines == ["hello-agent"], "\(result)")
        let log = SeccompFixtures.agentLog(report)
        let answered = log.split(separator: "\n").filter { $0.hasPrefix("nr ") }
        #expect(answered.count > 5, "the agent answered \(answered.count) calls: \(log)")
        #expect(log.contains("\"id\":\"\(id)\"") && log.contains("\"status\":\"creating\""), "\(log)")
    }

    /// The same for `exec`: its process loads the container's notify filter, hands its own listener over (to
    /// a second connection of the agent, state `running`), and both finish.
    @Test(.enabled(if: SeccompFixtures.haveGCC, "needs gcc"))
    func execWithNotifyOverRuntimeCallsFinishes() throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        let socket = box.dir + "/agent.sock", report = box.dir + "/agent.log"
        let listener = try SeccompFixtures.startListener(box, socket: socket, report: report)
        // The agent forks a server per connection: those go too, or a container process trapped to one outlives the test.
        defer {
            if listener.isRunning { listener.signal(SIGKILL) }
            _ = Command.run("/usr/bin/pkill", ["-KILL", "-f", box.dir + "/seccomp-listener"])
        }
        let id = try sleeper(box, "sc-exec-notify") {
            SeccompFixtures.setSeccomp(&$0, ["defaultAction": "SCMP_ACT_ALLOW", "listenerPath": socket,
                                             "syscalls": [["names": ["close", "fcntl", "read", "openat", "capset", "setuid",
                                                                     "sendto", "recvfrom", "close_range", "rt_sigaction"],
                                                           "action": "SCMP_ACT_NOTIFY"]]],
                                       noNewPrivileges: false)
        }
        let result = box.crabcan(["exec", id, "sh", "-c", "echo exec-agent"], timeout: 30)
        #expect(!result.timedOut && result.status == 0, "\(result)")
        #expect(result.stdoutLines == ["exec-agent"], "\(result)")
        let log = SeccompFixtures.agentLog(report)
        #expect(log.contains("\"status\":\"running\"") && log.contains("done"), "\(log)")
    }

    /// The init tells its parent where the listener is with write(2): a profile that notifies write would
    /// deadlock, so it is refused by path, as runc refuses it.
    @Test func notifyOnWriteIsRefusedWithItsPath() throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        let id = box.id("sc-notify-write")
        let bundle = try box.bundle(["true"]) {
            SeccompFixtures.setSeccomp(&$0, ["defaultAction": "SCMP_ACT_ALLOW", "listenerPath": box.dir + "/none.sock",
                                             "syscalls": [["names": ["close", "write"], "action": "SCMP_ACT_NOTIFY"]]],
                                       noNewPrivileges: false)
        }
        let result = box.crabcan(["create", "--bundle", bundle, id])
        #expect(result.status == 1)
        #expect(result.stderrLines.count == 1
                && result.stderr.contains(".linux.seccomp.syscalls[0].names[1]: SCMP_ACT_NOTIFY cannot be used for the write syscall"),
                "\(result)")
        #expect(!box.stateDirExists(id))
    }

    // MARK: Compiled filters kept by profile (issue 14)

    /// Docker's default profile (from a config Docker wrote) costs libseccomp ~10 ms to compile, on every create
    /// and exec. The filter compiled for the first container is kept under <root>/@seccomp and loaded as it is by
    /// the next create and exec of the same profile: each still runs under it (unshare is refused), a damaged
    /// entry is compiled again, another profile gets its own entry, `list` shows containers only, and a create
    /// that fails writes no entry.
    @Test func compiledFiltersAreKeptByProfile() throws {
        let docker = try SeccompFixtures.json(Self.foreignDir + "/docker-run.json")
        let profile = try #require((docker["linux"] as? [String: Any])?["seccomp"] as? [String: Any])
        let box = try Sandbox()
        defer { box.cleanup() }
        let cacheDir = box.root + "/@seccomp"
        func entries() -> [String] { ((try? FileManager.default.contentsOfDirectory(atPath: cacheDir)) ?? []).sorted() }
        func inode(_ name: String) -> UInt64? {
            var info = stat()
            return stat(cacheDir + "/" + name, &info) == 0 ? UInt64(info.st_ino) : nil
        }
        let script = "grep ^Seccomp: /proc/self/status; unshare -U true 2>&1; echo unshare=$?"
        func expectFiltered(_ result: Result, _ what: String, sourceLocation: SourceLocation = #_sourceLocation) {
            #expect(result.status == 0, "\(what): \(result)", sourceLocation: sourceLocation)
            #expect(result.stdout.contains("Seccomp:\t2"), "\(what): \(result)", sourceLocation: sourceLocation)
            #expect(result.stdout.contains("Operation not permitted") && result.stdoutLines.last == "unshare=1",
                    "\(what): \(result)", sourceLocation: sourceLocation)
        }
        // A create that fails (here in the init) keeps nothing, the compiled filter included.
        let failing = try box.bundle(["/dev/shm/no-such-program"], name: "failing") {
            SeccompFixtures.setSeccomp(&$0, profile, noNewPrivileges: true)
        }
        let failed = box.crabcan(["create", "--bundle", failing, box.id("sc-cache-0")])
        let left = (try? FileManager.default.contentsOfDirectory(atPath: box.root)) ?? []
        #expect(failed.status == 1 && left.isEmpty, "\(failed); left in --root: \(left)")

        let bundle = try box.bundle(["sh", "-c", script]) { SeccompFixtures.setSeccomp(&$0, profile, noNewPrivileges: true) }
        expectFiltered(box.crabcan(["run", "--bundle", bundle, box.id("sc-cache-1")]), "first run (compiled)")
        let stored = entries()
        try #require(stored.count == 1, "\(stored)")
        let firstInode = inode(stored[0])
        expectFiltered(box.crabcan(["run", "--bundle", bundle, box.id("sc-cache-2")]), "second run (kept filter)")
        #expect(entries() == stored && inode(stored[0]) == firstInode, "the entry was found, not written again")

        let id = try sleeper(box, "sc-cache-exec") { SeccompFixtures.setSeccomp(&$0, profile, noNewPrivileges: true) }
        expectFiltered(box.crabcan(["exec", id, "sh", "-c", script]), "exec (the init's own program)")
        #expect(entries() == stored && inode(stored[0]) == firstInode)
        let listed = box.crabcan(["list", "--quiet"])
        #expect(listed.status == 0 && listed.stdoutLines == [id], "\(listed)")

        // Half an entry (a disk that filled up, a crash): compiled again, and the entry made whole. An exec does
        // not look at the cache at all: it loads the program its container's init loaded.
        let path = cacheDir + "/" + stored[0]
        let whole = try Data(contentsOf: URL(fileURLWithPath: path))
        try whole.prefix(whole.count / 2).write(to: URL(fileURLWithPath: path))
        expectFiltered(box.crabcan(["exec", id, "sh", "-c", script]), "exec after a damaged entry")
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == whole.prefix(whole.count / 2))
        expectFiltered(box.crabcan(["run", "--bundle", bundle, box.id("sc-cache-4")]), "run after a damaged entry")
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == whole)

        // Another profile: its own entry.
        var other = profile
        other["defaultErrnoRet"] = Int(EACCES)
        let otherBundle = try box.bundle(["sh", "-c", script], name: "other") { SeccompFixtures.setSeccomp(&$0, other, noNewPrivileges: true) }
        let result = box.crabcan(["run", "--bundle", otherBundle, box.id("sc-cache-3")])
        #expect(result.status == 0 && result.stdout.contains("Permission denied"), "\(result)")
        #expect(entries().count == 2)
    }

    /// create keeps the container's seccomp program in its state dir (seccomp.bpf) and leaves the profile out of
    /// config.json; exec loads that program, and refuses to run anything when it is gone or damaged rather than
    /// run the process without a filter.
    @Test func execLoadsTheInitsOwnProgramOrNothing() throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        let id = try mkdirRefusingSleeper(box, "sc-kept")
        let state = box.root + "/" + id
        let snapshot = try SeccompFixtures.json(state + "/config.json")
        #expect((snapshot["linux"] as? [String: Any])?["seccomp"] == nil, "\(snapshot)")
        #expect(try String(contentsOfFile: state + "/state.json", encoding: .utf8).contains("\"keptSeccompProgram\":true"))
        let filtered = box.crabcan(["exec", id, "sh", "-c", "mkdir /tmp/made; echo rc=$?"])
        #expect(filtered.status == 0 && filtered.stdout.contains("rc=1"), "\(filtered)")

        let program = try Data(contentsOf: URL(fileURLWithPath: state + "/seccomp.bpf"))
        for (what, damage) in [("damaged", { try program.prefix(program.count / 2).write(to: URL(fileURLWithPath: state + "/seccomp.bpf")) }),
                               ("missing", { try FileManager.default.removeItem(atPath: state + "/seccomp.bpf") })] {
            try damage()
            let refused = box.crabcan(["exec", id, "sh", "-c", "touch /tmp/ran-\(what)"])
            #expect(refused.status != 0 && refused.stderrLines.count == 1 && refused.stderr.contains("seccomp.bpf"),
                    "\(what): \(refused)")
            #expect(!FileManager.default.fileExists(atPath: box.rootfs + "/tmp/ran-\(what)"), "\(what): the process ran")
        }
    }

    // MARK: Profiles written by others (issue 12): each runs busybox to the end, with and without no_new_privs.

    func runsBusybox(under profile: [String: Any], _ name: String) throws {
        for noNewPrivileges in [true, false] {
            let box = try Sandbox()
            defer { box.cleanup() }
            let bundle = try box.bundle(["sh", "-c", "echo under-\(name); id -u; cat /proc/self/status | grep ^Seccomp:"]) {
                SeccompFixtures.setSeccomp(&$0, profile, noNewPrivileges: noNewPrivileges)
            }
            let result = box.crabcan(["run", "--bundle", bundle, box.id("sc-\(name)")])
            #expect(result.status == 0, "\(name), noNewPrivileges \(noNewPrivileges): \(result)")
            #expect(result.stdoutLines.first == "under-\(name)" && result.stdoutLines.dropFirst().first == "0", "\(name): \(result)")
            #expect(result.stdout.contains("Seccomp:\t2"), "\(name): \(result)")
            // Names for other architectures and kernels are routine: at most warnings (which issue 12.8 moves
            // off the container's stderr into --log), never an error.
            #expect(result.stderrLines.allSatisfy { $0.contains("warning:") }, "\(name), noNewPrivileges \(noNewPrivileges): \(result)")
        }
    }

    /// The busybox config's capabilities (`runc spec`'s), which select the profile's conditional rules.
    var busyboxCapabilities: Set<String> {
        get throws {
            let config = try SeccompFixtures.json(Paths.busyboxBundle + "/config.json")
            let process = config["process"] as? [String: Any]
            let sets = process?["capabilities"] as? [String: Any]
            return Set(sets?["bounding"] as? [String] ?? [])
        }
    }

    @Test(.enabled(if: SeccompFixtures.exists(SeccompFixtures.containersCommon),
                   "containers-common's /usr/share/containers/seccomp.json is missing (installed with podman: make clients)"))
    func containersCommonProfileRunsBusybox() throws {
        let profile = SeccompFixtures.ociProfile(containersFormat: try SeccompFixtures.json(SeccompFixtures.containersCommon),
                                                 capabilities: try busyboxCapabilities)
        try runsBusybox(under: profile, "containers-common")
    }

    @Test(.enabled(if: SeccompFixtures.exists(SeccompFixtures.moby),
                   "moby's default seccomp profile is missing (unpacked from golang-github-docker-docker-dev: make seccomp-profiles)"))
    func mobyProfileRunsBusybox() throws {
        let profile = SeccompFixtures.ociProfile(containersFormat: try SeccompFixtures.json(SeccompFixtures.moby),
                                                 capabilities: try busyboxCapabilities)
        try runsBusybox(under: profile, "moby")
    }

    @Test(.enabled(if: SeccompFixtures.exists(SeccompFixtures.runtimeTools),
                   "the runtime-tools generator's config is missing (oci-runtime-tool generate: make seccomp-profiles)"))
    func runtimeToolsProfileRunsBusybox() throws {
        let config = try SeccompFixtures.json(SeccompFixtures.runtimeTools)
        let profile = try #require((config["linux"] as? [String: Any])?["seccomp"] as? [String: Any])
        try runsBusybox(under: profile, "runtime-tools")
    }
}
