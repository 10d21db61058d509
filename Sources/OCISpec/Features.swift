import JSON

/// The runtime-spec features document (features.md, features-linux.md): what this build of the runtime
/// recognizes, printed by `crabcan features`. Only the properties of the spec version in `ociVersionMax`.
package struct Features: Sendable, Equatable {
    package var ociVersionMin: String
    package var ociVersionMax: String
    package var hooks: [String]
    package var mountOptions: [String]
    package var linux: Linux
    package var annotations: [String: String]

    package init(ociVersionMin: String, ociVersionMax: String, hooks: [String], mountOptions: [String], linux: Linux,
                annotations: [String: String]) {
        self.ociVersionMin = ociVersionMin
        self.ociVersionMax = ociVersionMax
        self.hooks = hooks
        self.mountOptions = mountOptions
        self.linux = linux
        self.annotations = annotations
    }

    package struct Linux: Sendable, Equatable {
        package var namespaces: [String]
        package var capabilities: [String]
        package var cgroup: Cgroup
        package var seccomp: Seccomp
        package var apparmor: Bool
        package var selinux: Bool
        package var intelRdt: Bool
        package var idmapMounts: Bool
        /// `linux.memoryPolicy` modes and flags recognized (and applied); `linux.netDevices` supported.
        package var memoryPolicyModes: [String]
        package var memoryPolicyFlags: [String]
        package var netDevices: Bool

        package init(namespaces: [String], capabilities: [String], cgroup: Cgroup, seccomp: Seccomp, apparmor: Bool,
                    selinux: Bool, intelRdt: Bool, idmapMounts: Bool, memoryPolicyModes: [String] = [],
                    memoryPolicyFlags: [String] = [], netDevices: Bool = false) {
            self.memoryPolicyModes = memoryPolicyModes
            self.memoryPolicyFlags = memoryPolicyFlags
            self.netDevices = netDevices
            self.namespaces = namespaces
            self.capabilities = capabilities
            self.cgroup = cgroup
            self.seccomp = seccomp
            self.apparmor = apparmor
            self.selinux = selinux
            self.intelRdt = intelRdt
            self.idmapMounts = idmapMounts
        }
    }

    package struct Cgroup: Sendable, Equatable {
        package var v1, v2, systemd, systemdUser, rdma: Bool

        package init(v1: Bool, v2: Bool, systemd: Bool, systemdUser: Bool, rdma: Bool) {
            self.v1 = v1
            self.v2 = v2
            self.systemd = systemd
            self.systemdUser = systemdUser
            self.rdma = rdma
        }
    }

    package struct Seccomp: Sendable, Equatable {
        package var enabled: Bool
        package var actions, operators, archs, knownFlags, supportedFlags: [String]

        package init(enabled: Bool, actions: [String], operators: [String], archs: [String], knownFlags: [String],
                    supportedFlags: [String]) {
            self.enabled = enabled
            self.actions = actions
            self.operators = operators
            self.archs = archs
            self.knownFlags = knownFlags
            self.supportedFlags = supportedFlags
        }
    }

    /// Keys in the order of runc's `features` and the spec's example.
    package func encode(pretty: Bool) -> [UInt8] {
        let w = JSONWriter(pretty: pretty)
        w.beginObject()
        w.field("ociVersionMin", ociVersionMin)
        w.field("ociVersionMax", ociVersionMax)
        w.field("hooks", hooks)
        w.field("mountOptions", mountOptions)
        w.key("linux")
        w.beginObject()
        w.field("namespaces", linux.namespaces)
        w.field("capabilities", linux.capabilities)
        w.key("cgroup")
        w.beginObject()
        w.field("v1", linux.cgroup.v1)
        w.field("v2", linux.cgroup.v2)
        w.field("systemd", linux.cgroup.systemd)
        w.field("systemdUser", linux.cgroup.systemdUser)
        w.field("rdma", linux.cgroup.rdma)
        w.endObject()
        w.key("seccomp")
        w.beginObject()
        w.field("enabled", linux.seccomp.enabled)
        w.field("actions", linux.seccomp.actions)
        w.field("operators", linux.seccomp.operators)
        w.field("archs", linux.seccomp.archs)
        w.field("knownFlags", linux.seccomp.knownFlags)
        w.field("supportedFlags", linux.seccomp.supportedFlags)
        w.endObject()
        for (name, enabled) in [("apparmor", linux.apparmor), ("selinux", linux.selinux), ("intelRdt", linux.intelRdt)] {
            w.key(name)
            w.beginObject()
            w.field("enabled", enabled)
            w.endObject()
        }
        w.key("memoryPolicy")
        w.beginObject()
        w.field("modes", linux.memoryPolicyModes)
        w.field("flags", linux.memoryPolicyFlags)
        w.endObject()
        w.key("mountExtensions")
        w.beginObject()
        w.key("idmap")
        w.beginObject()
        w.field("enabled", linux.idmapMounts)
        w.endObject()
        w.endObject()
        w.key("netDevices")
        w.beginObject()
        w.field("enabled", linux.netDevices)
        w.endObject()
        w.endObject()
        w.field("annotations", annotations)
        w.endObject()
        return w.bytes
    }
}

extension Linux.MemoryPolicy {
    /// The `linux.memoryPolicy` modes and flags the decoder accepts (features.md: memoryPolicy).
    package static let knownModes = Vocabulary.memoryPolicyModes
    package static let knownFlags = Vocabulary.memoryPolicyFlags
}

extension Seccomp {
    /// The `linux.seccomp.flags` names the decoder accepts (each is then applied or refused by the Seccomp module).
    package static let knownFlags = Vocabulary.seccompFlags
}
