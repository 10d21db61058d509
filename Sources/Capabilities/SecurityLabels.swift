import Glibc
import JSON
import OCISpec
import Sys

/// Which Linux security modules this host has enabled.
package struct LSMHost: Sendable, Equatable {
    package var appArmor: Bool
    package var seLinux: Bool

    package init(appArmor: Bool, seLinux: Bool) {
        self.appArmor = appArmor
        self.seLinux = seLinux
    }

    /// AppArmor: the module parameter says Y. SELinux: selinuxfs is a known file system (it registers only when enabled).
    package static func detect() -> LSMHost {
        let appArmor = (try? Files.readText("/sys/module/apparmor/parameters/enabled"))?.hasBytePrefix("Y") ?? false
        let seLinux = (try? Files.readText("/proc/filesystems"))?.containsText("selinuxfs") ?? false
        return LSMHost(appArmor: appArmor, seLinux: seLinux)
    }
}

/// `process.apparmorProfile` and `process.selinuxLabel`: refused with the field's path when the host lacks the
/// module (running less confined than asked would be worse), applied on execve otherwise. `linux.mountLabel`
/// labels new file systems where SELinux is on, and is dropped with a warning where it is not.
package struct SecurityLabels: Sendable {
    package var appArmorProfile: String?
    package var processLabel: String?
    package var mountLabel: String?
    /// What was requested and dropped because it means nothing on this host.
    package var warnings: [ConfigProblem] = []

    package init(process: OCISpec.Process, linux: OCISpec.Linux?, host: @autoclosure () -> LSMHost = .detect()) throws(ConfigProblem) {
        var problems: [ConfigProblem] = []
        self.init(process: process, linux: linux, host: host(), problems: &problems)
        if let first = problems.first { throw first }
    }

    /// Records every problem (for `check`) instead of stopping at the first.
    /// The host is asked only when a label is: most configs have none, and a container needs no probe then.
    package init(process: OCISpec.Process, linux: OCISpec.Linux?, host probe: @autoclosure () -> LSMHost = .detect(),
                problems: inout [ConfigProblem]) {
        let asked = !(process.apparmorProfile ?? "").isEmpty || !(process.selinuxLabel ?? "").isEmpty || !(linux?.mountLabel ?? "").isEmpty
        guard asked else { return }
        let host = probe()
        if let profile = process.apparmorProfile, !profile.isEmpty {
            if host.appArmor {
                appArmorProfile = profile
            } else {
                problems.append(ConfigProblem(".process.apparmorProfile", "AppArmor is not enabled on this host, so profile \(jsonQuote(profile)) cannot be applied"))
            }
        }
        if let label = process.selinuxLabel, !label.isEmpty {
            if host.seLinux {
                processLabel = label
            } else {
                problems.append(ConfigProblem(".process.selinuxLabel", "SELinux is not enabled on this host, so label \(jsonQuote(label)) cannot be applied"))
            }
        }
        if let label = linux?.mountLabel, !label.isEmpty {
            if host.seLinux {
                mountLabel = label
            } else {
                // A file label confines nothing by itself (only a process label is enforced against it), and
                // without SELinux no policy reads it: dropped with a warning, as crun (docs/conformance.md).
                warnings.append(ConfigProblem(".linux.mountLabel", "SELinux is not enabled on this host; mount label \(jsonQuote(label)) ignored"))
            }
        }
    }

    /// The mount data that labels a new file system (`context="…"`), as runc adds it.
    package func labeledMountData(_ data: String?) -> String? {
        guard let mountLabel else { return data }
        let context = "context=\"\(mountLabel)\""
        return data.map { $0 + "," + context } ?? context
    }

    /// Sets the labels the next execve takes on. Called in the init before no_new_privs. The attr files are
    /// reached from a /proc checked to be procfs, by pid and without symlinks or mount crossings, so a container
    /// cannot redirect the write to another file (runc advisories of November 2025).
    package func apply() throws(SysError) {
        guard appArmorProfile != nil || processLabel != nil else { return }
        let proc = try Files.open("/proc", O_PATH | O_DIRECTORY | O_NOFOLLOW)
        guard try Files.fileSystemType(proc) == 0x9fa0 else { throw SysError("verify procfs", path: "/proc", errno: EXDEV) }
        let pid = Processes.pid
        if let profile = appArmorProfile {
            try write("exec \(profile)", to: "\(pid)/attr/apparmor/exec", fallback: "\(pid)/attr/exec", in: proc)
        }
        if let label = processLabel {
            try write(label, to: "\(pid)/attr/exec", fallback: nil, in: proc)
        }
    }

    private func write(_ value: String, to path: String, fallback: String?, in proc: FileDescriptor) throws(SysError) {
        let file: FileDescriptor
        do {
            file = try Files.openBeneathNoCrossing(proc, path, O_WRONLY)
        } catch {
            guard let fallback, error.errno == ENOENT else { throw error }
            file = try Files.openBeneathNoCrossing(proc, fallback, O_WRONLY)
        }
        guard try Files.fileSystemType(file) == 0x9fa0 else { throw SysError("verify procfs", path: path, errno: EXDEV) }
        try file.write(value)
    }
}
