import Sys

/// The tmpfs mounts the set-up's mount loop made and has not mounted over since. Each holds only what the set-up
/// made in it, so a target directly inside one (the default spec's /dev/pts, /dev/shm and /dev/mqueue on its
/// /dev) is made there at once, on one fd of it kept for all of them: no lookup of the whole path that can only
/// miss, and no lookup of the parent per target. A mount made anywhere else might cover one of them: then all are
/// forgotten, and targets are resolved inside the root as usual.
struct FreshTmpfsMounts {
    /// Their destinations, without trailing slashes. Strings only, and one fd beside them (the parent last used):
    /// an array of (destination, fd) pairs was a type the runtime made on every `run`.
    private var known: [String] = []
    private var openDestination: String?
    private var openFD: FileDescriptor?

    /// The target of a mount at `destination` when its parent is a known tmpfs: made there (Files.makeEntry: never
    /// a symlink, so it stays in that tmpfs). nil when it has none or making it there failed: the caller resolves
    /// it inside `root`. Either way what a mount there may cover is forgotten first: the known tmpfs at or under
    /// `destination`, or, for a target not made here, every one.
    mutating func target(_ destination: String, in root: FileDescriptor, directory: Bool) -> FileDescriptor? {
        guard let (parentPath, name) = Files.splitLast(destination) else {
            forgetAll()
            return nil
        }
        let parent = parentPath.isEmpty ? "/" : parentPath
        guard known.contains(parent) else {
            forgetAll()
            return nil
        }
        // Opened on first use: one lookup for all its targets, as the resolution of each one's parent found it.
        if openDestination != parent {
            openFD = Files.openInRoot(root, parent)
            openDestination = parent
        }
        guard let fd = openFD, let made = Files.makeEntry(in: fd, name, directory: directory) else {
            forgetAll()
            return nil
        }
        let covered = FreshTmpfsMounts.trimmed(destination)
        known.removeAll { $0 == covered || $0.hasBytePrefix(covered + "/") }
        if let open = openDestination, !known.contains(open) { forgetOpen() }
        return made
    }

    /// Forgets every known tmpfs: for a mount whose target this did not make (a cgroup mount makes its own).
    mutating func forgetAll() {
        known.removeAll()
        forgetOpen()
    }

    /// A tmpfs just mounted at `destination`, empty (no tmpcopyup).
    mutating func remember(_ destination: String) {
        known.append(FreshTmpfsMounts.trimmed(destination))
    }

    private mutating func forgetOpen() {
        openDestination = nil
        openFD = nil
    }

    private static func trimmed(_ path: String) -> String {
        var path = path
        while path.utf8.count > 1 && path.utf8.last == UInt8(ascii: "/") { path.removeLast() }
        return path
    }
}
