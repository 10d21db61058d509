import Capabilities
import Cgroups
import Glibc
import Seccomp
import Sys

/// What the parent does at the steps its child waits for (SyncProtocol.swift); all but placement have a default.
package struct ParentSteps {
    /// Step 0, in the parent right after clone (and after the id maps of a new user namespace); the Bool says
    /// the child was born in its cgroup (`cloneInto`), so there is no pid to write.
    package var placeFromParent: (pid_t, Bool) throws -> Void
    /// Step 0, in the child once the parent says `placed`.
    package var selfPlacement: SelfPlacement
    /// Step 1c: prestart and createRuntime; returns the state document for the child's own hooks (1d).
    package var createHooks: (pid_t) throws -> [UInt8] = { _ in [] }
    /// Step 1a: the seccomp notify fd, at once, while the child waits: it must reach the agent before the
    /// child makes a notified call.
    package var seccompListener: (FileDescriptor, pid_t) throws -> Void = { _, _ in }
    /// A child's `warning`, for the parent's log.
    package var warning: (String) -> Void = { _ in }
    /// Whether the child times its stages and sends them before `ready` (`--debug`).
    package var traced = false
    /// The cgroup v2 directory to clone the child straight into (CgroupManager.cloneTarget), when its
    /// placement is the parent's pid write alone.
    package var cloneInto: String?
    /// Where the template mount namespace is kept (InitMountNamespace.template); nil: the init never uses one.
    package var mountTemplate: MountTemplate?

    package init(placeFromParent: @escaping (pid_t, Bool) throws -> Void, selfPlacement: SelfPlacement) {
        self.placeFromParent = placeFromParent
        self.selfPlacement = selfPlacement
    }
}

/// The parent's end of the sync socket: every message in either direction passes ParentSync, one method a step.
final class ParentChannel {
    let socket: FileDescriptor
    private(set) var sync: ParentSync
    private let warning: (String) -> Void
    /// The child's stage times, when it was traced.
    private(set) var childTrace: [StageTime] = []
    /// `committed` is to go with `start` (`commit(startsNext:)`).
    private var committedWaits = false

    init(_ socket: FileDescriptor, joinsThroughHelper: Bool = false, warning: @escaping (String) -> Void) {
        self.socket = socket
        self.sync = ParentSync(joinsThroughHelper: joinsThroughHelper)
        self.warning = warning
    }

    /// Step −1: the pid of the init the joining helper cloned.
    func receiveSpawned() throws -> pid_t {
        guard case .spawned(let pid)? = try receive().message else { throw ParentSync.ProtocolError.childExited(sync.phase) }
        return pid
    }

    /// Steps 0–1: `placed`, then the listener (1a), the console (1b) and the hooks (1c) as they come, until
    /// `ready`. Returns the console's pty master, if one came.
    func awaitReady(_ steps: ParentSteps, pid: pid_t) throws -> FileDescriptor? {
        try send(.placed)
        var console: FileDescriptor?
        while sync.phase != .committing {
            let (message, fd) = try receive()
            switch message {
            case .console: console = fd
            case .listener(let number):
                let copy = try takeListener(number, from: pid)
                defer { copy.close() }
                try steps.seccompListener(copy, pid)
                try send(.listenerTaken)
            case .hooks: try send(.hooksRan(try steps.createHooks(pid)))
            case .trace(let times): childTrace = times
            default: break
            }
        }
        return console
    }

