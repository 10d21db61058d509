import Foundation
import Glibc
import Testing

@testable import Sys

/// `openOrCreateInRoot` opens a mount target as the container will see it: symlinks and `..` never leave the
/// rootfs, whether the kernel resolves an existing path (openat2 RESOLVE_IN_ROOT) or the walk makes what is missing.
@Suite struct RootResolutionTests {
    func inode(_ fd: FileDescriptor) throws -> UInt64 { UInt64(try Files.status(fd).st_ino) }
    func inode(_ path: String) -> UInt64? { Files.statIfExists(path).map { UInt64($0.st_ino) } }

    func withRootfs(_ body: (String, FileDescriptor) throws -> Void) throws {
        let root = NSTemporaryDirectory() + "crabcan-inroot-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.createDirectory(atPath: root + "/real/dir", withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: root + "/real/dir/file", contents: Data("x".utf8))
        symlink("/real", root + "/absolute")          // absolute: from the rootfs's own root
        symlink("../../../../../etc", root + "/up")   // climbs: stops at the rootfs's root
        symlink("/missing/target", root + "/dangling")
        symlink("/outside-file", root + "/real/dir/out")  // a file target's last component, dangling
        try body(root, try Files.open(root, O_PATH | O_DIRECTORY))
    }

    @Test func existingTargetsThroughSymlinksStayInside() throws {
        try withRootfs { root, fd in
            let file = try inode(Files.openOrCreateInRoot(fd, "/absolute/dir/file", directory: false))
            let dir = try inode(Files.openOrCreateInRoot(fd, "real/dir/../dir", directory: true))
            let real = try inode(Files.openOrCreateInRoot(fd, "/../../real", directory: true))
            #expect(file == inode(root + "/real/dir/file"))
            #expect(dir == inode(root + "/real/dir"))
            #expect(real == inode(root + "/real"))
        }
    }

    @Test func whatIsMissingIsMadeInside() throws {
        try withRootfs { root, fd in
            // /etc/hostname of the host exists; through `up` it is the rootfs's /etc that gets it, made empty.
            let made = try inode(Files.openOrCreateInRoot(fd, "up/hostname", directory: false))
            #expect(made == inode(root + "/etc/hostname"))
            #expect(made != inode("/etc/hostname"))
            // A dangling link's target is made where it points inside the rootfs, as a directory when asked.
            let target = try inode(Files.openOrCreateInRoot(fd, "dangling", directory: true))
            #expect(target == inode(root + "/missing/target"))
            #expect(Files.isDirectory(root + "/missing/target"))
        }
    }

    /// A file target is made without opening what may already be there: a FIFO planted (or raced in) at the name
    /// is left as it is, and the call returns (opened for writing, it blocked until a reader came).
    @Test func makingAFileTargetOpensNothingThatIsThere() throws {
        try withRootfs { root, fd in
            #expect(mkfifo(root + "/real/dir/fifo", 0o644) == 0)
            let dir = try Files.openAt(fd, "real/dir", O_PATH | O_DIRECTORY)
            try Files.createFile(in: dir, "fifo")
            #expect(Files.lstatMode(root + "/real/dir/fifo").map { $0 & S_IFMT } == S_IFIFO)
            try Files.createFile(in: dir, "made")
            #expect(Files.lstatMode(root + "/real/dir/made").map { $0 & S_IFMT } == S_IFREG)
        }
    }

    /// A missing last component is made in its parent as the kernel resolves that parent inside the rootfs; a
    /// symlink in its place is left to the walk, which makes its target inside.
    @Test func aMissingLastComponentIsMadeInItsResolvedParent() throws {
        try withRootfs { root, fd in
            let dir = try inode(Files.openOrCreateInRoot(fd, "/absolute/dir/new/", directory: true))
            #expect(dir == inode(root + "/real/dir/new") && Files.isDirectory(root + "/real/dir/new"))
            let file = try inode(Files.openOrCreateInRoot(fd, "/absolute/dir/newfile", directory: false))
            #expect(file == inode(root + "/real/dir/newfile") && !Files.isDirectory(root + "/real/dir/newfile"))
            let throughLink = try inode(Files.openOrCreateInRoot(fd, "/real/dir/out", directory: false))
            #expect(throughLink == inode(root + "/outside-file"))
            #expect(inode("/outside-file") == nil)
            let linkedDir = try inode(Files.openOrCreateInRoot(fd, "/dangling", directory: true))
            #expect(linkedDir == inode(root + "/missing/target"))
        }
    }
}
