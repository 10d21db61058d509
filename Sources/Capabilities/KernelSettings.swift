import Glibc
import JSON
import OCISpec
import Sys

/// Kernel settings of the container that need its /proc mounted: `linux.sysctl` and `linux.personality`.
/// Call after pivot_root, before read-only and masked paths (their bind mounts over /proc/sys would make
/// the mount-crossing check below refuse the write).
package struct KernelSettings: Sendable {
    /// Keys in configuration order (sorted: a JSON object has none), with values.
    var sysctl: [(key: String, value: String)] = []
    var persona: UInt?

    static let procSuperMagic = 0x9fa0

    package init(linux: OCISpec.Linux?, newNamespaces: OCISpec.NamespaceSet) throws(PrivilegeError) {
        var problems: [PrivilegeError] = []
        self.init(linux: linux, newNamespaces: newNamespaces, problems: &problems)
        if let first = problems.first { throw first }
    }

    /// Records every problem (for `check`) instead of stopping at the first.
    package init(linux: OCISpec.Linux?, newNamespaces: OCISpec.NamespaceSet, problems: inout [PrivilegeError]) {
        guard let linux else { return }
        for key in linux.sysctl.keys.sorted() {
            let path = ".linux.sysctl[\(jsonQuote(key))]"
            let components = key.split(separator: ".", omittingEmptySubsequences: false)
            guard !components.isEmpty, components.allSatisfy({ !$0.isEmpty && !$0.contains("/") }) else {
                problems.append(PrivilegeError(path: path, message: "not a valid sysctl name"))
                continue
            }
            guard let namespace = Self.namespace(of: key) else {
                problems.append(PrivilegeError(path: path, message: "not a namespaced sysctl; it would change the host"))
                continue
            }
            guard newNamespaces.contains(namespace) else {
                problems.append(PrivilegeError(path: path, message: "needs a new \(namespace.rawValue) namespace"))
                continue
            }
            sysctl.append((key, linux.sysctl[key]!))
        }
        if let personality = linux.personality {
            var value = Names.personalityDomains[personality.domain]
            if value == nil {
                problems.append(PrivilegeError(path: ".linux.personality.domain", message: "unknown personality domain \(jsonQuote(personality.domain))"))
            }
            for (index, flag) in personality.flags.enumerated() {
                guard let bit = Names.personalityFlags[flag] else {
                    problems.append(PrivilegeError(path: ".linux.personality.flags[\(index)]", message: "unknown personality flag \(jsonQuote(flag))"))
                    continue
                }
                value = value.map { $0 | bit }
            }
            persona = value
        }
    }

    /// The namespace that isolates a sysctl (runc's list), or nil when it is global to the host.
    static func namespace(of key: String) -> OCISpec.NamespaceType? {
        if key.hasBytePrefix("kernel.shm") || key.hasBytePrefix("kernel.msg") || key == "kernel.sem" || key.hasBytePrefix("fs.mqueue.") {
            return .ipc
        }
        if key.hasBytePrefix("net.") { return .network }
        if key == "kernel.hostname" || key == "kernel.domainname" { return .uts }
        return nil
    }

    /// Writes each /proc/sys/<key with dots→slashes>. /proc must be a procfs root (inode 1, PROC_SUPER_MAGIC,
    /// not a symlink), and the file is reached from it with openat2 refusing symlinks and mount crossings,
    /// then checked to be on procfs: a container that planted symlinks or bind mounts in /proc cannot redirect
    /// the write to a host file such as /proc/sys/kernel/core_pattern (runc advisories of Nov 2025).
    package func applySysctl() throws(SysError) {
        if sysctl.isEmpty { return }
        let proc = try Files.open("/proc", O_PATH | O_DIRECTORY | O_NOFOLLOW)
        let status = try Files.status(proc)
        guard try Files.fileSystemType(proc) == Self.procSuperMagic, status.st_ino == 1 else {
            throw SysError("check procfs", path: "/proc", errno: EXDEV)
        }
        for (key, value) in sysctl {
            let relative = "sys/" + key.pieces(separatedBy: UInt8(ascii: ".")).joinedText("/")
            let file = try Files.openBeneathNoCrossing(proc, relative, O_WRONLY)
            guard try Files.fileSystemType(file) == Self.procSuperMagic else {
                throw SysError("check procfs", path: "/proc/" + relative, errno: EXDEV)
            }
            do throws(SysError) {
                try file.write(value)
            } catch {
                throw SysError("write sysctl", path: "/proc/\(relative) (\(key)=\(value))", errno: error.errno)
            }
        }
    }

    package func applyPersonality() throws(SysError) {
        if let persona { try Processes.setPersonality(persona) }
    }
}
