import OCISpec
import Sys

/// devices: v1's devices.allow/devices.deny files, v2's eBPF program (DeviceProgram.swift) on the cgroup.
enum Devices {
    static func applyV1(_ rules: [DeviceCgroupRule], _ d: String) throws {
        for rule in rules {
            let file = rule.allow ? "devices.allow" : "devices.deny"
            let type = rule.type ?? "a"
            // "a" resets the whole list to allow-all or deny-all (the kernel ignores the rest of the line), which
            // is what a rule for all devices means; runtime-spec configs start with a deny-all like this.
            if type == "a" {
                try CgroupFiles.write(d, file, "a")
                continue
            }
            let major = rule.major.map(String.init) ?? "*"
            let minor = rule.minor.map(String.init) ?? "*"
            // Nothing to allow or deny when the access names none of r, w, m (runc writes no rule either).
            guard !rule.permissions.isEmpty else { continue }
            try CgroupFiles.write(d, file, "\(type) \(major):\(minor) \(rule.permissions)")
        }
    }

    /// A fake hierarchy (unit tests) cannot take a program.
    static func applyV2(_ rules: [DeviceCgroupRule], _ d: String) throws {
        if !rules.isEmpty, !CgroupFiles.isFake(d) { try DeviceProgram(rules: rules).attach(to: d) }
    }
}
