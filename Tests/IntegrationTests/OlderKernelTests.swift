import Foundation
import Testing

/// crabcan where the system calls newer than Ubuntu 20.04's Linux 5.4 answer ENOSYS, as they do on that kernel and
/// for a caller in a container whose seccomp profile predates them (runc and crun answer ENOSYS to calls newer
/// than any the profile names). Tests/Programs/deny-syscalls.c loads the filter and execs crabcan, whose processes
/// inherit it.
@Suite(.serialized)
struct OlderKernelTests {
    /// What Linux 5.4 lacks of what crabcan calls, and the calls of 5.5 to 6.6 next to them.
    static let newerThan54 = ["openat2", "close_range", "mount_setattr", "pidfd_getfd", "faccessat2", "epoll_pwait2",
                              "process_madvise", "landlock_create_ruleset", "memfd_secret", "quotactl_fd",
                              "futex_waitv", "fchmodat2"].joined(separator: ",")

    /// `crabcan ARGUMENTS` under the filter.
    static func crabcan(_ box: Sandbox, _ wrapper: String, _ arguments: [String]) -> Result {
        Command.run(wrapper, [newerThan54, Paths.binary, "--root", box.root] + arguments, timeout: 30)
    }

    static func wrapper(_ box: Sandbox) throws -> String {
        let wrapper = box.dir + "/deny-syscalls"
        try SeccompFixtures.compile("deny-syscalls", to: wrapper, isStatic: false, libraries: ["-lseccomp"])
        return wrapper
    }

    /// Without openat2, `create` looked for process.args[0] with it alone and refused every config ("no such file
    /// or directory in the rootfs"), and a sysctl (Docker sets one in every container) failed to open its /proc/sys
    /// file: both walk now. The whole lifecycle then runs: a read-only rootfs and bind, a sysctl, exec, kill,
    /// delete, and nothing left behind.
    @Test(.enabled(if: SeccompFixtures.haveGCC && getuid() == 0, "needs gcc and root"))
    func lifecycleRunsWithLinux54SystemCalls() throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        let wrapper = try Self.wrapper(box)
        let data = box.dir + "/data"
        try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
        try "seen\n".write(toFile: data + "/file", atomically: false, encoding: .utf8)
        let bundle = try box.bundle(["sh", "-c", "cat /data/file; touch /data/new 2>/dev/null || echo ro-bind; "
                                     + "touch /new 2>/dev/null || echo ro-root; sleep 30"], readonly: true) { config in
            var mounts = config["mounts"] as! [[String: Any]]
            mounts.append(["destination": "/data", "type": "bind", "source": data, "options": ["rbind", "ro"]])
            config["mounts"] = mounts
            // Docker sets this one in every container; the write goes through procfs without openat2 too.
            var linux = config["linux"] as! [String: Any]
            linux["sysctl"] = ["net.ipv4.ip_unprivileged_port_start": "0"]
            config["linux"] = linux
        }
        let id = box.id("k54")
        let create = Self.crabcan(box, wrapper, ["create", "--bundle", bundle, id])
        #expect(create.status == 0 && create.stderr.isEmpty, "\(create)")
        let start = Self.crabcan(box, wrapper, ["start", id])
        #expect(start.status == 0, "\(start)")
        let exec = Self.crabcan(box, wrapper, ["exec", id, "sh", "-c", "cat /data/file /proc/sys/net/ipv4/ip_unprivileged_port_start; "
                                                + "echo pid1=$(cat /proc/1/comm)"])
        #expect(exec.status == 0 && exec.stdout == "seen\n0\npid1=sleep\n", "\(exec)")
        // The read-only paths keep their four flags without the newer mount calls too.
        let readonly = Self.crabcan(box, wrapper, ["exec", id, "awk", "$5 == \"/proc/sys\" { print $6 }", "/proc/self/mountinfo"])
        let options = readonly.stdout.split(separator: "\n").last.map { $0.split(separator: ",") } ?? []
        #expect(["ro", "nosuid", "nodev", "noexec"].allSatisfy { options.contains(Substring($0)) }, "\(readonly)")
        let kill = Self.crabcan(box, wrapper, ["kill", id, "KILL"])
        #expect(kill.status == 0, "\(kill)")
        #expect(box.waitForStatus(id, "stopped"))
        let delete = Self.crabcan(box, wrapper, ["delete", id])
        #expect(delete.status == 0 && !box.stateDirExists(id), "\(delete)")
        #expect(!FileManager.default.fileExists(atPath: data + "/new"))
    }

    /// The configs Docker, podman and containerd wrote (Tests/Golden/foreign/) under the same filter: Docker's set a
    /// sysctl, whose /proc/sys open was openat2 alone (the cgroup2 guest's `oldercalls` group found it). Each runs
    /// to its exit status with nothing on stderr and nothing left.
    @Test(.enabled(if: SeccompFixtures.haveGCC && getuid() == 0, "needs gcc and root"), arguments: CrabcanCLI.foreignConfigs)
    func foreignConfigRunsWithLinux54SystemCalls(name: String) throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        let wrapper = try Self.wrapper(box)
        let id = box.id("k54-foreign")
        let (bundle, config) = try CrabcanCLI.foreignBundle(box, name, noNewPrivileges: true,
                                                            args: ["sh", "-c", "touch /probe 2>/dev/null && echo rw || echo ro; exit 7"],
                                                            cgroup: "crabcan-it-k54-" + id)
        let readonly = (config["root"] as? [String: Any])?["readonly"] as? Bool ?? false
        let run = Self.crabcan(box, wrapper, ["run", "--bundle", bundle, id])
        #expect(run.status == 7 && run.stderr.isEmpty, "\(name): \(run)")
        #expect(run.stdout.replacingOccurrences(of: "\r\n", with: "\n") == (readonly ? "ro\n" : "rw\n"), "\(name): \(run)")
        box.expectGone(id, name)
    }

    /// The walk that stands in for openat2 resolves args[0] inside the rootfs, as the init will: an absolute
    /// symlink to a host program that the rootfs lacks is refused, and a program reached through symlinks runs.
    @Test(.enabled(if: SeccompFixtures.haveGCC && getuid() == 0, "needs gcc and root"))
    func programLookupStaysInTheRootfsWithoutOpenat2() throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        let wrapper = try Self.wrapper(box)
        // The host has /usr/bin/gcc (this suite needs it); the busybox rootfs has no /usr/bin/gcc.
        try FileManager.default.createSymbolicLink(atPath: box.rootfs + "/bin/escape", withDestinationPath: "/usr/bin/gcc")
        // One `..` more than the depth: it stays at the rootfs's root, as the kernel's lookup there does.
        try FileManager.default.createDirectory(atPath: box.rootfs + "/usr/local/bin", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: box.rootfs + "/usr/local/bin/sh", withDestinationPath: "../../../../bin/busybox")
        let escaping = try box.bundle(["/bin/escape", "--version"], name: "escaping")
        let refused = Self.crabcan(box, wrapper, ["run", "--bundle", escaping, box.id("escape")])
        #expect(refused.status == 1 && refused.stderrLines.count == 1
                && refused.stderr.contains(".process.args[0]: \"/bin/escape\": no such file or directory in the rootfs"),
                "\(refused)")
        #expect(box.rootEntries().isEmpty)
        let hopping = try box.bundle(["/usr/local/bin/sh", "-c", "echo hopped"], name: "hopping")
        let ran = Self.crabcan(box, wrapper, ["run", "--bundle", hopping, box.id("hop")])
        #expect(ran.status == 0 && ran.stdout == "hopped\n", "\(ran)")
    }
}
