import Glibc
import Sys

/// The messages between `crabcan create` (parent) and the container's init (child) over a
/// SOCK_SEQPACKET pair; every message is one packet (docs/design.md §2).
///
/// | step | direction       | message     | when                                                                      |
/// |------|-----------------|-------------|---------------------------------------------------------------------------|
/// | −1   | helper → parent | `spawned`   | only when namespaces are joined by path: the joining helper cloned the init (its pid) |
/// | 0    | parent → child  | `placed`    | id maps written (new user namespace); cgroups ready (v2, or in a user namespace: child added); the child becomes root of its user namespace, joins (v1), may unshare its cgroup namespace and make its time namespace |
/// | 1a   | child → parent  | `listener`  | the number of the seccomp notify fd, when the profile uses SCMP_ACT_NOTIFY: the child loaded the filter and sent this with write(2) |
/// | 1a'  | parent → child  | `listenerTaken` | the parent took a copy (pidfd_getfd) and handed it to the agent at listenerPath |
/// | 1a'  | parent → child  | `listenerWanted` | pidfd_getfd was refused (an unprivileged parent has no ptrace access to the non-dumpable child): the child sends `listener` again with the fd (SCM_RIGHTS), then gets `listenerTaken` |
/// | 1b   | child → parent  | `console`   | with SCM_RIGHTS: the pty master, when `process.terminal` (the parent hands it to --console-socket) |
/// | 1c   | child → parent  | `hooks`     | mounts done, before pivot_root, when the config has create-time hooks: run prestart and createRuntime |
/// | 1d   | parent → child  | `hooksRan`  | they succeeded; payload: the `created` state JSON for createContainer and startContainer |
/// | 1    | child → parent  | `ready`     | namespaces joined, rootfs mounted, pivot_root done, process resolved     |
/// | 2    | parent → child  | `committed` | state.json is written: the container exists                              |
/// | 3    | child → parent  | `detached`  | the child no longer dies with the parent (PR_SET_PDEATHSIG cleared)       |
/// | any  | child → parent  | `failed`    | a set-up step failed: stage, errno, text; the child then exits          |
///
/// Why step −1: namespaces joined by path must be entered before the new ones are made, so these belong to
/// the joined user namespace (runc's order); a helper joins them, then clones the init with CLONE_PARENT.
/// Why step 0: a cgroup namespace's root is the cgroup its creator is in at that moment, and no container
/// code may run outside the container's cgroup. A new user namespace has no ids until the parent maps them,
/// and the child cannot write host cgroup files from inside one, so the parent places it then.
/// Why step 3: the child dies with a parent killed mid-create (no half-made container outlives it),
/// but `create` exits normally once done, so the child must drop that tie first and say so.
/// After step 3 the child blocks opening exec.fifo until `start`.
public enum SyncMessage: Sendable, Equatable {
    case placed
    case listener(Int32)
    case listenerTaken
    case listenerWanted
    case console
    case hooks
    case hooksRan([UInt8])
    case ready
    case committed
    case detached
    case failed(ChildFailure)
    case spawned(pid_t)

    static let maximumText = 512

    public func encoded() -> [UInt8] {
        switch self {
        case .placed: return [5]
        case .listener(let fd):
            let raw = UInt32(bitPattern: fd)
            return [6, UInt8(truncatingIfNeeded: raw), UInt8(truncatingIfNeeded: raw >> 8),
                    UInt8(truncatingIfNeeded: raw >> 16), UInt8(truncatingIfNeeded: raw >> 24)]
        case .listenerTaken: return [10]
        case .listenerWanted: return [11]
        case .console: return [7]
        case .hooks: return [8]
        case .hooksRan(let states): return [9] + states
        case .ready: return [1]
        case .committed: return [2]
        case .detached: return [3]
        case .failed(let failure):
            let errno = UInt32(bitPattern: failure.errno)
            var bytes: [UInt8] = [4, UInt8(truncatingIfNeeded: errno), UInt8(truncatingIfNeeded: errno >> 8),
                                  UInt8(truncatingIfNeeded: errno >> 16), UInt8(truncatingIfNeeded: errno >> 24)]
            bytes += Array(failure.message.utf8.prefix(SyncMessage.maximumText))
            return bytes
        case .spawned(let pid):
            let raw = UInt32(bitPattern: pid)
            return [8, UInt8(truncatingIfNeeded: raw), UInt8(truncatingIfNeeded: raw >> 8),
                    UInt8(truncatingIfNeeded: raw >> 16), UInt8(truncatingIfNeeded: raw >> 24)]
        }
    }

