import Glibc
import Sys

/// The messages between `crabcan create`/`exec` (parent) and the container process it clones (child) over a
/// SOCK_SEQPACKET pair; every message is one packet whose first byte is its tag, unique and in step order
/// (docs/design.md "The sync protocol").
///
/// | tag | step | direction       | message          | when                                                                 |
/// |-----|------|-----------------|------------------|----------------------------------------------------------------------|
/// | 1   | −1   | helper → parent | `spawned`        | only when namespaces are joined by path: the joining helper cloned the init (its pid) |
/// | 2   | 0    | parent → child  | `placed`         | id maps written (new user namespace); cgroups ready (v2: child born in its cgroup by clone3, or added; in a user namespace: child added); the child becomes root of its user namespace, joins (v1), may unshare its cgroup namespace and make its time namespace |
/// | 3   | 1a   | child → parent  | `listener`       | the number of the seccomp notify fd, when the profile uses SCMP_ACT_NOTIFY: the child loaded the filter and sent this with write(2) |
/// | 4   | 1a'  | parent → child  | `listenerWanted` | pidfd_getfd was refused (an unprivileged parent has no ptrace access to the non-dumpable child): the child sends `listener` again with the fd (SCM_RIGHTS) |
/// | 5   | 1a″  | parent → child  | `listenerTaken`  | the parent has a copy and handed it to the agent at listenerPath     |
/// | 6   | 1b   | child → parent  | `console`        | with SCM_RIGHTS: the pty master, when `process.terminal` (the parent hands it to --console-socket) |
/// | 7   | 1c   | child → parent  | `hooks`          | mounts done, before pivot_root, when the config has create-time hooks: run prestart and createRuntime |
/// | 8   | 1d   | parent → child  | `hooksRan`       | they succeeded; payload: the `created` state JSON for createContainer and startContainer |
/// | 9   | 1'   | child → parent  | `trace`          | with `--debug` only: how long each set-up stage took (PhaseTrace)    |
/// | 10  | 1    | child → parent  | `ready`          | namespaces joined, rootfs mounted, pivot_root done, process resolved; the child no longer dies with the parent (PR_SET_PDEATHSIG cleared just before) |
/// | 11  | 2    | parent → child  | `committed`      | state.json is written: the container exists; the parent closes its end and goes on |
/// | 12  | any  | child → parent  | `warning`        | something the child skipped and went on without; the parent logs it |
/// | 13  | any  | child → parent  | `failed`         | a set-up step failed: stage, errno, text; the child then exits       |
/// | 14  | 3    | parent → child  | `start`          | `run`, the init sharing the parent's memory: no exec.fifo; `committed` waits to go with it, the two tags in one packet (one wake-up of the child); execve closes the child's end (close-on-exec), and the end-of-file says the process runs, awaited only for poststart hooks and `run -d` (otherwise the process's exit tells) |
///
/// Why step −1: namespaces joined by path must be entered before the new ones are made, so these belong to
/// the joined user namespace (runc's order); a helper joins them, then clones the init with CLONE_PARENT.
/// Why step 0: a cgroup namespace's root is the cgroup its creator is in at that moment, and no container
/// code may run outside the container's cgroup. A new user namespace has no ids until the parent maps them,
/// and the child cannot write host cgroup files from inside one, so the parent places it then.
/// Why PR_SET_PDEATHSIG until `ready`: the child dies with a parent killed mid-create (no half-made container
/// outlives it). `create` exits as soon as it has sent `committed`, so the child drops that tie before `ready`;
/// from then on it waits only for `committed`, and a parent that dies first closes its end: the child reads
/// end-of-file there and exits. (Until session 10 the child dropped the tie after `committed` and said so in a
/// step 3, `detached`, which every create and exec waited for.)
/// After step 2 the init blocks opening exec.fifo until `start`; an exec'd process goes on to execve. `run`
/// starts what it has just created: with the init in its address space (the C end waits in the kernel either
/// way) it sends step 3 on the socket it kept, instead of making the fifo, opening it and reading it.
package enum SyncMessage: Sendable, Equatable {
    case spawned(pid_t)
    case placed
    case listener(Int32)
    case listenerWanted
    case listenerTaken
    case console
    case hooks
    case hooksRan([UInt8])
    case trace([StageTime])
    case ready
    case committed
    case start
    case warning(String)
    case failed(ChildFailure)

    enum Tag: UInt8 {
        case spawned = 1, placed, listener, listenerWanted, listenerTaken, console, hooks, hooksRan, trace, ready,
             committed, warning, failed, start
    }

    /// Bounds a failure's or warning's text: one packet, read into a fixed buffer.
    static let maximumText = 512
    /// The largest packet but `hooksRan` (whose state document is read with its own capacity).
    static let maximumPacket = 6 + maximumText

    var tag: Tag {
        switch self {
        case .spawned: return .spawned
        case .placed: return .placed
        case .listener: return .listener
        case .listenerWanted: return .listenerWanted
        case .listenerTaken: return .listenerTaken
        case .console: return .console
        case .hooks: return .hooks
        case .hooksRan: return .hooksRan
        case .trace: return .trace
        case .ready: return .ready
        case .committed: return .committed
        case .start: return .start
        case .warning: return .warning
        case .failed: return .failed
        }
    }

    package func encoded() -> [UInt8] {
        let tag = [tag.rawValue]
        switch self {
        case .spawned(let pid): return tag + Self.bytes(of: pid)
        case .listener(let fd): return tag + Self.bytes(of: fd)
        case .hooksRan(let state): return tag + state
        case .trace(let times): return tag + times.flatMap { [$0.stage.rawValue] + Self.bytes(of: $0.nanoseconds) }
        case .warning(let text): return tag + Array(text.utf8.prefix(Self.maximumText))
        case .failed(let failure):
            return tag + [failure.stage.rawValue] + Self.bytes(of: failure.errno) + Array(failure.message.utf8.prefix(Self.maximumText))
        case .placed, .listenerWanted, .listenerTaken, .console, .hooks, .ready, .committed, .start: return tag
        }
    }

    /// nil for a packet that is no message of ours (or the empty packet of a closed peer).
    package init?(decoding bytes: [UInt8]) {
        guard let first = bytes.first, let tag = Tag(rawValue: first) else { return nil }
        let payload = bytes.dropFirst()
        switch tag {
        case .spawned, .listener:
            guard payload.count == 4 else { return nil }
            let value = Self.int32(payload)
            self = tag == .spawned ? .spawned(value) : .listener(value)
        case .hooksRan: self = .hooksRan(Array(payload))
        case .trace:
            guard payload.count % 9 == 0 else { return nil }
            var times: [StageTime] = []
            for start in stride(from: payload.startIndex, to: payload.endIndex, by: 9) {
                guard let stage = SetupStage(rawValue: payload[start]) else { return nil }
                times.append(StageTime(stage: stage, nanoseconds: Self.uint64(payload[(start + 1)..<(start + 9)])))
            }
            self = .trace(times)
        case .warning: self = .warning(String(decoding: payload, as: UTF8.self))
        case .failed:
            guard payload.count >= 5, let stage = SetupStage(rawValue: payload[payload.startIndex]) else { return nil }
            let errno = Self.int32(payload.dropFirst().prefix(4))
            self = .failed(ChildFailure(message: String(decoding: payload.dropFirst(5), as: UTF8.self), errno: errno, stage: stage))
        case .placed, .listenerWanted, .listenerTaken, .console, .hooks, .ready, .committed, .start:
            guard payload.isEmpty else { return nil }
            self = switch tag {
            case .placed: .placed
            case .listenerWanted: .listenerWanted
            case .listenerTaken: .listenerTaken
            case .console: .console
            case .hooks: .hooks
            case .ready: .ready
            case .start: .start
            default: .committed
            }
        }
    }

    /// Puts the fd number into an encoded `.listener` message in place: made before the filter is loaded, the
    /// message then needs no allocation.
    static func setListener(_ fd: Int32, in message: inout [UInt8]) {
        for (index, byte) in bytes(of: fd).enumerated() { message[1 + index] = byte }
    }

    private static func bytes(of value: Int32) -> [UInt8] {
        let raw = UInt32(bitPattern: value)
        return (0..<4).map { UInt8(truncatingIfNeeded: raw >> (8 * $0)) }
    }

    private static func bytes(of value: UInt64) -> [UInt8] { (0..<8).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) } }

    private static func uint64(_ bytes: ArraySlice<UInt8>) -> UInt64 {
        bytes.enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * $1.offset) }
    }

    private static func int32(_ bytes: ArraySlice<UInt8>) -> Int32 {
        Int32(bitPattern: bytes.enumerated().reduce(UInt32(0)) { $0 | UInt32($1.element) << (8 * $1.offset) })
    }
}

