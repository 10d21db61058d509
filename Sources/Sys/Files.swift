import CShim
import Glibc

/// File-system calls, each throwing a SysError that names the path.
/// Paths go to the kernel through withCString: the implicit String-to-pointer conversion copies a small string
/// through ContiguousArray, standard-library code the link order cannot arrange (docs/performance.md).
package enum Files {
    package static func open(_ path: String, _ flags: Int32, mode: mode_t = 0o644) throws(SysError) -> FileDescriptor {
                FileDescriptor(try check("open", path) { path.withCString { Glibc.open($0, flags | O_CLOEXEC, mode) } })
    }

    package static func openAt(_ dir: FileDescriptor, _ path: String, _ flags: Int32, mode: mode_t = 0o644) throws(SysError) -> FileDescriptor {
        FileDescriptor(try check("open", path) { path.withCString { Glibc.openat(dir.raw, $0, flags | O_CLOEXEC, mode) } })
    }

    package static func exists(_ path: String) -> Bool { path.withCString { access($0, F_OK) } == 0 }

    package static func isDirectory(_ path: String) -> Bool {
        var st = Glibc.stat()
        return path.withCString { stat($0, &st) } == 0 && (st.st_mode & S_IFMT) == S_IFDIR
    }

    package static func lstatMode(_ path: String) -> mode_t? {
        var st = Glibc.stat()
        return path.withCString { lstat($0, &st) } == 0 ? st.st_mode : nil
    }

    package static func status(_ path: String) throws(SysError) -> Glibc.stat {
        var st = Glibc.stat()
        try check("stat", path) { path.withCString { stat($0, &st) } }
        return st
    }

    package static func status(_ fd: FileDescriptor) throws(SysError) -> Glibc.stat {
        var st = Glibc.stat()
        try check("fstat") { fstat(fd.raw, &st) }
        return st
    }

    package static func mkdir(_ path: String, mode: mode_t = 0o755) throws(SysError) {
        try check("mkdir", path) { path.withCString { Glibc.mkdir($0, mode) } }
    }

    /// mkdir -p: existing directories are fine. Tries the leaf first and climbs only on ENOENT, so the
    /// common case (parent exists) is one syscall, not one per component. True when this call made the leaf.
    @discardableResult
    package static func makeDirectories(_ path: String, mode: mode_t = 0o755) throws(SysError) -> Bool {
        if path.withCString({ Glibc.mkdir($0, mode) }) == 0 { return true }
        switch errno {
        case EEXIST:
            guard isDirectory(path) else { throw SysError("mkdir", path: path, errno: ENOTDIR) }
            return false
        case ENOENT:
            guard let parent = PathText.beforeLastSlash(path), !parent.isEmpty else { throw SysError("mkdir", path: path) }
            try makeDirectories(parent, mode: mode)
            if path.withCString({ Glibc.mkdir($0, mode) }) == 0 { return true }
            if errno != EEXIST { throw SysError("mkdir", path: path) }
            return false
        default:
            throw SysError("mkdir", path: path)
        }
    }

    package static func mkfifo(_ path: String, mode: mode_t = 0o622) throws(SysError) {
        try check("mkfifo", path) { path.withCString { Glibc.mkfifo($0, mode) } }
    }

    package static func unlink(_ path: String) throws(SysError) { try check("unlink", path) { path.withCString { Glibc.unlink($0) } } }
    package static func rmdir(_ path: String) throws(SysError) { try check("rmdir", path) { path.withCString { Glibc.rmdir($0) } } }

    package static func rename(_ from: String, _ to: String) throws(SysError) {
        try check("rename", "\(from) to \(to)") { Glibc.rename(from, to) }
    }

    package static func symlink(target: String, at path: String) throws(SysError) {
        // withCString: the implicit String-to-pointer conversion copies each string into a ContiguousArray.
        try check("symlink", path) { target.withCString { target in path.withCString { Glibc.symlink(target, $0) } } }
    }

    package static func readLink(_ path: String) throws(SysError) -> String {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let n = try check("readlink", path) { path.withCString { Glibc.readlink($0, &buffer, Int(PATH_MAX)) } }
        return String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    package static func chown(_ path: String, uid: uid_t, gid: gid_t) throws(SysError) {
        try check("chown", path) { path.withCString { Glibc.chown($0, uid, gid) } }
    }

    package static func chmod(_ path: String, _ mode: mode_t) throws(SysError) {
        try check("chmod", path) { path.withCString { Glibc.chmod($0, mode) } }
    }

    package static func mknod(_ path: String, mode: mode_t, major: UInt32, minor: UInt32) throws(SysError) {
        try check("mknod", path) { path.withCString { Glibc.mknod($0, mode, cshim_makedev(major, minor)) } }
    }

    package static func readFile(_ path: String) throws(SysError) -> [UInt8] {
        try open(path, O_RDONLY).readAll()
    }

    package static func readText(_ path: String) throws(SysError) -> String {
        String(decoding: try readFile(path), as: UTF8.self)
    }

    package static func writeFile(_ path: String, _ bytes: [UInt8], mode: mode_t = 0o644) throws(SysError) {
        let fd = try open(path, O_WRONLY | O_CREAT | O_TRUNC, mode: mode)
        // The fd alone cannot say which file a full disk refused.
        do { try fd.write(bytes) } catch { throw SysError("write", path: path, errno: error.errno) }
    }

    /// Temp file, then rename: a reader sees the old or the new content, never half (docs/design.md §3). No fsync
    /// (the starting design asked for one): runtime state lives on tmpfs (/run) and means nothing after a reboot, while
    /// an fsync on a disk-backed --root cost ≈1 ms of every create.
    /// The temp file is named for this process, so two writers of one path (the seccomp cache's entries, written
    /// without a lock) never write into each other's.
    package static func writeFileAtomically(_ path: String, _ bytes: [UInt8], mode: mode_t = 0o644) throws(SysError) {
        let temporary = path + "." + DecimalText.of(Int32(getpid())) + ".tmp"
        let fd = try open(temporary, O_WRONLY | O_CREAT | O_TRUNC, mode: mode)
        do {
            try fd.write(bytes)
        } catch {
            // A full disk must not also leave the half-written temp file behind.
            Glibc.unlink(temporary)
            throw SysError("write", path: path, errno: error.errno)
        }
        fd.close()
        do { try rename(temporary, path) } catch {
            Glibc.unlink(temporary)
            throw error
        }
    }

    /// Names in a directory, without `.` and `..`.
    package static func listDirectory(_ path: String) throws(SysError) -> [String] {
        try listDirectory(path) { _, _ in true }
    }

    /// Names of the subdirectories in a directory, by readdir's d_type (a stat only where the file system gives
    /// no type): a cgroup's dozen control files cost no stat each.
    package static func listSubdirectories(_ path: String) throws(SysError) -> [String] {
        try listDirectory(path) { name, type in
            type == DT_DIR || (type == DT_UNKNOWN && isDirectory(path + "/" + name))
        }
    }

    private static func listDirectory(_ path: String, where keep: (String, Int32) -> Bool) throws(SysError) -> [String] {
        guard let dir = opendir(path) else { throw SysError("opendir", path: path) }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                stringFromC(raw.bindMemory(to: CChar.self).baseAddress!)
            }
            if name != "." && name != ".." && keep(name, Int32(entry.pointee.d_type)) { names.append(name) }
        }
        return names
    }

    /// Removes a directory and the plain files in it (state dirs are one level deep).
    /// Removes a directory of files. `expected` names what it usually holds: those go by name, and the directory
    /// is listed only when something else is left (a listing is an open, a stat, two getdents and a close).
    package static func removeFlatDirectory(_ path: String, expected: [String] = []) throws(SysError) {
        for name in expected { try unlinkIfPresent(path + "/" + name) }
        if !expected.isEmpty && path.withCString({ Glibc.rmdir($0) }) == 0 { return }
        guard isDirectory(path) else { return }
        for name in try listDirectory(path) { try unlinkIfPresent(path + "/" + name) }
        if path.withCString({ Glibc.rmdir($0) }) == -1 && errno != ENOENT { throw SysError("rmdir", path: path) }
    }

    private static func unlinkIfPresent(_ file: String) throws(SysError) {
        if file.withCString({ Glibc.unlink($0) }) == -1 && errno != ENOENT { throw SysError("unlink", path: file) }
    }

    package static func realPath(_ path: String) throws(SysError) -> String {
        guard let resolved = path.withCString({ realpath($0, nil) }) else { throw SysError("realpath", path: path) }
        defer { free(resolved) }
        return stringFromC(resolved)
    }

    package static func currentDirectory() throws(SysError) -> String {
        guard let cwd = getcwd(nil, 0) else { throw SysError("getcwd") }
        defer { free(cwd) }
        return stringFromC(cwd)
    }

    package static func chdir(_ path: String) throws(SysError) { try check("chdir", path) { path.withCString { Glibc.chdir($0) } } }
    package static func fchdir(_ fd: FileDescriptor) throws(SysError) { try check("fchdir") { Glibc.fchdir(fd.raw) } }
    package static func chroot(_ path: String) throws(SysError) { try check("chroot", path) { path.withCString { Glibc.chroot($0) } } }

    /// flock: per-container mutual exclusion between crabcan processes (docs/design.md §3).
    package static func lock(_ fd: FileDescriptor, exclusive: Bool = true) throws(SysError) {
        try check("flock") { flock(fd.raw, exclusive ? LOCK_EX : LOCK_SH) }
    }

    /// A non-blocking exclusive flock: false when another open file holds one.
    package static func tryLock(_ fd: FileDescriptor) -> Bool {
        retryingEINTR { flock(fd.raw, LOCK_EX | LOCK_NB) } == 0
    }

    /// True when `path` (followed) is the file `fd` is open on.
    package static func isSameFile(_ fd: FileDescriptor, _ path: String) -> Bool {
        var a = Glibc.stat()
        var b = Glibc.stat()
        return fstat(fd.raw, &a) == 0 && path.withCString({ stat($0, &b) }) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino
    }

    package static func umask(_ mask: mode_t) -> mode_t { Glibc.umask(mask) }
}

