@testable import Launcher
import Testing

@Suite struct SyncProtocolTests {
    @Test func messagesRoundTrip() {
        let failure = ChildFailure(message: "mount proc on /proc: EPERM (operation not permitted)", errno: 1, stage: .rootfs)
        for message in [SyncMessage.spawned(4242), .placed, .listener(7), .listener(-1), .listenerWanted, .listenerTaken, .console, .hooks,
                        .hooksRan(Array("{}\u{0}{}".utf8)), .hooksRan([]), .trace([]),
                        .trace([StageTime(stage: .isolating, nanoseconds: 0), StageTime(stage: .rootfs, nanoseconds: 1 << 40)]), .ready, .committed, .start, .warning("no keyring"),
                        .warning(""), .failed(failure)] {
            #expect(SyncMessage(decoding: message.encoded()) == message)
        }
        #expect(SyncMessage(decoding: []) == nil)
        #expect(SyncMessage(decoding: [42]) == nil)
        #expect(SyncMessage(decoding: [6, 0]) == nil)
        #expect(SyncMessage(decoding: [10, 0]) == nil)
        // A trace is whole (stage, 8 bytes) records of known stages.
        #expect(SyncMessage(decoding: [9, 1, 0]) == nil)
        #expect(SyncMessage(decoding: [9, 99, 0, 0, 0, 0, 0, 0, 0, 0]) == nil)
        #expect(SyncMessage(decoding: [1, 1, 0]) == nil)
        // A failure names a stage that exists.
        #expect(SyncMessage(decoding: [13, 99, 1, 0, 0, 0]) == nil)
    }

    /// Each message has its own tag, in the order of the steps (docs/design.md), so no two are told apart by length.
    @Test func tagsAreUniqueAndInStepOrder() {
        let inStepOrder: [SyncMessage] = [.spawned(1), .placed, .listener(3), .listenerWanted, .listenerTaken, .console, .hooks,
                                          .hooksRan([]), .trace([]), .ready, .committed, .warning("w"),
                                          .failed(ChildFailure(message: "f", errno: 0)), .start]
        let tags = inStepOrder.map { $0.encoded()[0] }
        #expect(tags == Array(1...UInt8(inStepOrder.count)))
    }

    @Test func failureTextIsBoundedAndKeepsItsStage() {
        let long = ChildFailure(message: String(repeating: "x", count: 5000), errno: 2, stage: .privileges)
        let encoded = SyncMessage.failed(long).encoded()
        #expect(encoded.count == SyncMessage.maximumPacket)
        guard case .failed(let decoded)? = SyncMessage(decoding: encoded) else { Issue.record("not a failure"); return }
        #expect(decoded.stage == .privileges && decoded.errno == 2 && decoded.message.utf8.count == SyncMessage.maximumText)
    }

    @Test func parentWalksEveryStepInOrder() throws {
        var sync = ParentSync(joinsThroughHelper: true)
        try sync.receive(.spawned(9))
        try sync.send(.placed)
        try sync.receive(.listener(5))
        try sync.send(.listenerWanted)
        try sync.receive(.listener(5))
        try sync.send(.listenerTaken)
        try sync.receive(.console)
        try sync.receive(.warning("skipped"))
        try sync.receive(.hooks)
        #expect(sync.phase == .runningHooks)
        try sync.send(.hooksRan([]))
        try sync.receive(.trace([StageTime(stage: .rootfs, nanoseconds: 5)]))
        try sync.receive(.ready)
        #expect(sync.phase == .committing)
        try sync.send(.committed)
        #expect(sync.phase == .done)
        // Nothing comes after the commit: the parent has closed its end.
        #expect(throws: ParentSync.ProtocolError.unexpected(.ready, .done)) { try sync.receive(.ready) }
        // `run`'s init that shares our memory: `start` on the end we kept (step 3), once, and nothing after it.
        try sync.send(.start)
        #expect(sync.phase == .started)
        #expect(throws: ParentSync.ProtocolError.outOfTurn(.start, .started)) { try sync.send(.start) }
        #expect(throws: ParentSync.ProtocolError.unexpected(.warning("late"), .started)) { try sync.receive(.warning("late")) }
    }

    /// Steps 1a–1c may come before `ready`, never after it; the parent's answers only when asked.
    @Test func parentRefusesOutOfOrderMessages() throws {
        var sync = ParentSync()
        #expect(throws: ParentSync.ProtocolError.unexpected(.ready, .placing)) { try sync.receive(.ready) }
        #expect(throws: ParentSync.ProtocolError.outOfTurn(.committed, .placing)) { try sync.send(.committed) }
        #expect(throws: ParentSync.ProtocolError.outOfTurn(.start, .placing)) { try sync.send(.start) }
        try sync.send(.placed)
        #expect(throws: ParentSync.ProtocolError.unexpected(.committed, .awaitingReady)) { try sync.receive(.committed) }
        #expect(throws: ParentSync.ProtocolError.outOfTurn(.hooksRan([]), .awaitingReady)) { try sync.send(.hooksRan([])) }
        #expect(throws: ParentSync.ProtocolError.outOfTurn(.listenerTaken, .awaitingReady)) { try sync.send(.listenerTaken) }
        try sync.receive(.ready)
        #expect(throws: ParentSync.ProtocolError.unexpected(.hooks, .committing)) { try sync.receive(.hooks) }
        #expect(throws: ParentSync.ProtocolError.unexpected(.spawned(3), .committing)) { try sync.receive(.spawned(3)) }
    }

    @Test func childFailureAndEOFStopTheParent() throws {
        var sync = ParentSync()
        try sync.send(.placed)
        let failure = ChildFailure(message: "boom", errno: 5, stage: .rootfs)
        #expect(throws: failure) { try sync.receive(.failed(failure)) }
        var closed = ParentSync()
        #expect(throws: ParentSync.ProtocolError.childExited(.placing)) { try closed.receive(nil) }
    }
}