/// Where in its set-up a container process was: sent with every failure, so the log says which step broke.
package enum SetupStage: UInt8, Sendable, CaseIterable, CustomStringConvertible {
    /// The helper of step −1: joining namespaces given by path, cloning the init.
    case joining = 1
    /// Before step 0: the death signal, non-dumpable, closing what the parent left open.
    case isolating
    /// Step 0: id maps, time and user namespaces, cgroups, the cgroup namespace.
    case placement
    /// setsid, the session keyring, hostname and domainname.
    case session
    /// Mounts, devices, the console, create-time hooks and pivot_root (an exec: its root and cwd).
    case rootfs
    /// Finding args[0], personality, scheduling.
    case executable
    /// Groups, ids, capabilities, labels, no_new_privs and a notify filter.
    case privileges
    /// Steps 1–3.
    case handshake

    package var description: String {
        switch self {
        case .joining: return "joining namespaces"
        case .isolating: return "isolating"
        case .placement: return "placement"
        case .session: return "session"
        case .rootfs: return "rootfs"
        case .executable: return "executable"
        case .privileges: return "privileges"
        case .handshake: return "handshake"
        }
    }
}

/// How long the init spent in one set-up stage (real-time clock: see Clock.realtimeNanoseconds).
package struct StageTime: Sendable, Equatable {
    package var stage: SetupStage
    package var nanoseconds: UInt64
}

