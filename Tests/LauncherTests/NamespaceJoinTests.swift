@testable import Launcher
import OCISpec
@testable import Plan
import Testing

@Suite struct NamespaceJoinTests {
    @Test func joinsGoUserFirst() {
        let joins = [ContainerPlan.NamespaceJoin(type: .network, path: "/n"), ContainerPlan.NamespaceJoin(type: .time, path: "/t"),
                     ContainerPlan.NamespaceJoin(type: .pid, path: "/p"), ContainerPlan.NamespaceJoin(type: .user, path: "/u")]
        #expect(NamespaceJoins.ordered(joins).map(\.type) == [.user, .network, .pid, .time])
    }
}
