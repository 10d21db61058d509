import Foundation
import Testing

/// What a container can leave on the host, measured before and after (issue 8: faults, concurrency, soak):
/// mounts, cgroup directories in every hierarchy, files under `--root`, this process's fds, zombies.
struct HostSnapshot: Equatable {
    var mounts: [String]
    var cgroupDirs: Set<String>
    var rootFiles: Set<String>
    var fds: Int
    var zombies: Set<pid_t>

    /// `ids`: the containers whose cgroups count (their directory under any cgroup mount, default path
    /// /crabcan/<id>); `root`: the test's --root.
    static func take(root: String, ids: [String]) -> HostSnapshot {
        HostSnapshot(mounts: HostSnapshot.mountLines(), cgroupDirs: Set(ids.flatMap(HostSnapshot.cgroupDirs)),
                     rootFiles: HostSnapshot.files(under: root), fds: HostSnapshot.openFDs(),
                     zombies: HostSnapshot.zombies())
    }

    /// Mount lines without their ids (a remount elsewhere renumbers nothing, but keep the comparison on what is mounted).
    /// The template mount namespace and its directory are left out: the first create that succeeds makes them, for good.
    static func mountLines() -> [String] {
        Host.mountinfo().split(separator: "\n").map { line in
            line.split(separator: " ").dropFirst(3).joined(separator: " ")
        }.filter { !($0.split(separator: " ").dropFirst().first?.hasPrefix(RuntimeRoot.mountTemplate) ?? false) }
    }

    /// Every cgroup (v1 and v2) mount point on this host, from our mountinfo.
    static let cgroupMounts: [String] = Host.mountinfo().split(separator: "\n").compactMap { line in
        let halves = line.components(separatedBy: " - ")
        guard halves.count == 2, let type = halves[1].split(separator: " ").first,
              type == "cgroup" || type == "cgroup2" else { return nil }
        let fields = halves[0].split(separator: " ")
        return fields.count > 4 ? String(fields[4]) : nil
    }

    /// The container's cgroup directory in each hierarchy where it exists.
    static func cgroupDirs(_ id: String) -> [String] {
        cgroupMounts.map { "\($0)/crabcan/\(id)" }.filter { FileManager.default.fileExists(atPath: $0) }
    }

    /// Every path below `root` (relative), directories included.
    static func files(under root: String) -> Set<String> {
        guard let walker = FileManager.default.enumerator(atPath: root) else { return [] }
        var found: Set<String> = []
        while let path = walker.nextObject() as? String {
            if let first = path.split(separator: "/").first, RuntimeRoot.isKeptOnPurpose(String(first)) { continue }
            found.insert(path)
        }
        return found
    }

    static func openFDs() -> Int {
        ((try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []).count
    }

    /// Zombies whose parent is this process (a child crabcan left unreaped) or that belonged to a container.
    static func zombies() -> Set<pid_t> {
        let me = getpid()
        return Set(Host.pids().filter { pid in
            guard Host.processState(pid) == "Z",
                  let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { return false }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            return fields.count > 1 && pid_t(fields[1]) == me
        })
    }

    /// What grew from `before` to `self`, one phrase per kind; empty when nothing leaked.
    func leaks(since before: HostSnapshot) -> [String] {
        var found: [String] = []
        let newMounts = Set(mounts).subtracting(before.mounts)
        if !newMounts.isEmpty { found.append("mounts: \(newMounts.sorted())") }
        let newCgroups = cgroupDirs.subtracting(before.cgroupDirs)
        if !newCgroups.isEmpty { found.append("cgroup dirs: \(newCgroups.sorted())") }
        let newFiles = rootFiles.subtracting(before.rootFiles)
        if !newFiles.isEmpty { found.append("files under --root: \(newFiles.sorted())") }
        if fds > before.fds { found.append("fds: \(before.fds) -> \(fds)") }
        let newZombies = zombies.subtracting(before.zombies)
        if !newZombies.isEmpty { found.append("zombies: \(newZombies.sorted())") }
        return found
    }
}

extension Sandbox {
    /// `crabcan --root <root> <arguments>` with `CRABCAN_FAULT=<step>` (through env(1), which execs crabcan in place).
    func crabcan(fault step: String, _ arguments: [String], timeout: Double = 10) -> Result {
        Command.run("/usr/bin/env", ["CRABCAN_FAULT=\(step)", Paths.binary, "--root", root] + arguments, timeout: timeout)
    }

    /// Live processes of container `id` (on this sandbox's rootfs, or an init still running crabcan's code).
    func processes(_ id: String) -> [pid_t] { Host.processes(usingRootfs: rootfs, orMentioning: id) }

    /// Nothing of `id` is left: no state dir, no cgroup dir, no process; `state` says it does not exist.
    func expectGone(_ id: String, _ context: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(!stateDirExists(id), "\(context): state dir left", sourceLocation: sourceLocation)
        #expect(HostSnapshot.cgroupDirs(id).isEmpty, "\(context): cgroups left: \(HostSnapshot.cgroupDirs(id))",
                sourceLocation: sourceLocation)
        #expect(eventually(timeout: 5) { self.processes(id).isEmpty }, "\(context): processes left: \(processes(id))",
                sourceLocation: sourceLocation)
        let state = crabcan(["state", id])
        #expect(state.status == 1 && state.stderr.contains("does not exist"), "\(context): \(state)",
                sourceLocation: sourceLocation)
    }
}

/// Killed by SIGKILL at its fault point, at once (not by the test's timeout after a hang).
func diedAtFault(_ result: Result) -> Bool {
    result.signaled && result.status == 128 + SIGKILL && !result.timedOut
}

/// A one-line error: what every failed command must print (issue 8: "one clear error line").
func isOneLineError(_ result: Result) -> Bool {
    result.status == 1 && !result.signaled && result.stderrLines.count == 1
}
