import Foundation
import OCISpec
@testable import Plan
import Testing

/// Which configs may run their set-up pinned to one CPU (ContainerPlan.mayPinSetUpCPU): none whose hooks would
/// inherit the pin, and none the init could not give every CPU back to. Root only, as the plans it builds on.
@Suite(.enabled(if: getuid() == 0, "needs root")) struct SetUpCPUPlanTests {
    @Test func hooksAndDeadlineSchedulingKeepTheSetUpFree() throws {
        let make = TreeNamespacePlanTests()
        #expect(try make.plan().mayPinSetUpCPU)
        let hook = [Hook(path: "/bin/true")]
        for hooks in [Hooks(prestart: hook), Hooks(createRuntime: hook), Hooks(createContainer: hook),
                      Hooks(startContainer: hook), Hooks(poststart: hook), Hooks(poststop: hook)] {
            #expect(try !make.plan { $0.hooks = hooks }.mayPinSetUpCPU, "\(hooks)")
        }
        let deadline = Process.Scheduler(policy: "SCHED_DEADLINE", runtime: 10_000_000, deadline: 30_000_000, period: 30_000_000)
        #expect(try !make.plan { $0.process?.scheduler = deadline }.mayPinSetUpCPU)
        #expect(try make.plan { $0.process?.scheduler = Process.Scheduler(policy: "SCHED_BATCH", nice: 3) }.mayPinSetUpCPU)
    }
}
