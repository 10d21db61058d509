#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

extension Spec {
    /// The config written by `crabcan spec`, matching `runc spec` (libcontainer/specconv Example and
    /// ToRootless: `terminal: true` and `sh`, the same namespaces, so scripts written for runc work) but for
    /// crabcan's safety additions: a default seccomp profile, and no ambient capabilities (runc's are no-ops).
    /// The rootless variant maps the calling user's effective uid and gid to root in the container.
    package static func makeDefault(rootless: Bool) -> Spec {
        makeDefault(rootless: rootless, hostUID: UInt32(geteuid()), hostGID: UInt32(getegid()))
    }

    /// As `makeDefault(rootless:)` with explicit host ids for the rootless mappings (for tests), and ranges
    /// mapped after them (the caller's /etc/subuid and /etc/subgid ranges as container ids 1 and up).
    package static func makeDefault(rootless: Bool, hostUID: UInt32, hostGID: UInt32,
                                   extraUIDMappings: [IDMapping] = [], extraGIDMappings: [IDMapping] = []) -> Spec {
        // runc's minimal set: enough for a shell, nothing that reaches outside the container.
        let capabilities = ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]
        var spec = Spec(
            ociVersion: Spec.defaultOCIVersion,
            process: Process(
                terminal: true,
                user: User(uid: 0, gid: 0),
                args: ["sh"],
                env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"],
                cwd: "/",
                capabilities: Process.Capabilities(bounding: capabilities, effective: capabilities, permitted: capabilities),
                rlimits: [Process.Rlimit(type: "RLIMIT_NOFILE", hard: 1024, soft: 1024)],
                noNewPrivileges: true),
            root: Root(path: "rootfs", readonly: true),
            hostname: "crabcan",
            mounts: [
                Mount(destination: "/proc", type: "proc", source: "proc"),
                Mount(destination: "/dev", type: "tmpfs", source: "tmpfs",
                      options: ["nosuid", "strictatime", "mode=755", "size=65536k"]),
                Mount(destination: "/dev/pts", type: "devpts", source: "devpts",
                      options: ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]),
                Mount(destination: "/dev/shm", type: "tmpfs", source: "shm",
                      options: ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]),
                Mount(destination: "/dev/mqueue", type: "mqueue", source: "mqueue",
                      options: ["nosuid", "noexec", "nodev"]),
                Mount(destination: "/sys", type: "sysfs", source: "sysfs",
                      options: ["nosuid", "noexec", "nodev", "ro"]),
                Mount(destination: "/sys/fs/cgroup", type: "cgroup", source: "cgroup",
                      options: ["nosuid", "noexec", "nodev", "relatime", "ro"]),
            ],
            linux: Linux(
                namespaces: [
                    Namespace(type: .pid), Namespace(type: .network), Namespace(type: .ipc),
                    // No cgroup namespace, as runc 1.1's spec: a caller that appends its own would have a duplicate.
                    Namespace(type: .uts), Namespace(type: .mount),
                ],
                resources: Resources(devices: [DeviceCgroupRule(allow: false, access: "rwm")]),
                seccomp: .defaultProfile,
                maskedPaths: [
                    "/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
                    "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware", "/proc/scsi",
                ],
                readonlyPaths: ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]))
        if rootless {
            spec.makeRootless(hostUID: hostUID, hostGID: hostGID)
            spec.linux?.uidMappings += extraUIDMappings
            spec.linux?.gidMappings += extraGIDMappings
        }
        return spec
    }

    /// runc's ToRootless: a user namespace mapping one host id to root, no network namespace (an
    /// unprivileged user could not configure one), /sys bind-mounted (sysfs cannot be mounted without
    /// owning the network namespace), no uid=/gid= mount options (unmapped ids), no cgroup resources.
    mutating func makeRootless(hostUID: UInt32, hostGID: UInt32) {
        guard var linux else { return }
        linux.namespaces.removeAll { $0.type == .network || $0.type == .user }
        linux.namespaces.append(Namespace(type: .user))
        linux.uidMappings = [IDMapping(containerID: 0, hostID: hostUID, size: 1)]
        linux.gidMappings = [IDMapping(containerID: 0, hostID: hostGID, size: 1)]
        linux.resources = nil
        self.linux = linux
        mounts = mounts.map { mount in
            if mount.destination == "/sys" {
                return Mount(destination: "/sys", type: "none", source: "/sys", options: ["rbind", "nosuid", "noexec", "nodev", "ro"])
            }
            var mount = mount
            mount.options.removeAll { $0.hasBytePrefix("uid=") || $0.hasBytePrefix("gid=") }
            return mount
        }
    }
}
