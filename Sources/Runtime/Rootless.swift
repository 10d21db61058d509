import Cgroups
import Glibc
import Launcher
import OCISpec
import Sys

/// What changes when crabcan runs as an ordinary user (rootless containers): where state lives, which cgroups
/// it may use, and the mappings `spec --rootless` writes.
extension Runtime {
    /// `--root` when not given. Root: /run/crabcan. Anyone else cannot write there: $XDG_RUNTIME_DIR/crabcan
    /// (runc's rule), else /run/user/<uid>/crabcan when that directory is the caller's, else /tmp/crabcan-<uid>,
    /// which must be the caller's own if it exists (another user could have made it to watch or feed us).
    /// `runtimeDirectory` is $XDG_RUNTIME_DIR, asked for only when the caller is not root.
    package static func stateRoot(uid: UInt32, runtimeDirectory: () -> String?) throws -> String {
        guard uid != 0 else { return defaultRoot }
        if let xdg = runtimeDirectory(), xdg.hasBytePrefix("/") {
            return xdg + "/crabcan"
        }
        let session = "/run/user/\(uid)"
        if let st = try? Files.status(session), st.st_uid == uid, st.st_mode & S_IFMT == S_IFDIR {
            return session + "/crabcan"
        }
        let fallback = "/tmp/crabcan-\(uid)"
        if let mode = Files.lstatMode(fallback) {
            let owner = (try? Files.status(fallback))?.st_uid
            guard mode & S_IFMT == S_IFDIR, owner == uid, mode & 0o022 == 0 else {
                throw RuntimeError("\(fallback) is not a private directory of uid \(uid): set XDG_RUNTIME_DIR or pass --root")
            }
        }
        return fallback
    }

    /// The cgroups `create` uses and the resources it writes there. Root: every planned hierarchy, the config's
    /// resources and runc's default device rules. An ordinary user: only the hierarchies delegated to it and the
    /// fields they cover; the rest is skipped with a warning, and device rules always (they need CAP_SYS_ADMIN,
    /// and a user namespace cannot mknod anyway), as runc's rootless mode does.
    func cgroupsForCaller(_ planned: CgroupSet, _ linux: Linux?) -> (CgroupManager, Resources) {
        let uid = UInt32(Processes.effectiveUID)
        if uid == 0 { return (CgroupManager(planned), DeviceRules.effective(linux)) }
        let manager = CgroupManager(planned.usable(byUID: uid))
        let (kept, skipped) = manager.keepingUsable(linux?.resources)
        for field in skipped where field != ".linux.resources.devices" {
            log.warning("\(field) skipped: uid \(uid) has no writable (delegated) cgroup for it")
        }
        if !(linux?.resources?.devices ?? []).isEmpty {
            log.warning(".linux.resources.devices skipped: device cgroup rules need root")
        }
        var resources = kept ?? Resources()
        resources.devices = []
        return (manager, resources)
    }

    /// `spec --rootless`: runc's rootless config (the caller's ids as root), plus the caller's ranges from
    /// /etc/subuid and /etc/subgid as ids 1 and up when newuidmap/newgidmap are installed to write them, so the
    /// container has more than one user (files owned by other ids in an image, `gid=5` for terminals).
    package static func rootlessDefaultSpec() -> Spec {
        let uid = UInt32(Processes.effectiveUID)
        let gid = UInt32(Processes.effectiveGID)
        let name = userName(uid: uid, passwd: (try? Files.readText("/etc/passwd")) ?? "")
        let subUIDs = subordinateRange((try? Files.readText("/etc/subuid")) ?? "", user: name, id: uid)
        let subGIDs = subordinateRange((try? Files.readText("/etc/subgid")) ?? "", user: name, id: uid)
        // Only both or neither: a second range for one map alone would leave the other container ids unmapped;
        // and only where newuidmap and newgidmap can write them.
        let path = Processes.environment().first { $0.hasBytePrefix("PATH=") }.map { String($0.dropFirst(5)) }
        guard let subUIDs, let subGIDs, Processes.findProgram("newuidmap", path: path) != nil,
              Processes.findProgram("newgidmap", path: path) != nil else { return Spec.makeDefault(rootless: true) }
        return Spec.makeDefault(rootless: true, hostUID: uid, hostGID: gid,
                                extraUIDMappings: [IDMapping(containerID: 1, hostID: subUIDs.start, size: subUIDs.count)],
                                extraGIDMappings: [IDMapping(containerID: 1, hostID: subGIDs.start, size: subGIDs.count)])
    }

    static func userName(uid: UInt32, passwd: String) -> String? {
        for line in passwd.split(separator: "\n") {
            let fields = line.split(separator: ":", omittingEmptySubsequences: false)
            if fields.count > 2, UInt32(fields[2]) == uid { return String(fields[0]) }
        }
        return nil
    }

    /// The first "name:start:count" (or "uid:start:count") line of /etc/subuid or /etc/subgid for the caller.
    static func subordinateRange(_ text: String, user: String?, id: UInt32) -> (start: UInt32, count: UInt32)? {
        for line in text.split(separator: "\n") where !line.hasBytePrefix("#") {
            let fields = line.split(separator: ":", omittingEmptySubsequences: false)
            guard fields.count == 3, fields[0] == String(id) || (user != nil && fields[0] == user!),
                  let start = UInt32(fields[1]), let count = UInt32(fields[2]), count > 0,
                  UInt64(start) + UInt64(count) < UInt64(UInt32.max) else { continue }
            // Container ids 1...count must stay below 4294967295 too.
            return (start, min(count, UInt32.max - 2))
        }
        return nil
    }
}
