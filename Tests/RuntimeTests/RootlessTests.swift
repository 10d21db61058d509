import OCISpec
@testable import Runtime
import Testing

@Suite struct RootlessTests {
    @Test func stateRootFollowsRuncForOrdinaryUsers() throws {
        #expect(try Runtime.stateRoot(uid: 0) { Issue.record("root asked for XDG_RUNTIME_DIR"); return "/run/user/0" } == "/run/crabcan")
        #expect(try Runtime.stateRoot(uid: 1000) { "/run/user/1000" } == "/run/user/1000/crabcan")
        // Unset (or relative): the user's session directory when it exists and is theirs, else a private /tmp one.
        let fallback = try Runtime.stateRoot(uid: 4_000_000_123) { "relative" }
        #expect(fallback == "/tmp/crabcan-4000000123")
    }

    @Test func subordinateRangesAreFoundByNameOrUid() {
        let text = "# comment\nalice:100000:65536\n1001:200000:1000\nbob:bad:1\n"
        #expect(Runtime.subordinateRange(text, user: "alice", id: 1000)! == (100000, 65536))
        #expect(Runtime.subordinateRange(text, user: "carol", id: 1001)! == (200000, 1000))
        #expect(Runtime.subordinateRange(text, user: "bob", id: 1002) == nil)
        #expect(Runtime.subordinateRange(text, user: nil, id: 1003) == nil)
        #expect(Runtime.userName(uid: 1000, passwd: "root:x:0:0::/root:/bin/sh\nalice:x:1000:1000::/home/alice:/bin/sh\n") == "alice")
    }

    @Test func rootlessSpecAddsSubordinateRangesAfterTheCallersOwnIds() {
        let spec = Spec.makeDefault(rootless: true, hostUID: 1000, hostGID: 1001,
                                    extraUIDMappings: [IDMapping(containerID: 1, hostID: 100000, size: 65536)],
                                    extraGIDMappings: [IDMapping(containerID: 1, hostID: 200000, size: 65536)])
        #expect(spec.linux?.uidMappings == [IDMapping(containerID: 0, hostID: 1000, size: 1),
                                            IDMapping(containerID: 1, hostID: 100000, size: 65536)])
        #expect(spec.linux?.gidMappings == [IDMapping(containerID: 0, hostID: 1001, size: 1),
                                            IDMapping(containerID: 1, hostID: 200000, size: 65536)])
        #expect(spec.linux?.namespaces.contains { $0.type == .user } == true)
        #expect(spec.linux?.resources == nil)
    }
}