    /// Puts the fd number into an encoded `.listener` message in place: made before the filter is loaded, the
    /// message then needs no allocation.
    static func setListener(_ fd: Int32, in message: inout [UInt8]) {
        let raw = UInt32(bitPattern: fd)
        for index in 0..<4 { message[1 + index] = UInt8(truncatingIfNeeded: raw >> (8 * index)) }
    }

    /// nil for a packet that is no message of ours (or the empty packet of a closed peer).
    public init?(decoding bytes: [UInt8]) {
        guard let kind = bytes.first else { return nil }
        switch kind {
        case 5 where bytes.count == 1: self = .placed
        case 6 where bytes.count == 5:
            self = .listener(Int32(bitPattern: UInt32(bytes[1]) | UInt32(bytes[2]) << 8 | UInt32(bytes[3]) << 16 | UInt32(bytes[4]) << 24))
        case 10 where bytes.count == 1: self = .listenerTaken
        case 11 where bytes.count == 1: self = .listenerWanted
        case 7 where bytes.count == 1: self = .console
        case 8 where bytes.count == 1: self = .hooks
        case 9: self = .hooksRan(Array(bytes.dropFirst()))
        case 1 where bytes.count == 1: self = .ready
        case 2 where bytes.count == 1: self = .committed
        case 3 where bytes.count == 1: self = .detached
        case 4 where bytes.count >= 5:
            let errno = Int32(bitPattern: UInt32(bytes[1]) | UInt32(bytes[2]) << 8 | UInt32(bytes[3]) << 16 | UInt32(bytes[4]) << 24)
            self = .failed(ChildFailure(message: String(decoding: bytes[5...], as: UTF8.self), errno: errno))
        case 8 where bytes.count == 5:
            self = .spawned(pid_t(bitPattern: UInt32(bytes[1]) | UInt32(bytes[2]) << 8 | UInt32(bytes[3]) << 16 | UInt32(bytes[4]) << 24))
        default: return nil
        }
    }
}

/// What the child reports when set-up fails: already a whole sentence (`mount proc on /proc: EPERM (...)`).
public struct ChildFailure: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public var errno: Int32
    public var description: String { message }

    public init(message: String, errno: Int32) {
        self.message = message
        self.errno = errno
    }
}

/// The parent's side of the protocol as a state machine, so message order is checked in one place
/// and unit-tested without forking.
public struct ParentSync: Sendable {
    public enum Phase: Sendable, Equatable { case awaitingReady, awaitingDetached, done }
    public private(set) var phase: Phase = .awaitingReady

    public init() {}

    public enum ProtocolError: Error, Equatable, CustomStringConvertible {
        case childExited(Phase)
        case unexpected(SyncMessage, Phase)
        public var description: String {
            switch self {
            case .childExited: return "container init exited during set-up"
            case .unexpected(let message, let phase): return "container init sent \(message) while \(phase)"
            }
        }
    }

    /// Feeds one received packet (nil: the child closed its end). Throws the child's failure or a protocol error.
    public mutating func receive(_ message: SyncMessage?) throws {
        guard let message else { throw ProtocolError.childExited(phase) }
        switch (phase, message) {
        case (_, .failed(let failure)): throw failure
        case (.awaitingReady, .listener), (.awaitingReady, .console): break  // an fd came or is to be taken; ready is still to come
        case (.awaitingReady, .hooks): break  // the caller runs the hooks and answers; ready is still to come
        case (.awaitingReady, .ready): phase = .awaitingDetached
        case (.awaitingDetached, .detached): phase = .done
        default: throw ProtocolError.unexpected(message, phase)
        }
    }
}