/// What the child reports when set-up fails: already a whole sentence (`mount proc on /proc: EPERM (...)`),
/// with its errno and the stage it was in.
package struct ChildFailure: Error, Sendable, Equatable, CustomStringConvertible {
    package var message: String
    package var errno: Int32
    package var stage: SetupStage
    package var description: String { message }

    package init(message: String, errno: Int32, stage: SetupStage = .isolating) {
        self.message = message
        self.errno = errno
        self.stage = stage
    }
}

/// The parent's side of the protocol as a state machine over every step, both what it receives and what it
/// sends, so message order is checked in one place and unit-tested without forking.
package struct ParentSync: Sendable {
    package enum Phase: Sendable, Equatable {
        /// Step −1: the joining helper is to report the init's pid.
        case awaitingSpawned
        /// The parent is to map ids and place the child, then send `placed`.
        case placing
        /// Steps 1a–1d may come, then `ready`.
        case awaitingReady
        /// `listener` came: the parent answers `listenerTaken` or `listenerWanted`.
        case takingListener
        /// `listenerWanted` went: the child sends `listener` again with the fd.
        case awaitingListener
        /// `hooks` came: the parent runs them and answers `hooksRan`.
        case runningHooks
        /// `ready` came: the parent writes state.json, then sends `committed`.
        case committing
        case done
        /// `run`'s `start` went (step 3): the child is on its way to execve.
        case started
    }
    package private(set) var phase: Phase

    package init(joinsThroughHelper: Bool = false) { phase = joinsThroughHelper ? .awaitingSpawned : .placing }

    package enum ProtocolError: Error, Equatable, CustomStringConvertible {
        case childExited(Phase)
        case unexpected(SyncMessage, Phase)
        case outOfTurn(SyncMessage, Phase)
        package var description: String {
            switch self {
            case .childExited: return "container init exited during set-up"
            case .unexpected(let message, let phase): return "container init sent \(message) while \(phase)"
            case .outOfTurn(let message, let phase): return "crabcan would send \(message) while \(phase)"
            }
        }
    }

    /// Feeds one received packet (nil: the child closed its end). Throws the child's failure or a protocol error.
    /// A warning changes nothing: the caller logs it.
    package mutating func receive(_ message: SyncMessage?) throws {
        guard let message else { throw ProtocolError.childExited(phase) }
        switch (phase, message) {
        case (_, .failed(let failure)): throw failure
        case (_, .warning) where phase != .done && phase != .started: break
        case (.awaitingSpawned, .spawned): phase = .placing
        case (.awaitingReady, .listener), (.awaitingListener, .listener): phase = .takingListener
        case (.awaitingReady, .console), (.awaitingReady, .trace): break
        case (.awaitingReady, .hooks): phase = .runningHooks
        case (.awaitingReady, .ready): phase = .committing
        default: throw ProtocolError.unexpected(message, phase)
        }
    }

    /// Checks one message the parent is about to send, and moves on.
    package mutating func send(_ message: SyncMessage) throws {
        switch (phase, message) {
        case (.placing, .placed): phase = .awaitingReady
        case (.takingListener, .listenerWanted): phase = .awaitingListener
        case (.takingListener, .listenerTaken): phase = .awaitingReady
        case (.runningHooks, .hooksRan): phase = .awaitingReady
        case (.committing, .committed): phase = .done
        case (.done, .start): phase = .started
        default: throw ProtocolError.outOfTurn(message, phase)
        }
    }
}