    /// Steps 0–1 with a child in our address space (Launcher.spawnSharing): `placed` goes and every reply comes
    /// through SharedAddressSpace.handOver, so we run only while the child waits in the kernel for `placed`, or runs its C end
    /// (it queues everything it sends until `ready`, and its failure report is C too).
    /// `hooks` is a hand-over too: the child waits in C while we run prestart and createRuntime, and `hooksRan` goes
    /// with our next wait. Returns the console's pty master, if one came (with its packet, SCM_RIGHTS).
    func awaitReadySharing(_ steps: ParentSteps, pid: pid_t) throws -> FileDescriptor? {
        try sync.send(.placed)
        var outgoing = SyncMessage.placed.encoded()
        // Both buffers exist before the child runs: nothing of ours is allocated or freed while it does.
        var reply = [UInt8](repeating: 0, count: SyncMessage.maximumPacket)
        var console: FileDescriptor?
        while sync.phase != .committing {
            let (got, descriptor) = SharedAddressSpace.handOver(socket, sending: outgoing, reply: &reply)
            outgoing = []
            let message = got > 0 ? SyncMessage(decoding: Array(reply[..<got])) : nil
            do {
                try sync.receive(message)
            } catch {
                descriptor?.close()
                throw error
            }
            switch message {
            case .console?: console = descriptor
            case .warning(let text)?: warning(text)
            case .trace(let times)?: childTrace = times
            case .hooks?:
                let ran = SyncMessage.hooksRan(try steps.createHooks(pid))
                try sync.send(ran)
                outgoing = ran.encoded()
            default: break
            }
            if message != .console { descriptor?.close() }
        }
        return console
    }

    /// Step 2: state is on disk. The child dropped its death-with-parent tie before `ready`, so nothing is
    /// awaited: the packet stays queued for it after this end is closed. `startsNext`: `run`'s `start` (step 3)
    /// follows, and `committed` goes with it in one packet: the child wakes once, not twice (a wake-up across
    /// CPUs costs ~16 µs of CPU here).
    func commit(startsNext: Bool = false) throws {
        try sync.send(.committed)
        if startsNext {
            committedWaits = true
            return
        }
        try Channels.send(socket, SyncMessage.committed.encoded())
        socket.close()
    }

    /// Step 3, `run` with an init that shares our memory: `start` (after `committed` when that waited for it).
    /// With `awaitingExec`, then the end-of-file the child's execve makes of its end (close-on-exec), or its
    /// exit: past it, the process runs or has failed to, and the wait on it says which (as with exec.fifo, whose
    /// byte came before the filter and execve). Without, our end closes at once (the packet stays queued) and the
    /// wait for the process's exit says the same.
    func start(awaitingExec: Bool) throws {
        try sync.send(.start)
        let start = SyncMessage.start.encoded()
        try Channels.send(socket, committedWaits ? SyncMessage.committed.encoded() + start : start)
        committedWaits = false
        Fault.point(.midStart)
        if awaitingExec {
            while try !Channels.receive(socket, capacity: SyncMessage.maximumPacket).isEmpty {}
        }
        socket.close()
    }

    /// pidfd_getfd needs ptrace access to the child, which is non-dumpable: an unprivileged caller lacks it, and
    /// then asks the child to send the fd itself (step 1a').
    private func takeListener(_ number: Int32, from pid: pid_t) throws -> FileDescriptor {
        do {
            return try Processes.takeDescriptor(number, from: pid)
        } catch {
            guard error.errno == EPERM else { throw error }
        }
        try send(.listenerWanted)
        guard case (.listener?, let fd?) = try receive() else { throw ParentSync.ProtocolError.childExited(sync.phase) }
        return fd
    }

    private func send(_ message: SyncMessage) throws {
        try sync.send(message)
        try Channels.send(socket, message.encoded())
    }

    /// The next message that is not a warning (those go to the log as they come), with the fd it carried.
    private func receive() throws -> (message: SyncMessage?, fd: FileDescriptor?) {
        while true {
            let (packet, fd) = try Channels.receiveWithDescriptor(socket, capacity: SyncMessage.maximumPacket)
            let message = SyncMessage(decoding: packet)
            do {
                try sync.receive(message)
            } catch {
                fd?.close()
                throw error
            }
            if case .warning(let text)? = message { warning(text); continue }
            return (message, fd)
        }
    }
}

/// The child's end of the sync socket: one method a step, and the stage it is in for a failure report.
struct ChildChannel {
    let socket: FileDescriptor
    /// The stage we are in; with tracing, each change records how long the last one took.
    var stage: SetupStage = .isolating {
        didSet { if stage != oldValue { recorder?.close(oldValue) } }
    }
    /// nil unless traced: an untraced child copies no array and instantiates no generic metadata for this.
    private let recorder: StageRecorder?
    /// Set when this child shares the parent's address space (Launcher.spawnSharing): what it would send before
    /// `ready` waits here, for the C end to send (the parent must not run while we do).
    private let queued: QueuedPackets?

