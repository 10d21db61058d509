import Foundation
import Glibc
import Testing

@testable import Sys

/// The walks that stand in for openat2 where a kernel (before 5.6) or a caller's seccomp filter has none. This
/// kernel has openat2, so they are called directly: what they answer must be what openat2's rules answer.
@Suite struct WalkFallbackTests {
    func inode(_ fd: FileDescriptor) throws -> UInt64 { UInt64(try Files.status(fd).st_ino) }
    func inode(_ path: String) -> UInt64? { Files.statIfExists(path).map { UInt64($0.st_ino) } }

    func withTree(_ body: (String, FileDescriptor) throws -> Void) throws {
        let root = NSTemporaryDirectory() + "crabcan-walk-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.createDirectory(atPath: root + "/real/dir", withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: root + "/real/dir/file", contents: Data("x".utf8))
        symlink("/real", root + "/absolute")
        symlink("../../../../../usr/bin", root + "/up")
        symlink("dir/file", root + "/real/relative")
        try body(root, try Files.open(root, O_PATH | O_DIRECTORY))
    }

    func errno(_ body: () throws(SysError) -> FileDescriptor) -> Int32? {
        do throws(SysError) {
            _ = try body()
            return nil
        } catch {
            return error.errno
        }
    }

    /// A lookup (`making: .nothing`) resolves as RESOLVE_IN_ROOT: absolute links and `..` from the tree's root, and
    /// a name the tree lacks is ENOENT even where the host has it, with nothing made.
    @Test func lookupResolvesInsideAndMakesNothing() throws {
        try withTree { root, fd in
            let absolute = try inode(Files.walkInRoot(fd, "/absolute/dir/file", making: .nothing))
            let relative = try inode(Files.walkInRoot(fd, "real/relative", making: .nothing))
            let dotted = try inode(Files.walkInRoot(fd, "/../../real/dir/../dir", making: .nothing))
            #expect(absolute == inode(root + "/real/dir/file"))
            #expect(relative == inode(root + "/real/dir/file"))
            #expect(dotted == inode(root + "/real/dir"))
            // The host has /usr/bin/env; through `up` it is the tree's own /usr/bin, which does not exist.
            #expect(errno { () throws(SysError) in try Files.walkInRoot(fd, "up/env", making: .nothing) } == ENOENT)
            #expect(!FileManager.default.fileExists(atPath: root + "/usr"))
        }
    }

    /// Beneath, without crossing: plain components open; a symlink anywhere, `..` or `.` is refused.
    @Test func beneathRefusesSymlinksAndDots() throws {
        try withTree { root, fd in
            let plain = try inode(Files.walkBeneathNoCrossing(fd, "real/dir/file", O_RDONLY))
            #expect(plain == inode(root + "/real/dir/file"))
            #expect(errno { () throws(SysError) in try Files.walkBeneathNoCrossing(fd, "absolute/dir/file", O_RDONLY) } == ENOTDIR)
            #expect(errno { () throws(SysError) in try Files.walkBeneathNoCrossing(fd, "real/relative", O_RDONLY) } == ELOOP)
            #expect(errno { () throws(SysError) in try Files.walkBeneathNoCrossing(fd, "real/../real/dir/file", O_RDONLY) } == EXDEV)
            #expect(errno { () throws(SysError) in try Files.walkBeneathNoCrossing(fd, "real/./dir/file", O_RDONLY) } == EXDEV)
        }
    }

    /// A mount on the way is EXDEV: another file system on a directory, and a bind of a file of the same file system
    /// over the last component (as a container could plant one /proc/sys file over another: the same device, told
    /// apart by the mount id alone).
    @Test(.enabled(if: getuid() == 0, "needs root to mount"))
    func beneathRefusesAMountOnTheWay() throws {
        try withTree { root, fd in
            FileManager.default.createFile(atPath: root + "/real/decoy", contents: Data("decoy".utf8))
            #expect(mount(root + "/real/decoy", root + "/real/dir/file", nil, UInt(MS_BIND), nil) == 0)
            #expect(errno { () throws(SysError) in try Files.walkBeneathNoCrossing(fd, "real/dir/file", O_RDONLY) } == EXDEV)
            #expect(errno { () throws(SysError) in try Files.openBeneathNoCrossing(fd, "real/dir/file", O_RDONLY) } == EXDEV)
            umount(root + "/real/dir/file")
            #expect(mount("walk-test", root + "/real/dir", "tmpfs", 0, nil) == 0)
            defer { umount(root + "/real/dir") }
            FileManager.default.createFile(atPath: root + "/real/dir/file", contents: Data("y".utf8))
            #expect(errno { () throws(SysError) in try Files.walkBeneathNoCrossing(fd, "real/dir/file", O_RDONLY) } == EXDEV)
            #expect(errno { () throws(SysError) in try Files.openBeneathNoCrossing(fd, "real/dir/file", O_RDONLY) } == EXDEV)
        }
    }
}
