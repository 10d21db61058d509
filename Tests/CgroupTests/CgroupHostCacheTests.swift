import Foundation
import Glibc
import Testing

@testable import Cgroups
import Sys

/// The detected cgroup mounts kept under the runtime root: used only while every mount it names is the one at
/// its path, in this boot and cgroup namespace, and never taken from a table a mount changed under.
@Suite(.serialized) struct CgroupHostCacheTests {
    /// The kernel gives unique mount ids (Linux 6.8); below that the cache is never used.
    static var uniqueMountIDs: Bool { MountInfo.mountID(of: "/", unique: true) != nil }
    static var rootWithUniqueMountIDs: Bool { geteuid() == 0 && uniqueMountIDs }

    static func ownLines() throws -> [(name: String, path: String)] {
        CgroupHost.lines(ofSelfCgroup: try Files.readFile("/proc/self/cgroup"))
    }

    static func makeRoot() throws -> String {
        let root = NSTemporaryDirectory() + "crabcan-hostcache-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try Files.mkdir(root, mode: 0o700)
        return root
    }

    /// A cache under `root` kept for one hierarchy mounted at "/" (named as our first line), and the file's bytes.
    static func keepRootHierarchy(in root: String, own: [(name: String, path: String)]) throws -> (CgroupHostCache, [UInt8]) {
        let host = CgroupHost(version: .v2, hierarchies: [
            CgroupHost.Hierarchy(name: own[0].name, mountPoint: "/", mountRoot: "/", ownPath: "/")])
        let cache = CgroupHostCache(root: root)
        cache.take(host, tableIDs: [try #require(MountInfo.mountID(of: "/", unique: false))], own: own)
        cache.keep()
        return (cache, try Files.readFile(cache.path))
    }

    /// A new directory with a small tmpfs on it; the caller unmounts it.
    static func tmpfs(at path: String) throws -> String {
        try Files.mkdir(path)
        try Mounts.mount(source: "tmpfs", target: path, type: "tmpfs", flags: 0, data: "size=64k", describe: "test tmpfs")
        return path
    }

    static func removeRoot(_ root: String) {
        try? FileManager.default.removeItem(atPath: root)
    }

    @Test(.enabled(if: CgroupHostCacheTests.uniqueMountIDs)) func theKeptAnswerIsTheTablesAndIsUsedWithoutTheTable() throws {
        let root = try Self.makeRoot()
        defer { Self.removeRoot(root) }
        let fromTable = try CgroupHost.detect()
        let cache = CgroupHostCache(root: root)
        #expect(try CgroupHost.detect(cache: cache) == fromTable)
        // Nothing is written before the command has succeeded.
        #expect(!Files.exists(cache.path))
        cache.keep()
        #expect(Files.exists(cache.path))
        let loaded = CgroupHostCache(root: root).load(own: try Self.ownLines())
        #expect(loaded == fromTable)
        #expect(try CgroupHost.detect(cache: CgroupHostCache(root: root)) == fromTable)
    }

    @Test(.enabled(if: CgroupHostCacheTests.rootWithUniqueMountIDs)) func anEntryHoldsOnlyWhileItsMountIsAtItsPath() throws {
        let root = try Self.makeRoot()
        defer { Self.removeRoot(root) }
        let point = try Self.tmpfs(at: root + "/point")
        var mounted = 1
        defer { for _ in 0..<mounted { try? Mounts.unmount(point, detach: true) } }
        let own = try Self.ownLines()
        let name = try #require(own.first).name
        let host = CgroupHost(version: .v1, hierarchies: [
            CgroupHost.Hierarchy(name: name, mountPoint: point, mountRoot: "/", ownPath: "/ignored")])
        let tableID = try #require(MountInfo.mountID(of: point, unique: false))

        let cache = CgroupHostCache(root: root)
        cache.take(host, tableIDs: [tableID], own: own)
        cache.keep()
        let loaded = try #require(CgroupHostCache(root: root).load(own: own))
        #expect(loaded.hierarchies.map(\.mountPoint) == [point])
        // The process's own cgroup comes from /proc/self/cgroup, never from the file.
        #expect(loaded.hierarchies.map(\.ownPath) == [own[0].path])

        // Another mount over the path: the entry no longer holds.
        try Mounts.mount(source: "tmpfs", target: point, type: "tmpfs", flags: 0, data: "size=4k", describe: "cover")
        mounted += 1
        #expect(CgroupHostCache(root: root).load(own: own) == nil)
        try Mounts.unmount(point)
        mounted -= 1
        #expect(CgroupHostCache(root: root).load(own: own) != nil)

        // A new mount at the path gets a new unique id even where the table reuses the old one's.
        try Mounts.unmount(point)
        mounted -= 1
        try Mounts.mount(source: "tmpfs", target: point, type: "tmpfs", flags: 0, data: "size=4k", describe: "again")
        mounted += 1
        #expect(CgroupHostCache(root: root).load(own: own) == nil)
    }

    @Test(.enabled(if: CgroupHostCacheTests.uniqueMountIDs)) func aMountChangedSinceTheTableWasReadIsNotKept() throws {
        let root = try Self.makeRoot()
        defer { Self.removeRoot(root) }
        let own = try Self.ownLines()
        let host = CgroupHost(version: .v2, hierarchies: [
            CgroupHost.Hierarchy(name: "", mountPoint: "/", mountRoot: "/", ownPath: "/")])
        let tableID = try #require(MountInfo.mountID(of: "/", unique: false))
        let cache = CgroupHostCache(root: root)
        cache.take(host, tableIDs: [tableID &+ 1], own: own)
        cache.keep()
        #expect(!Files.exists(cache.path))
        cache.take(host, tableIDs: [tableID], own: own)
        cache.keep()
        #expect(Files.exists(cache.path))
    }

    @Test(.enabled(if: CgroupHostCacheTests.uniqueMountIDs)) func anotherBootATornFileOrOtherHierarchiesAreNotUsed() throws {
        let root = try Self.makeRoot()
        defer { Self.removeRoot(root) }
        let own = try Self.ownLines()
        let (cache, whole) = try Self.keepRootHierarchy(in: root, own: own)
        #expect(CgroupHostCache(root: root).load(own: own) != nil)

        // The boot id is the key's first field: the same file written in another boot.
        let boot = try Files.readFile("/proc/sys/kernel/random/boot_id")
        let at = try #require(whole.indices.first { whole[$0...].starts(with: boot) })
        var otherBoot = whole
        otherBoot[at] = otherBoot[at] == UInt8(ascii: "0") ? UInt8(ascii: "1") : UInt8(ascii: "0")
        try Files.writeFileAtomically(cache.path, otherBoot, mode: 0o600)
        #expect(CgroupHostCache(root: root).load(own: own) == nil)

        try Files.writeFileAtomically(cache.path, Array(whole.dropLast()), mode: 0o600)
        #expect(CgroupHostCache(root: root).load(own: own) == nil)

        try Files.writeFileAtomically(cache.path, whole, mode: 0o600)
        #expect(CgroupHostCache(root: root).load(own: own + [(name: "name=other", path: "/")]) == nil)
        #expect(CgroupHostCache(root: root).load(own: own) != nil)
    }
    /// A root in memory (tmpfs, as /run) cannot hold a file from another boot: its key names none, so a command
    /// reads no boot id; the same bytes moved to a disk, where the key needs the boot, are not used there.
    @Test(.enabled(if: CgroupHostCacheTests.rootWithUniqueMountIDs)) func aRootInMemoryKeysNoBootAndItsFileHoldsNowhereElse() throws {
        let disk = try Self.makeRoot()
        defer { Self.removeRoot(disk) }
        let memory = try Self.tmpfs(at: disk + "/memory")
        defer { try? Mounts.unmount(memory, detach: true) }
        let own = try Self.ownLines()
        let (_, whole) = try Self.keepRootHierarchy(in: memory, own: own)
        let boot = try Files.readFile("/proc/sys/kernel/random/boot_id")
        #expect(!whole.indices.contains { whole[$0...].starts(with: boot) })
        #expect(whole.indices.contains { whole[$0...].starts(with: CgroupHostCache.thisBoot) })
        #expect(CgroupHostCache(root: memory).load(own: own)?.hierarchies.map(\.mountPoint) == ["/"])

        try Files.writeFileAtomically(CgroupHostCache(root: disk).path, whole, mode: 0o600)
        #expect(CgroupHostCache(root: disk).load(own: own) == nil)
    }
}