    init(socket: FileDescriptor, stage: SetupStage = .isolating, traced: Bool = false, sharesParentMemory: Bool = false) {
        self.socket = socket
        self.recorder = traced ? StageRecorder() : nil
        self.queued = sharesParentMemory ? QueuedPackets() : nil
        self.stage = stage
    }

    var sharesParentMemory: Bool { queued != nil }

    /// Packets for SharedAddressSpace.finish: each a 4-byte length (little-endian, the native order on x86-64), then
    /// its bytes.
    final class QueuedPackets {
        private(set) var bytes: [UInt8] = []

        /// Sent: the queue starts again (the parent is waiting in the kernel while we run).
        func clear() { bytes.removeAll(keepingCapacity: true) }

        /// `descriptor` goes with the packet (SCM_RIGHTS); it must stay open until the C end has sent it.
        func append(_ packet: [UInt8], descriptor: Int32? = nil) {
            appendWord(SharedAddressSpace.queuedLength(packet.count, carriesDescriptor: descriptor != nil))
            if let descriptor { appendWord(UInt32(bitPattern: descriptor)) }
            bytes += packet
        }

        private func appendWord(_ word: UInt32) {
            var word = word
            for _ in 0..<4 {
                bytes.append(UInt8(truncatingIfNeeded: word))
                word >>= 8
            }
        }
    }

    /// The child's first act when traced: its first stage starts now, not when the parent made this value.
    func startClock() { recorder?.restart() }

    final class StageRecorder {
        private var started = Clock.realtimeNanoseconds()
        private(set) var times: [StageTime] = []

        func restart() { started = Clock.realtimeNanoseconds() }

        func close(_ stage: SetupStage) {
            let now = Clock.realtimeNanoseconds()
            times.append(StageTime(stage: stage, nanoseconds: now - started))
            started = now
        }
    }

    /// What the parent sent instead of what the child waited for: a failure like any other.
    struct UnexpectedMessage: Error, CustomStringConvertible {
        var expected: SyncMessage.Tag
        var got: SyncMessage?
        var description: String { "sync: waited for \(expected), got \(got.map { "\($0)" } ?? "end of file")" }
    }

    /// Step −1, in the joining helper.
    func reportSpawned(_ pid: pid_t) throws { try Channels.send(socket, SyncMessage.spawned(pid).encoded()) }

    /// Step 0: the parent has mapped our ids and placed us (or left placement to us). A child sharing the
    /// parent's memory took `placed` before it ran any of this (SharedAddressSpace.clone).
    func awaitPlaced() throws {
        if sharesParentMemory { return }
        try expect(.placed)
    }

    /// Step 1b: the pty master goes to the parent. Sharing its memory, it is queued with the packet and stays open
    /// until the C end has sent it (close-on-exec: the container's process never has it).
    func sendConsole(_ master: FileDescriptor) throws {
        if let queued { return queued.append(SyncMessage.console.encoded(), descriptor: master.release()) }
        try Channels.sendDescriptor(socket, master.raw, payload: SyncMessage.console.encoded())
        master.close()
    }

    /// Steps 1c–1d: the parent runs prestart and createRuntime; returns the state document it gave them. Sharing
    /// its memory, this is a hand-over: what we queued and `hooks` go from C, and we wait there while it runs them.
    func runParentHooks() throws -> [UInt8] {
        let reply: SyncMessage?
        if let queued {
            queued.append(SyncMessage.hooks.encoded())
            let packet = SharedAddressSpace.exchange(socket, packets: queued.bytes, replyCapacity: Self.stateCapacity)
            queued.clear()
            reply = packet.flatMap { SyncMessage(decoding: $0) }
        } else {
            try Channels.send(socket, SyncMessage.hooks.encoded())
            reply = SyncMessage(decoding: try Channels.receive(socket, capacity: Self.stateCapacity))
        }
        guard case .hooksRan(let state)? = reply else { throw UnexpectedMessage(expected: .hooksRan, got: reply) }
        return state
    }

    /// The largest `hooksRan` read: its state document.
    static let stateCapacity = 1 << 18

