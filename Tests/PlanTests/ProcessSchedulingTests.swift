import OCISpec
@testable import Plan
import Testing

/// CPU and node lists as the kernel's bitmaps, and the values refused before clone with their JSON paths.
@Suite struct ProcessSchedulingTests {
    @Test func listsBecomeBitmaps() {
        var problems: [ConfigProblem] = []
        #expect(ProcessScheduling.bitmap("0-3,7", path: ".p", problems: &problems) == [0x8f])
        #expect(ProcessScheduling.bitmap("64", path: ".p", problems: &problems) == [0, 1])
        #expect(ProcessScheduling.bitmap(" 1 , 3-4", path: ".p", problems: &problems) == [0x1a])
        #expect(ProcessScheduling.bitmap("", path: ".p", problems: &problems) == nil)
        #expect(problems.isEmpty)
        for bad in ["3-1", "x", "1,,2", "-1", "0-9000", "1-2-3", "1\n"] {
            var found: [ConfigProblem] = []
            #expect(ProcessScheduling.bitmap(bad, path: ".p", problems: &found) == nil, "\(bad)")
            #expect(found.first?.path == ".p", "\(bad)")
        }
    }

    @Test func initWarnsAboutExecCPUAffinityAndRefusesWhatTheKernelWould() {
        var process = OCISpec.Process()
        process.execCPUAffinity = .init(initial: "0", final: "0")
        process.scheduler = .init(policy: "SCHED_RR", nice: 30, priority: 0, flags: [], runtime: nil, deadline: nil, period: nil)
        var linux = OCISpec.Linux()
        linux.memoryPolicy = .init(mode: "MPOL_LOCAL", nodes: "0", flags: [])
        var problems: [ConfigProblem] = [], warnings: [ConfigProblem] = []
        let scheduling = ProcessScheduling(process: process, linux: linux, prefix: ".process", isInit: true,
                                           problems: &problems, warnings: &warnings)
        #expect(problems.map(\.path) == [".process.scheduler.nice", ".process.scheduler.priority", ".linux.memoryPolicy.nodes"])
        #expect(warnings.map(\.path) == [".process.execCPUAffinity"])
        #expect(scheduling.initialAffinity == nil && scheduling.finalAffinity == nil)
    }
}
