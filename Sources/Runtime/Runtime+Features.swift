import Capabilities
import Launcher
import OCISpec
import Plan
import Seccomp
import Sys

extension Runtime {
    /// crabcan's own version (`--version`, and an annotation of the features document).
    package static let version = "0.1.0"

    /// The runtime-spec features document for this build (features.md). Lists are derived from the code that
    /// acts on the config wherever it exposes them, so the document cannot claim more than `create` does.
    package static func features() -> Features {
        Features(
            ociVersionMin: "1.0.0",
            // OCISpec accepts any 1.x; this is the newest version whose fields it knows.
            ociVersionMax: specVersion,
            // Hooks are decoded but not run yet (issue 5): recognizing none is the truthful answer.
            hooks: ["prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"],
            // idmap and ridmap are no mount(2) flags: IdmappedMounts takes them, where the kernel can.
            mountOptions: (recognizedMountOptions() + (Mounts.idmapSupported ? MountIDMap.optionNames.sorted() : [])).sorted(),
            linux: Features.Linux(
                namespaces: NamespaceType.allCases.filter { !unsupportedNamespaces.contains($0) }.map(\.rawValue).sorted(),
                capabilities: RecognizedCapabilities.names,
                // cgroupfs on v1 and v2, and the systemd driver (--systemd-cgroup; the user's manager when rootless).
                cgroup: Features.Cgroup(v1: true, v2: true, systemd: true, systemdUser: true, rdma: true),
                seccomp: Features.Seccomp(
                    enabled: true,
                    actions: OCISpec.Seccomp.Action.allCases.map(\.rawValue).sorted(),
                    operators: OCISpec.Seccomp.Operator.allCases.map(\.rawValue).sorted(),
                    archs: SeccompSupport.architectures(),
                    knownFlags: OCISpec.Seccomp.knownFlags,
                    supportedFlags: SeccompSupport.supportedFlags()),
                // Labels are applied when the host has the module (and refused with their path when not).
                apparmor: true, selinux: true,
                intelRdt: false,
                // idmap, ridmap and mounts' own mappings (IdmappedMounts), where the kernel has mount_setattr.
                idmapMounts: Mounts.idmapSupported,
                // Applied by the init (ProcessScheduling) and moved by create (NetDeviceMove).
                memoryPolicyModes: OCISpec.Linux.MemoryPolicy.knownModes,
                memoryPolicyFlags: OCISpec.Linux.MemoryPolicy.knownFlags,
                netDevices: true),
            annotations: [
                "io.github.crabcan.version": version,
                "io.github.seccomp.libseccomp.version": SeccompSupport.libseccompVersion,
            ])
    }

    /// ContainerPlan refuses none now; kept so a namespace type crabcan cannot make stays out of the document.
    static let unsupportedNamespaces: NamespaceSet = []

    /// Every generic mount option name the spec lists (features.md example); the ones MountOptions turns into
    /// mount flags, propagation or a bind (rather than passing them to the filesystem as data) are listed.
    static let candidateMountOptions = [
        "acl", "async", "atime", "bind", "defaults", "dev", "diratime", "dirsync", "exec", "iversion", "lazytime", "loud",
        "mand", "noacl", "noatime", "nodev", "nodiratime", "noexec", "noiversion", "nolazytime", "nomand", "norelatime",
        "nostrictatime", "nosuid", "nosymfollow", "private", "ratime", "rbind", "rdev", "rdiratime", "relatime",
        "remount", "rexec", "rnoatime", "rnodev", "rnodiratime", "rnoexec", "rnorelatime", "rnostrictatime", "rnosuid",
        "rnosymfollow", "ro", "rprivate", "rrelatime", "rro", "rrw", "rshared", "rslave", "rstrictatime", "rsuid",
        "rsymfollow", "runbindable", "rw", "shared", "silent", "slave", "strictatime", "suid", "symfollow", "sync",
        "tmpcopyup", "unbindable",
    ]

    static func recognizedMountOptions() -> [String] {
        candidateMountOptions.filter { MountOptions([$0], type: nil).data.isEmpty }
    }

    package func features() -> [UInt8] { Runtime.features().encode(pretty: true) }
}
