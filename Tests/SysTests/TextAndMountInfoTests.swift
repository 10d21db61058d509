import Testing

@testable import Sys

/// The byte-level stand-ins for what the binary leaves out of the standard library (_StringProcessing, the
/// Unicode tables) must give the same answers on the text crabcan reads.
@Suite struct ASCIITextTests {
    @Test func substringSearch() {
        #expect("Error (criu/cr-dump.c:1): Can't dump".containsText("Error"))
        #expect("a,b".containsText(","))
        #expect(!"Erro".containsText("Error"))
        #expect("anything".containsText(""))
        #expect("héllo wörld".containsText("wörld"))
        #expect(!"".containsText("x"))
    }

    @Test func asciiCaseAndDigits() {
        #expect("sigKill".asciiUppercased() == "SIGKILL")
        #expect("X86_64".asciiLowercased() == "x86_64")
        #expect("élan".asciiUppercased() == "éLAN")  // only ASCII letters change
        #expect("0123456789".allSatisfy { $0.isASCIIDigit })
        #expect(!"٣".first!.isASCIIDigit)  // an Arabic-Indic digit is a number, not an ASCII digit
        #expect(!"a".first!.isASCIIDigit)
    }
}

@Suite struct MountInfoTests {
    static let text = """
        22 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw
        30 22 0:26 / /sys/fs/cgroup/memory rw,nosuid shared:9 master:2 - cgroup cgroup rw,memory
        31 22 0:27 /docker/abc /sys/fs/cgroup/cpu rw - cgroup cgroup rw,cpu,cpuacct
        40 22 0:30 / /mnt/with\\040space\\134slash rw - tmpfs my\\040tmp rw,size=4k
        41 22 0:31 / /proc rw,nosuid - proc proc rw
        garbage line without the separator
        42 22 0:32 / /short - x
        """

    @Test func fieldsOptionalFieldsAndEscapes() {
        let entries = MountInfo.parse(Self.text)
        #expect(entries.map(\.mountPoint) == ["/", "/sys/fs/cgroup/memory", "/sys/fs/cgroup/cpu", "/mnt/with space\\slash", "/proc"])
        #expect(entries[0].optionalFields == ["shared:1"])
        #expect(entries[1].optionalFields == ["shared:9", "master:2"])
        #expect(entries[2].optionalFields.isEmpty)
        #expect(entries[2].root == "/docker/abc")
        #expect(entries[2].superOptions == ["rw", "cpu", "cpuacct"])
        #expect(entries[3].source == "my tmp")
        #expect(entries[3].fsType == "tmpfs")
    }

    @Test func keepsOnlyTheAskedTypes() {
        let cgroups = MountInfo.parse(Self.text, fsTypes: ["cgroup", "cgroup2"])
        #expect(cgroups.map(\.mountPoint) == ["/sys/fs/cgroup/memory", "/sys/fs/cgroup/cpu"])
    }

    @Test func readsThisProcess() throws {
        let entries = try MountInfo.read()
        #expect(entries.contains { $0.mountPoint == "/" })
        #expect(entries.contains { $0.fsType == "proc" })
    }
}
