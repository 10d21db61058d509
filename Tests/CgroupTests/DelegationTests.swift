import Foundation
import Testing

@testable import Cgroups
import OCISpec

/// Rootless cgroups: an ordinary user keeps only the hierarchies delegated to it, and the resources those cover.
@Suite struct DelegationTests {
    @Test func rootKeepsEverything() {
        let set = CgroupSet(version: .v1, paths: ["pids": "/nonexistent/pids/c", "devices": "/nonexistent/devices/c"])
        #expect(set.usable(byUID: 0) == set)
    }

    @Test func anOrdinaryUserKeepsWhatItMayWriteButNeverDevices() throws {
        let fake = try FakeRoot()
        try FileManager.default.createDirectory(atPath: fake.root + "/pids/delegated", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: fake.root + "/devices/delegated", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: fake.root + "/memory", withIntermediateDirectories: true)
        let set = CgroupSet(version: .v1, paths: [
            "pids": fake.root + "/pids/delegated/c1", "devices": fake.root + "/devices/delegated/c1",
            "memory": "/proc/sys/c1",  // below a directory nobody may create in
        ])
        // (As root the temp dirs are writable; /proc/sys is not, even for root.)
        let kept = set.usable(byUID: 4_000_000_123)
        #expect(kept.paths == ["pids": fake.root + "/pids/delegated/c1"])
    }

    /// No delegated cgroup at all: nothing is made or written, on either version.
    @Test func anEmptySetDoesNothing() throws {
        for version in [CgroupVersion.v1, .v2] {
            let manager = CgroupManager(CgroupSet(version: version, paths: [:]))
            try manager.create()
            try manager.apply(Resources(pids: Resources.Pids(limit: 10)))
            try manager.placeFromParent(getpid(), initPlacesItself: false)
            #expect(try manager.pids() == [])
            #expect(manager.oomKillCount() == nil && !manager.isFrozen())
            try manager.destroy()
        }
    }

    @Test func resourcesOfMissingControllersAreSkippedByField() {
        let manager = CgroupManager(CgroupSet(version: .v1, paths: ["pids": "/x/pids/c"]))
        let resources = Resources(memory: Resources.Memory(limit: 1 << 20), pids: Resources.Pids(limit: 10))
        let (kept, skipped) = manager.keepingUsable(resources)
        #expect(kept?.pids == Resources.Pids(limit: 10))
        #expect(kept?.memory == nil)
        #expect(skipped == [".linux.resources.memory"])
        let none = CgroupManager(CgroupSet(version: .v2, paths: [:]))
        let (nothing, all) = none.keepingUsable(Resources(pids: Resources.Pids(limit: 10), unified: ["pids.max": "5"]))
        #expect(nothing?.pids == nil && nothing?.unified.isEmpty == true)
        #expect(all == [".linux.resources.pids", ".linux.resources.unified"])
    }
}
