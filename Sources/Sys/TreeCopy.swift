import Glibc

extension Files {
    /// Copies what is in directory `source` into directory `destination` (both open fds): subdirectories,
    /// files, symlinks and fifos with their modes and owners; other kinds (devices, sockets) are skipped.
    /// Every step is relative to an fd and never follows a link, so the tree cannot send the copy elsewhere.
    /// For `tmpcopyup`: the tmpfs put over a directory starts with what the directory held.
    package static func copyTree(from source: FileDescriptor, to destination: FileDescriptor) throws(SysError) {
        let original = try status(source)
        try check("fchmod") { fchmod(destination.raw, original.st_mode & 0o7777) }
        try check("fchown") { fchown(destination.raw, original.st_uid, original.st_gid) }
        for name in try listDirectory(source.procPath) {
            var st = Glibc.stat()
            try check("fstatat", name) { fstatat(source.raw, name, &st, AT_SYMLINK_NOFOLLOW) }
            let mode = st.st_mode & 0o7777
            switch st.st_mode & S_IFMT {
            case S_IFDIR:
                try check("mkdirat", name) { mkdirat(destination.raw, name, 0o700) }
                let from = try openAt(source, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW)
                let to = try openAt(destination, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW)
                try copyTree(from: from, to: to)
                continue  // copyTree set its mode and owner
            case S_IFREG:
                let from = try openAt(source, name, O_RDONLY | O_NOFOLLOW)
                let to = try openAt(destination, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, mode: 0o600)
                while true {
                    let chunk = try from.read(count: 1 << 16)
                    if chunk.isEmpty { break }
                    try to.write(chunk)
                }
            case S_IFLNK:
                let target = try readLink(try openAt(source, name, O_PATH | O_NOFOLLOW))
                try check("symlinkat", name) { symlinkat(target, destination.raw, name) }
            case S_IFIFO:
                try check("mkfifoat", name) { mkfifoat(destination.raw, name, 0o600) }
            default:
                continue
            }
            try check("fchownat", name) { fchownat(destination.raw, name, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) }
            if st.st_mode & S_IFMT != S_IFLNK {
                try check("fchmodat", name) { fchmodat(destination.raw, name, mode, 0) }
            }
        }
    }
}
