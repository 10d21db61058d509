import Glibc
import JSON
import Sys

/// One `linux.netDevices` entry: a device of the runtime's network namespace that `create` moves into the
/// container's (rtnetlink RTM_NEWLINK with IFLA_NET_NS_FD and the new IFLA_IFNAME), before the init is ready.
/// Nothing moves it back: when the container's namespace goes, the kernel returns a physical device to the
/// initial namespace and deletes a virtual one (as with runc).
package struct NetDeviceMove: Sendable, Equatable {
    package var hostName: String
    package var index: UInt32
    package var name: String

    /// The kernel's rules for an interface name (dev_valid_name): 1-15 bytes, no '/', ':' or white space.
    static func badName(_ name: String) -> String? {
        let bytes = Array(name.utf8)
        if bytes.isEmpty || bytes.count > 15 || name == "." || name == ".." {
            return "\(jsonQuote(name)) is not a valid interface name (1 to 15 bytes)"
        }
        if bytes.contains(where: { $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: ":") || $0 <= 0x20 || $0 == 0x7f }) {
            return "\(jsonQuote(name)) is not a valid interface name (no '/', ':' or white space)"
        }
        return nil
    }

    /// In `create`, once the init (pid) exists in its network namespace.
    package static func moveAll(_ devices: [NetDeviceMove], into pid: pid_t) throws {
        guard !devices.isEmpty else { return }
        let netns = try Files.open("/proc/\(pid)/ns/net", O_RDONLY | O_CLOEXEC)
        defer { netns.close() }
        for device in devices {
            do {
                try Netlink.moveLink(index: device.index, toNamespace: netns, as: device.name)
            } catch {
                throw PlanError(".linux.netDevices[\(jsonQuote(device.hostName))]", "moving into the container as \(jsonQuote(device.name)): \(error)")
            }
        }
    }
}
