import Testing

@testable import Cgroups
import Sys

/// clone3 CLONE_INTO_CGROUP is used only on kernels whose fork applies the cgroup's cpuset to the child: on Debian
/// 11's 5.10 a child born in a cgroup with `cpuset.cpus` 1 ran with its parent's 0-1 (the cgroup2 guest's
/// cpuset check, booted on bullseye's kernel). The version comes from uname's release, or from the version string
/// where a distribution's release hides the upstream patch level.
@Suite struct BirthInCgroupTests {
    @Test(arguments: [
        // Debian 12, 11 and 13 (trixie-backports), as the guests' kernels name themselves.
        ("6.1.0-28-amd64", "#1 SMP PREEMPT_DYNAMIC Debian 6.1.119-1 (2024-11-22)", "6.1.119", true),
        ("5.10.0-35-amd64", "#1 SMP Debian 5.10.237-1 (2025-05-19)", "5.10.237", false),
        ("7.3.4+deb13-amd64", "#1 SMP PREEMPT_DYNAMIC Debian 7.3.4-1~bpo13+1 (2026-11-20)", "7.3.4", true),
        // Ubuntu 22.04's 5.15 and its 6.2 HWE kernel, whose strings give no upstream patch: taken as unfixed.
        ("5.15.0-91-generic", "#101-Ubuntu SMP Tue Nov 14 13:30:08 UTC 2023", "5.15.0", false),
        ("6.2.0-39-generic", "#40~22.04.1-Ubuntu SMP PREEMPT_DYNAMIC Thu Nov 16 10:53:04 UTC 2", "6.2.0", false),
        ("6.8.0-40-generic", "#40~22.04.3-Ubuntu SMP PREEMPT_DYNAMIC Tue Jul 30 17:30:19 UTC 2", "6.8.0", true),
        // Upstream stable releases on either side of the backports.
        ("6.1.24", "#1 SMP", "6.1.24", false), ("6.1.25", "#1 SMP", "6.1.25", true),
        ("6.2.11-arch1-1", "#1 SMP PREEMPT_DYNAMIC", "6.2.11", false), ("6.2.12-arch1-1", "#1 SMP", "6.2.12", true),
        ("6.18.2", "#1 SMP", "6.18.2", true), ("5.4.0-42-generic", "#46-Ubuntu SMP", "5.4.0", false),
    ])
    func versionAndDecision(_ release: String, _ version: String, _ parsed: String, _ born: Bool) {
        let kernel = KernelVersion(release: release, version: version)
        #expect(kernel?.description == parsed)
        #expect(CgroupV2.cpusetAppliesAtBirth(on: kernel) == born)
    }

    @Test func unparsableReleaseKeepsThePlainPlacement() {
        #expect(KernelVersion(release: "linux", version: "#1") == nil)
        #expect(!CgroupV2.cpusetAppliesAtBirth(on: nil))
    }
}