extension Files {
    /// mkdirat: EEXIST is fine (a racing creator made the same thing).
    package static func makeDirectory(in dir: FileDescriptor, _ name: String, mode: mode_t = 0o755) throws(SysError) {
        if mkdirat(dir.raw, name, mode) == -1 && errno != EEXIST { throw SysError("mkdir", path: name) }
    }

    /// An empty regular file, as a bind-mount target for a file source; EEXIST is fine (the caller opens what is
    /// there O_NOFOLLOW and checks its type). Made with mknodat, not opened: what a racing writer of a shared rootfs
    /// put there first is never opened for writing (a FIFO would block the init, a device could act on the open).
    package static func createFile(in dir: FileDescriptor, _ name: String, mode: mode_t = 0o644) throws(SysError) {
        if mknodat(dir.raw, name, S_IFREG | mode, 0) == -1 && errno != EEXIST { throw SysError("create", path: name) }
    }

    package static func isDirectory(_ fd: FileDescriptor) -> Bool {
        var st = Glibc.stat()
        return fstat(fd.raw, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
    }

    /// Opens `path` inside `root`, making what is missing on the way (directories, and the last component as a
    /// directory or an empty file). The walk goes fd by fd with O_NOFOLLOW: a symlink is read from the fd just
    /// opened and walked again from `root` (absolute) or its directory (relative), and `..` pops a component
    /// we walked, never above `root`. So a symlink planted in the rootfs, even a dangling one or one swapped
    /// while we walk, cannot send a mount to the host (CVE-2021-30465); missing targets are made inside.
    /// A target that exists is resolved by the kernel inside `root` in one call (`openInRoot`): the same rules, and
    /// a walk of four components cost ~25 µs here (a cgroup v1 mount makes 23 of them). The walk is for what is
    /// missing, for magic links, and for kernels without openat2.
    package static func openOrCreateInRoot(_ root: FileDescriptor, _ path: String, directory: Bool) throws(SysError) -> FileDescriptor {
        if let existing = openInRoot(root, path) { return existing }
        if let made = makeLastInRoot(root, path, directory: directory) { return made }
        return try walkInRoot(root, path, making: directory ? .directory : .file)
    }

    /// The usual miss is the last component alone: its parent, resolved by the kernel inside `root`, takes it
    /// (`makeEntry`). nil, and the walk decides, when the parent cannot be resolved, the name is not a plain one,
    /// or `makeEntry` gives nothing. Three or four calls where the walk from `root` takes one more per component
    /// of the parent.
    private static func makeLastInRoot(_ root: FileDescriptor, _ path: String, directory: Bool) -> FileDescriptor? {
        guard let (parentPath, name) = splitLast(path),
              let parent = openInRoot(root, parentPath.isEmpty ? "/" : parentPath) else { return nil }
        return makeEntry(in: parent, name, directory: directory)
    }

    /// `path` without trailing slashes as its parent ("" for the root) and a last component that is a plain
    /// name (not empty, `.` or `..`); nil when it has none.
    package static func splitLast(_ path: String) -> (parent: String, name: String)? {
        var path = path
        while path.utf8.count > 1 && path.utf8.last == UInt8(ascii: "/") { path.removeLast() }
        guard let parent = PathText.beforeLastSlash(path) else { return nil }
        let name = String(decoding: path.utf8.dropFirst(parent.utf8.count + 1), as: UTF8.self)
        guard !name.isEmpty, name != ".", name != ".." else { return nil }
        return (parent, name)
    }

    /// `name` in the directory `parent`, made unless something is there (mkdirat, or mknodat for a file) and
    /// opened O_PATH without following it. nil when making or opening it failed or what is there is a symlink
    /// (planted, or made meanwhile by a writer of a shared rootfs): O_DIRECTORY refuses one (and anything but a
    /// directory) in the open itself; a file's fd is checked with fstat.
    package static func makeEntry(in parent: FileDescriptor, _ name: String, directory: Bool) -> FileDescriptor? {
        do throws(SysError) {
            if directory {
                try makeDirectory(in: parent, name)
                return try openAt(parent, name, O_PATH | O_NOFOLLOW | O_DIRECTORY)
            }
            try createFile(in: parent, name)
            let made = try openAt(parent, name, O_PATH | O_NOFOLLOW)
            return try status(made).st_mode & S_IFMT == S_IFLNK ? nil : made
        } catch {
            return nil
        }
    }

    /// What `walkInRoot` does about a component that is not there.
    package enum MissingComponent {
        /// Fails with ENOENT: a lookup.
        case nothing
        /// Makes the missing directories and the last component as a directory, or as an empty file.
        case directory, file
    }

    /// The walk of `openOrCreateInRoot`, fd by fd with O_NOFOLLOW, symlinks read and walked again inside `root`.
    package static func walkInRoot(_ root: FileDescriptor, _ path: String, making missing: MissingComponent) throws(SysError) -> FileDescriptor {
        var remaining = ArraySlice(path.split(separator: "/").map(String.init))
        var walked: [FileDescriptor] = [root]
        var symlinks = 0
        while let name = remaining.first {
            remaining = remaining.dropFirst()
            if name == "." { continue }
            if name == ".." {
                if walked.count > 1 { walked.removeLast() }
                continue
            }
            let parent = walked[walked.count - 1]
            var opened: FileDescriptor
            do throws(SysError) {
                opened = try openAt(parent, name, O_PATH | O_NOFOLLOW)
            } catch where error.errno == ENOENT && missing != .nothing {
                if remaining.isEmpty && missing == .file {
                    try createFile(in: parent, name)
                } else {
                    try makeDirectory(in: parent, name)
                }
                opened = try openAt(parent, name, O_PATH | O_NOFOLLOW)
            }
            guard try status(opened).st_mode & S_IFMT == S_IFLNK else {
                walked.append(opened)
                continue
            }
            symlinks += 1
            if symlinks > 40 { throw SysError("resolve", path: path, errno: ELOOP) }
            let target = try readLink(opened)
            if target.hasBytePrefix("/") { walked = [root] }
            remaining = ArraySlice(target.split(separator: "/").map(String.init)) + remaining
        }
        return walked[walked.count - 1]
    }

    /// The target of the symlink `fd` was opened on (O_PATH|O_NOFOLLOW), read from the fd itself.
    package static func readLink(_ fd: FileDescriptor) throws(SysError) -> String {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let n = try check("readlink") { readlinkat(fd.raw, "", &buffer, Int(PATH_MAX)) }
        return String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// O_PATH needs _GNU_SOURCE, so Glibc does not export it: an fd that names a file without opening it.
package let O_PATH: Int32 = CS_O_PATH
