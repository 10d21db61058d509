import Capabilities
import OCISpec
import Testing

@Suite struct SecurityLabelTests {
    static func process(apparmor: String? = nil, selinux: String? = nil) -> OCISpec.Process {
        var process = OCISpec.Process()
        process.apparmorProfile = apparmor
        process.selinuxLabel = selinux
        return process
    }

    @Test func labelsNeedTheirModule() throws {
        let none = LSMHost(appArmor: false, seLinux: false)
        #expect(throws: ConfigProblem(".process.apparmorProfile", "AppArmor is not enabled on this host, so profile \"p\" cannot be applied")) {
            try SecurityLabels(process: Self.process(apparmor: "p"), linux: nil, host: none)
        }
        #expect(throws: ConfigProblem.self) { try SecurityLabels(process: Self.process(selinux: "l"), linux: nil, host: none) }
        var linux = OCISpec.Linux()
        linux.mountLabel = "system_u:object_r:container_file_t:s0"
        // A mount label alone confines nothing: dropped with a warning, mounts stay unlabeled (docs/conformance.md).
        let labels = try SecurityLabels(process: Self.process(), linux: linux, host: none)
        #expect(labels.mountLabel == nil && labels.labeledMountData("mode=755") == "mode=755")
        #expect(labels.warnings == [ConfigProblem(".linux.mountLabel", "SELinux is not enabled on this host; mount label \"system_u:object_r:container_file_t:s0\" ignored")])
        // With a process label it is still refused, for the process label.
        #expect(throws: ConfigProblem(".process.selinuxLabel", "SELinux is not enabled on this host, so label \"l\" cannot be applied")) {
            try SecurityLabels(process: Self.process(selinux: "l"), linux: linux, host: none)
        }
    }

    @Test func labelsAreKeptWhenTheModuleIsThereAndMountDataIsLabeled() throws {
        var linux = OCISpec.Linux()
        linux.mountLabel = "system_u:object_r:container_file_t:s0"
        let labels = try SecurityLabels(process: Self.process(apparmor: "p", selinux: "l"), linux: linux,
                                        host: LSMHost(appArmor: true, seLinux: true))
        #expect(labels.appArmorProfile == "p" && labels.processLabel == "l")
        #expect(labels.labeledMountData("mode=755") == "mode=755,context=\"system_u:object_r:container_file_t:s0\"")
        #expect(labels.labeledMountData(nil) == "context=\"system_u:object_r:container_file_t:s0\"")
    }

    @Test func noLabelsAskedIsFineAnywhere() throws {
        let labels = try SecurityLabels(process: Self.process(), linux: nil, host: LSMHost(appArmor: false, seLinux: false))
        #expect(labels.labeledMountData("size=1m") == "size=1m")
        #expect(labels.appArmorProfile == nil)
    }
}
