import Sys

/// The tmpfs mounts the set-up's mount loop made and has not mounted over since. Each holds only what the set-up
/// made in it, so a target directly inside one (the default spec's /dev/pts, /dev/shm and /dev/mqueue on its
/// /dev) is made there at once, on one fd of it kept for all of them: no lookup of the whole path that can only
/// miss, and no lookup of the parent per target. A mount made anywhere else might cover one of them: then all are
/// forgotten, and targets are resolved inside the root as usual.
struct FreshTmpfsMounts {
    private var known: [(destination: String, fd: FileDescriptor?)] = []

    /// The target of a mount at `destination` when its parent is a known tmpfs: made there (Files.makeEntry: never
    /// a symlink, so it stays in that tmpfs). nil when it has none or making it there failed: the caller resolves
    /// it inside `root`. Either way what a mount there may cover is forgotten first: the known tmpfs at or under
    /// `destination`, or, for a target not made here, every one.
    mutating func target(_ destination: String, in root: FileDescriptor, directory: Bool) -> FileDescriptor? {
        guard let (parent, name) = Files.splitLast(destination),
              let index = known.firstIndex(where: { $0.destination == (parent.isEmpty ? "/" : parent) }) else {
            known.removeAll()
            return nil
        }
        // Opened on first use: one lookup for all its targets, as the resolution of each one's parent found it.
        if known[index].fd == nil { known[index].fd = Files.openInRoot(root, known[index].destination) }
        guard let fd = known[index].fd, let made = Files.makeEntry(in: fd, name, directory: directory) else {
            known.removeAll()
            return nil
        }
        let covered = FreshTmpfsMounts.trimmed(destination)
        known.removeAll { $0.destination == covered || $0.destination.hasBytePrefix(covered + "/") }
        return made
    }

    /// Forgets every known tmpfs: for a mount whose target this did not make (a cgroup mount makes its own).
    mutating func forgetAll() { known.removeAll() }

    /// A tmpfs just mounted at `destination`, empty (no tmpcopyup).
    mutating func remember(_ destination: String) {
        known.append((FreshTmpfsMounts.trimmed(destination), nil))
    }

    private static func trimmed(_ path: String) -> String {
        var path = path
        while path.utf8.count > 1 && path.utf8.last == UInt8(ascii: "/") { path.removeLast() }
        return path
    }
}
