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
            if let (set, value) = MountOptions.flagOptions[option] {
                if set { flags |= value } else { flags &= ~value }
            } else if let value = MountOptions.propagationOptions[option] {
                propagation.append(value)
            } else if let (set, value) = MountOptions.recursiveOptions[option] {
                if set { recursiveSet |= value; recursiveClear &= ~value } else { recursiveClear |= value; recursiveSet &= ~value }
                // mount_setattr(2): an atime mode is set only with the whole atime field in attr_clr.
                if value & Mounts.attrAtimeMask == value { recursiveClear |= Mounts.attrAtimeMask }
            } else if option == "bind" {
                isBind = true
                flags |= Mounts.bind
            } else if option == "tmpcopyup" {
                copyUp = true
            } else if option == "rbind" {
                isBind = true
                flags |= Mounts.bind | Mounts.recursive
            } else {
                data.append(option)
            }
        }
    }

    package var dataString: String? { data.isEmpty ? nil : data.joinedText(",") }

    static let flagOptions: [String: (set: Bool, value: UInt)] = [
        "ro": (true, Mounts.readOnly), "rw": (false, Mounts.readOnly),
        "nosuid": (true, Mounts.noSUID), "suid": (false, Mounts.noSUID),
        "nodev": (true, Mounts.noDev), "dev": (false, Mounts.noDev),
        "noexec": (true, Mounts.noExec), "exec": (false, Mounts.noExec),
        "sync": (true, Mounts.synchronous), "async": (false, Mounts.synchronous),
        "dirsync": (true, Mounts.dirSync), "mand": (true, Mounts.mandatoryLock), "nomand": (false, Mounts.mandatoryLock),
        "noatime": (true, Mounts.noAtime), "atime": (false, Mounts.noAtime),
        "nodiratime": (true, Mounts.noDirAtime), "diratime": (false, Mounts.noDirAtime),
        "relatime": (true, Mounts.relatime), "norelatime": (false, Mounts.relatime),
        "strictatime": (true, Mounts.strictAtime), "nostrictatime": (false, Mounts.strictAtime),
        "lazytime": (true, Mounts.lazyTime), "nolazytime": (false, Mounts.lazyTime),
        "nosymfollow": (true, Mounts.noSymFollow), "symfollow": (false, Mounts.noSymFollow),
        "remount": (true, Mounts.remount), "defaults": (false, 0),
    ]

    /// runc's table (specconv): `r` + a flag option, applied to the whole tree (Linux 5.12; nosymfollow 5.14).
    static let recursiveOptions: [String: (set: Bool, value: UInt64)] = [
        "rro": (true, Mounts.attrReadOnly), "rrw": (false, Mounts.attrReadOnly),
        "rnosuid": (true, Mounts.attrNoSUID), "rsuid": (false, Mounts.attrNoSUID),
        "rnodev": (true, Mounts.attrNoDev), "rdev": (false, Mounts.attrNoDev),
        "rnoexec": (true, Mounts.attrNoExec), "rexec": (false, Mounts.attrNoExec),
        "rnodiratime": (true, Mounts.attrNoDirAtime), "rdiratime": (false, Mounts.attrNoDirAtime),
        "rrelatime": (true, Mounts.attrRelatime), "rnorelatime": (false, Mounts.attrRelatime),
        "rnoatime": (true, Mounts.attrNoAtime), "ratime": (false, Mounts.attrNoAtime),
        "rstrictatime": (true, Mounts.attrStrictAtime), "rnostrictatime": (false, Mounts.attrStrictAtime),
        "rnosymfollow": (true, Mounts.attrNoSymFollow), "rsymfollow": (false, Mounts.attrNoSymFollow),
    ]

    package static let propagationOptions: [String: UInt] = [
        "private": Mounts.private, "rprivate": Mounts.private | Mounts.recursive,
        "shared": Mounts.shared, "rshared": Mounts.shared | Mounts.recursive,
        "slave": Mounts.slave, "rslave": Mounts.slave | Mounts.recursive,
        "unbindable": Mounts.unbindable, "runbindable": Mounts.unbindable | Mounts.recursive,
    ]
}
