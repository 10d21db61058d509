import CSeccomp
import OCISpec

/// What this build's seccomp support recognizes, for the features document. Architectures and flags are
/// probed by building real filters, so the document says exactly what `create` accepts here.
package enum SeccompSupport {
    /// The libseccomp crabcan was built with (linked statically, so also the one that runs).
    package static let libseccompVersion = "\(SCMP_VER_MAJOR).\(SCMP_VER_MINOR).\(SCMP_VER_MICRO)"

    /// Every SCMP_ARCH_ name some libseccomp release knows; the ones this libseccomp resolves are listed.
    static let candidateArchitectures = [
        "SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM", "SCMP_ARCH_LOONGARCH64", "SCMP_ARCH_M68K", "SCMP_ARCH_MIPS",
        "SCMP_ARCH_MIPS64", "SCMP_ARCH_MIPS64N32", "SCMP_ARCH_MIPSEL", "SCMP_ARCH_MIPSEL64", "SCMP_ARCH_MIPSEL64N32",
        "SCMP_ARCH_PARISC", "SCMP_ARCH_PARISC64", "SCMP_ARCH_PPC", "SCMP_ARCH_PPC64", "SCMP_ARCH_PPC64LE",
        "SCMP_ARCH_RISCV64", "SCMP_ARCH_S390", "SCMP_ARCH_S390X", "SCMP_ARCH_SH", "SCMP_ARCH_SHEB", "SCMP_ARCH_X32",
        "SCMP_ARCH_X86", "SCMP_ARCH_X86_64",
    ]

    package static func architectures() -> [String] {
        candidateArchitectures.filter { accepts(OCISpec.Seccomp(defaultAction: .allow, architectures: [$0])) }
    }

    /// The known flags that this libseccomp (and kernel, for the ones libseccomp checks) lets us set.
    package static func supportedFlags() -> [String] {
        OCISpec.Seccomp.knownFlags.filter { accepts(OCISpec.Seccomp(defaultAction: .allow, flags: [$0])) }
    }

    static func accepts(_ config: OCISpec.Seccomp) -> Bool {
        do {
            _ = try SeccompProgram(config)
            return true
        } catch {
            return false
        }
    }
}
