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

    @Test func labelsNeedTheirModule() {
        let none = LSMHost(appArmor: false, seLinux: false)
        #expect(throws: ConfigProblem(".process.apparmorProfile", "AppArmor is not enabled on this host, so profile \"p\" cannot be applied")) {
            try SecurityLabels(process: Self.process(apparmor: "p"), linux: nil, host: none)
        }
        #expect(throws: ConfigProblem.self) { try SecurityLabels(process: Self.process(selinux: "l"), linux: nil, host: none) }
        var linux = OCISpec.Linux()
        linux.mountLabel = "system_u:object_r:container_file_t:s0"
        #expect(throws: ConfigProblem.self) { try SecurityLabels(process: Self.process(), linux: linux, host: none) }
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
