import Glibc
import Sys

/// `CgroupHost.detect`'s answer kept under the runtime root (`<root>/@cgroup-host`), for as long as the mounts it
/// names are the ones at their paths (docs/performance.md, session 20).
///
/// Reading /proc/self/mountinfo is the kernel formatting every mount up to the cgroup ones, and parsing it was 9% of
/// a `check`'s instructions. A mount's unique id (statx STATX_MNT_ID_UNIQUE, Linux 6.8) is never given to another
/// mount in the same boot, so a statx of each cached mount point that finds the same id finds the same mount: the
/// same superblock, hierarchy and root. A mount made since comes after these in the table and cannot change an
/// answer that was settled (each hierarchy found at its root, or the first cgroup2 mount), and only a settled
/// answer is kept. What else the answer depends on is the key: the boot (ids start again at each), the cgroup
/// namespace (the table's roots are shown relative to it) and the hierarchies /proc/self/cgroup names. On an older
/// kernel, or when anything differs, the table is read as before. The file is as trusted as the root's
/// containers, and like the seccomp cache it is written only once a create has succeeded (`keep`).
package final class CgroupHostCache {
    /// `@` is not allowed in a container id, and `list` looks only at directories.
    package static let fileName = "@cgroup-host"
    static let magic = Array("crabcan-cgroup-host 2\n".utf8)

    /// The key's boot for a file that cannot outlive one; a boot id has 36 characters, so it never reads as one.
    static let thisBoot = Array("in memory".utf8)

    /// tmpfs and ramfs: gone at the next boot.
    static func isInMemory(_ fileSystemType: Int) -> Bool { fileSystemType == 0x0102_1994 || fileSystemType == 0x8584_58f6 }

    package let path: String
    /// The runtime root the file is in: its file system says whether the key needs the boot.
    let root: String
    private var detected: [UInt8]?

    package init(root: String) {
        self.root = root
        path = root + "/" + Self.fileName
    }

    /// The host for this process when the file holds one for this key whose mounts are all still in place; the
    /// process's own cgroups (`own`) are never cached.
    func load(own: [(name: String, path: String)]) -> CgroupHost? {
        guard let file = try? Files.open(path, O_RDONLY),
              let key = Self.key(own: own, inMemory: Self.isInMemory((try? Files.fileSystemType(file)) ?? 0)),
              let bytes = try? file.readAll(),
              bytes.count > Self.magic.count, bytes[..<Self.magic.count].elementsEqual(Self.magic) else { return nil }
        var reader = Netstrings.Reader(bytes, from: Self.magic.count)
        guard let storedKey = reader.field(), storedKey.elementsEqual(key), let versionName = reader.text(),
              let version = CgroupVersion(rawValue: versionName), let count = reader.number(), count <= 64 else { return nil }
        var hierarchies: [CgroupHost.Hierarchy] = []
        var ids = MountInfo.MountIDReader()
        for _ in 0..<count {
            guard let name = reader.text(), let mountPoint = reader.text(), let mountRoot = reader.text(),
                  let mountID = reader.number(), ids.uniqueID(of: mountPoint) == mountID,
                  let line = own.first(where: { $0.name == name }) else { return nil }
            hierarchies.append(CgroupHost.Hierarchy(name: name, mountPoint: mountPoint, mountRoot: mountRoot, ownPath: line.path))
        }
        guard reader.isAtEnd else { return nil }
        return CgroupHost(version: version, hierarchies: hierarchies)
    }

    /// Takes `host`, read from the table, for `keep`. `tableIDs` are its mounts' ids in that table: each mount
    /// point must still show that id before its unique id is asked for, so that a mount changed since the read
    /// is not kept under the table's answer.
    func take(_ host: CgroupHost, tableIDs: [UInt64], own: [(name: String, path: String)]) {
        guard tableIDs.count == host.hierarchies.count,
              let key = Self.key(own: own, inMemory: Self.isInMemory(Files.fileSystemType(at: root))) else { return }
        var out = Self.magic
        Netstrings.append(key, to: &out)
        Netstrings.append(host.version.rawValue, to: &out)
        Netstrings.append(UInt64(host.hierarchies.count), to: &out)
        for (hierarchy, tableID) in zip(host.hierarchies, tableIDs) {
            guard MountInfo.mountID(of: hierarchy.mountPoint, unique: false) == tableID,
                  let unique = MountInfo.mountID(of: hierarchy.mountPoint, unique: true) else { return }
            Netstrings.append(hierarchy.name, to: &out)
            Netstrings.append(hierarchy.mountPoint, to: &out)
            Netstrings.append(hierarchy.mountRoot, to: &out)
            Netstrings.append(unique, to: &out)
        }
        detected = out
    }

    /// Writes what this command read from the table, once it has succeeded: atomically, so that a reader finds
    /// a whole file or the one before. A failure only costs the next command the read.
    package func keep() {
        guard let detected else { return }
        try? Files.writeFileAtomically(path, detected, mode: 0o600)
        self.detected = nil
    }

    /// This boot, this cgroup namespace and /proc/self/cgroup's hierarchy names, in order; nil when one cannot be had.
    /// The namespace is named by its link's text, "cgroup:[inode]": reading it is half a stat through it, which
    /// makes the namespace's nsfs inode each time. A file in memory (`inMemory`: the usual /run) was written in
    /// this boot, so its key names none and the boot id is not read (an open, two reads and a close per command).
    static func key(own: [(name: String, path: String)], inMemory: Bool) -> [UInt8]? {
        let boot = inMemory ? Self.thisBoot : Processes.bootID()
        guard let boot, let namespace = try? Files.readLink("/proc/self/ns/cgroup") else { return nil }
        var key: [UInt8] = []
        Netstrings.append(boot, to: &key)
        Netstrings.append(namespace, to: &key)
        Netstrings.append(UInt64(own.count), to: &key)
        for line in own { Netstrings.append(line.name, to: &key) }
        return key
    }
}
