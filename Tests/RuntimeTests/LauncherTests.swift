import Testing
@testable import Launcher
@testable import Runtime
import Sys

@Suite struct SyncProtocolTests {
    @Test func messagesRoundTrip() {
        let failure = ChildFailure(message: "mount proc on /proc: EPERM (operation not permitted)", errno: 1)
        for message in [SyncMessage.placed, .listener(7), .listener(-1), .listenerTaken, .listenerWanted, .console, .hooks, .hooksRan(Array("{}\u{0}{}".utf8)), .hooksRan([]),
                        .ready, .committed, .detached, .failed(failure)] {
            #expect(SyncMessage(decoding: message.encoded()) == message)
        }
        #expect(SyncMessage(decoding: []) == nil)
        #expect(SyncMessage(decoding: [42]) == nil)
        #expect(SyncMessage(decoding: [7, 0]) == nil)
        #expect(SyncMessage(decoding: [1, 0]) == nil)
    }

    @Test func failureTextIsBounded() {
        let long = ChildFailure(message: String(repeating: "x", count: 5000), errno: 2)
        #expect(SyncMessage.failed(long).encoded().count == 5 + 512)
    }

    @Test func parentAcceptsTheDocumentedOrder() throws {
        var sync = ParentSync()
        try sync.receive(.ready)
        #expect(sync.phase == .awaitingDetached)
        try sync.receive(.detached)
        #expect(sync.phase == .done)
    }

    /// Steps 1a–1c may come before `ready`, never after it.
    @Test func parentTakesDescriptorsAndHookRequestsBeforeReady() throws {
        var sync = ParentSync()
        try sync.receive(.listener(5))
        try sync.receive(.console)
        try sync.receive(.hooks)
        #expect(sync.phase == .awaitingReady)
        try sync.receive(.ready)
        #expect(throws: ParentSync.ProtocolError.unexpected(.hooks, .awaitingDetached)) { try sync.receive(.hooks) }
    }

    @Test func parentRefusesOutOfOrderMessages() {
        var sync = ParentSync()
        #expect(throws: ParentSync.ProtocolError.unexpected(.detached, .awaitingReady)) { try sync.receive(.detached) }
        var afterReady = ParentSync()
        try? afterReady.receive(.ready)
        #expect(throws: ParentSync.ProtocolError.unexpected(.ready, .awaitingDetached)) { try afterReady.receive(.ready) }
    }

    @Test func childFailureAndEOFStopTheParent() {
        var sync = ParentSync()
        let failure = ChildFailure(message: "boom", errno: 5)
        #expect(throws: failure) { try sync.receive(.failed(failure)) }
        var closed = ParentSync()
        #expect(throws: ParentSync.ProtocolError.childExited(.awaitingReady)) { try closed.receive(nil) }
    }
}

@Suite struct MountOptionTests {
    @Test func flagsPropagationAndDataAreSplit() {
        let options = MountOptions(["nosuid", "noexec", "nodev", "rprivate", "mode=755", "size=65536k"], type: "tmpfs")
        #expect(options.flags == Mounts.noSUID | Mounts.noExec | Mounts.noDev)
        #expect(options.propagation == [Mounts.private | Mounts.recursive])
        #expect(options.dataString == "mode=755,size=65536k")
        #expect(!options.isBind)
    }

    @Test func bindReadonlyNeedsARemount() {
        let options = MountOptions(["rbind", "ro"], type: nil)
        #expect(options.isBind)
        #expect(options.flags & Mounts.recursive != 0)
        #expect(options.needsRemount)
        #expect(!MountOptions(["bind"], type: nil).needsRemount)
        #expect(MountOptions([], type: "bind").isBind)
    }

    @Test func laterOptionsWin() {
        #expect(MountOptions(["ro", "rw"], type: "tmpfs").flags & Mounts.readOnly == 0)
        #expect(MountOptions(["rw", "ro"], type: "tmpfs").flags & Mounts.readOnly != 0)
    }
}

@Suite struct SignalNameTests {
    @Test func namesNumbersAndPrefixes() throws {
        #expect(try SignalNames.parse("TERM") == 15)
        #expect(try SignalNames.parse("SIGTERM") == 15)
        #expect(try SignalNames.parse("sigkill") == 9)
        #expect(try SignalNames.parse("15") == 15)
        #expect(try SignalNames.parse("RTMIN+2") == 36)
        // runc takes signal 0 (`kill --all ID 0` probes that the container is there).
        #expect(try SignalNames.parse("0") == 0)
    }

    @Test(arguments: ["FOO", "65", "-1", "", "RTMIN+99"])
    func refusesUnknownSignals(_ text: String) {
        #expect(throws: RuntimeError.self) { try SignalNames.parse(text) }
    }
}

@Suite struct SysErrorTests {
    @Test func namesOperationPathAndErrno() {
        #expect(SysError("mount", path: "proc on /proc", errno: 1).description
                == "mount proc on /proc: EPERM (operation not permitted)")
        #expect(SysError("setns", errno: 22).description == "setns: EINVAL (invalid argument)")
    }
}