    /// Step 1a. Once the filter is in, every call it notifies waits for the agent, which gets the listener from
    /// our parent; until then only one write(2) runs (a notified write is refused when the profile is built):
    /// the listener's number, after which the parent takes a copy with pidfd_getfd and hands it to the agent
    /// before it answers, as runc does. The message is made before the filter: even an allocation (brk, mmap)
    /// could be a notified call. Where the parent may not take it (no ptrace access: an unprivileged caller),
    /// it asks, and the fd goes with SCM_RIGHTS (sendmsg then must not be notified).
    func handOverListener(loading load: () throws -> Int32?) throws {
        var message = SyncMessage.listener(0).encoded()
        guard let listener = try load() else { return }
        SyncMessage.setListener(listener, in: &message)
        try socket.write(message)
        var reply = SyncMessage(decoding: try Channels.receive(socket, capacity: 16))
        if reply == .listenerWanted {
            try Channels.sendDescriptor(socket, listener, payload: message)
            reply = SyncMessage(decoding: try Channels.receive(socket, capacity: 16))
        }
        guard reply == .listenerTaken else { throw UnexpectedMessage(expected: .listenerTaken, got: reply) }
        Glibc.close(listener)
    }

    /// Steps 1–2: we stop dying with the parent, say ready (after the stage times, when traced), and wait for the
    /// commit. A parent that dies before it commits closes its end, and `expect` fails on the end-of-file.
    func handshake() throws {
        if let recorder {
            recorder.close(stage)
            try Channels.send(socket, SyncMessage.trace(recorder.times).encoded())
        }
        try Processes.dieWithParent(signal: 0)
        try Channels.send(socket, SyncMessage.ready.encoded())
        try expect(.committed)
        socket.close()
    }

    /// Something skipped that set-up goes on without: it reaches the parent's log, not the container's stderr.
    func warn(_ text: String) {
        if let queued { return queued.append(SyncMessage.warning(text).encoded()) }
        _ = try? Channels.send(socket, SyncMessage.warning(text).encoded())
    }

    /// The end of a failed set-up: the parent gets the error, its errno and our stage.
    func fail(_ error: any Error) -> Never {
        let errno = (error as? SysError)?.errno ?? (error as? ChildFailure)?.errno ?? 0
        let failure = ChildFailure(message: String(describing: error), errno: errno, stage: stage)
        let packet = SyncMessage.failed(failure).encoded()
        // Sharing memory, the send and the exit are one C step: the parent runs as soon as the packet is there.
        if sharesParentMemory { SharedAddressSpace.sendAndExit(socket, packet) }
        _ = try? Channels.send(socket, packet)
        Processes.exit(1)
    }

    /// Steps 1–2 and the end, sharing the parent's memory: the warnings and stage times queued, `ready`, then in C
    /// only (the parent runs again from `ready` on) `committed`, exec.fifo, the filter, the final capability sets
    /// and execve (SharedAddressSpace.finish), each already prepared here.
    func finishSharing(_ exec: PreparedExec, fifo: FileDescriptor?, seccomp: SeccompProgram?,
                       capabilities: PreparedCapabilities?, affinity: [UInt64]?) -> Never {
        guard let queued else { fatalError("finishSharing: this child does not share the parent's memory") }
        if let recorder {
            recorder.close(stage)
            queued.append(SyncMessage.trace(recorder.times).encoded())
        }
        queued.append(SyncMessage.ready.encoded())
        SharedAddressSpace.finish(socket, packets: queued.bytes, committedTag: SyncMessage.Tag.committed.rawValue,
                                  fifo: fifo?.procPath, startTag: SyncMessage.Tag.start.rawValue, filter: seccomp?.encodedProgram ?? [], filterFlags: seccomp?.kernelFlags ?? 0,
                                  capabilities: capabilities?.handle, affinity: affinity, exec: exec)
    }

    private func expect(_ tag: SyncMessage.Tag) throws {
        let message = SyncMessage(decoding: try Channels.receive(socket, capacity: 16))
        guard message?.tag == tag else { throw UnexpectedMessage(expected: tag, got: message) }
    }
}
