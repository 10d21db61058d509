import Foundation
import Glibc
import Testing

@testable import Sys

/// Subdirectories come from readdir's d_type: the cgroup walks of `delete` and `ps` rely on it to skip the
/// control files without a stat each.
@Suite struct DirectoryListingTests {
    @Test func subdirectoriesLeaveOutFilesLinksAndDots() throws {
        let root = NSTemporaryDirectory() + "crabcan-listing-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: root) }
        for dir in ["a", "b", "b/nested"] { try FileManager.default.createDirectory(atPath: root + "/" + dir, withIntermediateDirectories: true) }
        FileManager.default.createFile(atPath: root + "/file", contents: Data("x".utf8))
        mkfifo(root + "/fifo", 0o600)
        symlink("a", root + "/link-to-dir")
        #expect(try Files.listSubdirectories(root).sorted() == ["a", "b"])
        #expect(try Files.listDirectory(root).sorted() == ["a", "b", "fifo", "file", "link-to-dir"])
        #expect(try Files.listSubdirectories(root + "/a") == [])
    }

    @Test func aCgroupsSubdirectoriesAreItsChildCgroups() throws {
        // /sys/fs/cgroup's hierarchies are directories on cgroupfs (kernfs gives d_type); skipped where absent.
        guard let hierarchy = ["/sys/fs/cgroup/pids", "/sys/fs/cgroup"].first(where: { CgroupFiles.isCgroupFS($0) }) else { return }
        let names = try Files.listSubdirectories(hierarchy)
        #expect(!names.contains("cgroup.procs"))
        for name in names { #expect(Files.isDirectory(hierarchy + "/" + name), "\(name)") }
    }

    @Test func aMissingDirectoryIsAnError() {
        #expect(throws: SysError.self) { try Files.listSubdirectories("/nonexistent-crabcan-dir") }
    }
}
