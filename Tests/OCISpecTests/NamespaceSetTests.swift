@testable import OCISpec
import Testing

/// The namespace types a config creates, as bits: Set's answers for what crabcan asks of it.
@Suite struct NamespaceSetTests {
    @Test func answersAsASetWouldInDeclarationOrder() {
        var set: NamespaceSet = [.time, .pid, .mount]
        #expect(set.count == 3 && !set.isEmpty)
        #expect(set.contains(.pid) && set.contains(.time) && !set.contains(.user))
        #expect(set.insert(.user).inserted)
        #expect(!set.insert(.pid).inserted)
        #expect(Array(set) == [.pid, .mount, .user, .time])
        #expect(Array(NamespaceSet(NamespaceType.allCases)) == NamespaceType.allCases)
        #expect(NamespaceSet().isEmpty && Array(NamespaceSet()).isEmpty)
        #expect(NamespaceSet([.cgroup, .cgroup]) == [.cgroup])
    }
}
