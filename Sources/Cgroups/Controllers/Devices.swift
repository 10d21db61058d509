import OCISpec
import Sys

/// devices: v1's devices.allow/devices.deny files, v2's eBPF program (DeviceProgram.swift) on the cgroup.
enum Devices {
    /// `madeNow`: `d` was made by this create, so it holds its parent's list and nothing of its own.
    static func applyV1(_ rules: [DeviceCgroupRule], _ d: String, madeNow: Bool) throws {
        // Allowing by default (devices.list `a *:* rwm`), an allow rule only takes back a deny exception, and a cgroup
        // just made holds only its parent's, which the kernel will not take back (EPERM): each allow rule would
        // change nothing or be refused. runc's emulator, which sees the same list, writes nothing for them; one
        // read stands for the eleven writes of a config without a deny-all, each a parse and a walk of the list.
        if madeNow, !rules.contains(where: { !$0.allow }),
           (try? CgroupFiles.read(d, "devices.list")) == allowsEverything { return }
        // One rule per write, in order, through one open file each for allow and deny.
        var allow: CgroupFiles.Writer?
        var deny: CgroupFiles.Writer?
        for rule in rules {
            let file: CgroupFiles.Writer
            if rule.allow {
                file = allow ?? CgroupFiles.Writer(d, "devices.allow")
                allow = file
            } else {
                file = deny ?? CgroupFiles.Writer(d, "devices.deny")
                deny = file
            }
            let type = rule.type ?? "a"
            // "a" resets the whole list to allow-all or deny-all (the kernel ignores the rest of the line), which
            // is what a rule for all devices means; runtime-spec configs start with a deny-all like this.
            if type == "a" {
                try file.write("a")
                continue
            }
            let major = rule.major.map { DecimalText.of($0) } ?? "*"
            let minor = rule.minor.map { DecimalText.of($0) } ?? "*"
            // Nothing to allow or deny when the access names none of r, w, m (runc writes no rule either).
            guard !rule.permissions.isEmpty else { continue }
            try file.write("\(type) \(major):\(minor) \(rule.permissions)")
        }
    }

    /// devices.list of a cgroup whose devices are not restricted (the kernel's DEVCG_DEFAULT_ALLOW, no exception).
    static let allowsEverything = "a *:* rwm\n"

    /// A fake hierarchy (unit tests) cannot take a program.
    static func applyV2(_ rules: [DeviceCgroupRule], _ d: String) throws {
        if !rules.isEmpty, !CgroupFiles.isFake(d) { try DeviceProgram(rules: rules).attach(to: d) }
    }
}
