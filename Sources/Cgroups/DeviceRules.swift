import OCISpec

/// The device cgroup rules a container runs under: the config's `linux.resources.devices`, then allows for
/// the devices every container gets (runtime-spec "Default Devices", plus /dev/pts/*, /dev/ptmx,
/// /dev/net/tun and mknod of any node: runc 1.1's AllowedDevices exactly). No 5:1: a container's /dev/console
/// is its pty (136:*), so runc allows no /dev/console device, and neither does crabcan. Rules apply in order, so these allows come
/// after a config's deny-all, which they would otherwise lose to.
/// `linux.devices` adds no rule: it says which nodes exist, not what may be accessed (runc and crun alike);
/// a client that wants access to one writes the allow itself (Docker, podman and containerd do).
package enum DeviceRules {
    package static let defaults: [DeviceCgroupRule] = [
        DeviceCgroupRule(allow: true, type: "c", major: nil, minor: nil, access: "m"),
        DeviceCgroupRule(allow: true, type: "b", major: nil, minor: nil, access: "m"),
        DeviceCgroupRule(allow: true, type: "c", major: 1, minor: 3, access: "rwm"),    // null
        DeviceCgroupRule(allow: true, type: "c", major: 1, minor: 5, access: "rwm"),    // zero
        DeviceCgroupRule(allow: true, type: "c", major: 1, minor: 7, access: "rwm"),    // full
        DeviceCgroupRule(allow: true, type: "c", major: 1, minor: 8, access: "rwm"),    // random
        DeviceCgroupRule(allow: true, type: "c", major: 1, minor: 9, access: "rwm"),    // urandom
        DeviceCgroupRule(allow: true, type: "c", major: 5, minor: 0, access: "rwm"),    // tty
        DeviceCgroupRule(allow: true, type: "c", major: 5, minor: 2, access: "rwm"),    // ptmx
        DeviceCgroupRule(allow: true, type: "c", major: 136, minor: nil, access: "rwm"), // pts/*
        DeviceCgroupRule(allow: true, type: "c", major: 10, minor: 200, access: "rwm"), // net/tun
    ]

    package static func effective(_ linux: Linux?) -> Resources {
        var resources = linux?.resources ?? Resources()
        resources.devices += defaults
        return resources
    }
}
