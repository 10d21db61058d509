import Sys

/// The `options` of a config.json mount, split the way mount(2) wants them.
/// Unknown options pass through as filesystem data (`size=65536k`, `mode=755`), as runc does.
package struct MountOptions: Sendable, Equatable {
    package var flags: UInt = 0
    /// Propagation changes (`rprivate`, `shared`, ...) need their own mount(2) call after the mount.
    package var propagation: [UInt] = []
    package var data: [String] = []
    package var isBind = false
    /// runc's `tmpcopyup`: a tmpfs starts with a copy of the directory it covers (podman's `--read-only` mounts).
    package var copyUp = false
    /// runc's recursive options (`rro`, `rnosuid`, ...): mount_setattr(AT_RECURSIVE) flags to set and clear on
    /// the mount and every mount under it, once it is made (a plain remount changes the top mount only).
    package var recursiveSet: UInt64 = 0
    package var recursiveClear: UInt64 = 0
    package var hasRecursiveAttributes: Bool { recursiveSet | recursiveClear != 0 }
    /// Flags a bind mount must get through a second, MS_REMOUNT call: the kernel ignores them on the bind itself.
    package var needsRemount: Bool { isBind && flags & ~(Mounts.bind | Mounts.recursive) != 0 }

    package init() {}

    package init(_ options: [String], type: String?) {
        if type == "bind" { isBind = true; flags |= Mounts.bind }
        for option in options {
            switch MountOptions.meaning(of: option) {
            case .flag(let set, let value):
                if set { flags |= value } else { flags &= ~value }
            case .propagation(let value):
                propagation.append(value)
            case .recursive(let set, let value):
                if set { recursiveSet |= value; recursiveClear &= ~value } else { recursiveClear |= value; recursiveSet &= ~value }
                // mount_setattr(2): an atime mode is set only with the whole atime field in attr_clr.
                if value & Mounts.attrAtimeMask == value { recursiveClear |= Mounts.attrAtimeMask }
            case .bind(let recursive):
                isBind = true
                flags |= Mounts.bind | (recursive ? Mounts.recursive : 0)
            case .copyUp:
                copyUp = true
            case nil:
                data.append(option)
            }
        }
    }

    package var dataString: String? { data.isEmpty ? nil : data.joinedText(",") }

    /// What one option asks of mount(2).
    enum Meaning {
        case flag(set: Bool, value: UInt)
        case propagation(UInt)
        /// runc's `r` + a flag option, applied to the whole tree (Linux 5.12; nosymfollow 5.14).
        case recursive(set: Bool, value: UInt64)
        case bind(recursive: Bool)
        case copyUp
    }

    /// runc's tables (specconv) as one switch: a config names a few options per mount, and a dictionary of them
    /// was built and hashed (SipHash) in every process that read one, ~50 K instructions of a `create`.
    static func meaning(of option: String) -> Meaning? {
        // No name below holds '=': a `key=value` option (mode=755, size=65536k) is data without fifty-odd string
        // compares (a switch on strings tries its cases in turn).
        if option.utf8.contains(UInt8(ascii: "=")) { return nil }
        return switch option {
        case "ro": .flag(set: true, value: Mounts.readOnly)
        case "rw": .flag(set: false, value: Mounts.readOnly)
        case "nosuid": .flag(set: true, value: Mounts.noSUID)
        case "suid": .flag(set: false, value: Mounts.noSUID)
        case "nodev": .flag(set: true, value: Mounts.noDev)
        case "dev": .flag(set: false, value: Mounts.noDev)
        case "noexec": .flag(set: true, value: Mounts.noExec)
        case "exec": .flag(set: false, value: Mounts.noExec)
        case "sync": .flag(set: true, value: Mounts.synchronous)
        case "async": .flag(set: false, value: Mounts.synchronous)
        case "dirsync": .flag(set: true, value: Mounts.dirSync)
        case "mand": .flag(set: true, value: Mounts.mandatoryLock)
        case "nomand": .flag(set: false, value: Mounts.mandatoryLock)
        case "noatime": .flag(set: true, value: Mounts.noAtime)
        case "atime": .flag(set: false, value: Mounts.noAtime)
        case "nodiratime": .flag(set: true, value: Mounts.noDirAtime)
        case "diratime": .flag(set: false, value: Mounts.noDirAtime)
        case "relatime": .flag(set: true, value: Mounts.relatime)
        case "norelatime": .flag(set: false, value: Mounts.relatime)
        case "strictatime": .flag(set: true, value: Mounts.strictAtime)
        case "nostrictatime": .flag(set: false, value: Mounts.strictAtime)
        case "lazytime": .flag(set: true, value: Mounts.lazyTime)
        case "nolazytime": .flag(set: false, value: Mounts.lazyTime)
        case "nosymfollow": .flag(set: true, value: Mounts.noSymFollow)
        case "symfollow": .flag(set: false, value: Mounts.noSymFollow)
        case "remount": .flag(set: true, value: Mounts.remount)
        case "defaults": .flag(set: false, value: 0)
        case "bind": .bind(recursive: false)
        case "rbind": .bind(recursive: true)
        case "tmpcopyup": .copyUp
        case "rro": .recursive(set: true, value: Mounts.attrReadOnly)
        case "rrw": .recursive(set: false, value: Mounts.attrReadOnly)
        case "rnosuid": .recursive(set: true, value: Mounts.attrNoSUID)
        case "rsuid": .recursive(set: false, value: Mounts.attrNoSUID)
        case "rnodev": .recursive(set: true, value: Mounts.attrNoDev)
        case "rdev": .recursive(set: false, value: Mounts.attrNoDev)
        case "rnoexec": .recursive(set: true, value: Mounts.attrNoExec)
        case "rexec": .recursive(set: false, value: Mounts.attrNoExec)
        case "rnodiratime": .recursive(set: true, value: Mounts.attrNoDirAtime)
        case "rdiratime": .recursive(set: false, value: Mounts.attrNoDirAtime)
        case "rrelatime": .recursive(set: true, value: Mounts.attrRelatime)
        case "rnorelatime": .recursive(set: false, value: Mounts.attrRelatime)
        case "rnoatime": .recursive(set: true, value: Mounts.attrNoAtime)
        case "ratime": .recursive(set: false, value: Mounts.attrNoAtime)
        case "rstrictatime": .recursive(set: true, value: Mounts.attrStrictAtime)
        case "rnostrictatime": .recursive(set: false, value: Mounts.attrStrictAtime)
        case "rnosymfollow": .recursive(set: true, value: Mounts.attrNoSymFollow)
        case "rsymfollow": .recursive(set: false, value: Mounts.attrNoSymFollow)
        default: propagation(option).map { .propagation($0) }
        }
    }

    /// The flags of a propagation option (`rprivate`, `shared`, ...), as a mount option or `rootfsPropagation`.
    package static func propagation(_ option: String) -> UInt? {
        switch option {
        case "private": Mounts.private
        case "rprivate": Mounts.private | Mounts.recursive
        case "shared": Mounts.shared
        case "rshared": Mounts.shared | Mounts.recursive
        case "slave": Mounts.slave
        case "rslave": Mounts.slave | Mounts.recursive
        case "unbindable": Mounts.unbindable
        case "runbindable": Mounts.unbindable | Mounts.recursive
        default: nil
        }
    }
}
