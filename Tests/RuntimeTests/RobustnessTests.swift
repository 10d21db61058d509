import Foundation
import Testing
@testable import Runtime
@testable import StateStore
import Sys

/// Issue 8 without root: one-line errors, the status of what a dead create left, cgroups.json.
@Suite struct OneLineErrorTests {
    /// Whatever an error quotes (a config value, a path, a child's text), stderr gets one line.
    @Test func controlCharactersAreEscaped() {
        #expect(Log.oneLine("plain \"quoted\" text") == "plain \"quoted\" text")
        #expect(Log.oneLine("a\nb\rc\td\u{1}e\u{7F}") == "a\\nb\\rc\\td\\u0001e\\u007f")
    }

    /// An id is shown as given (the --log file keeps it exactly, JSON-escaped); stderr still gets one line.
    @Test func badIDsStayOnOneErrorLine() {
        #expect(throws: ContainerDirectory.InvalidID.self) { try ContainerDirectory.validate("a\nb") }
        let error = ContainerDirectory.InvalidID(id: "a\nb", reason: "r").description
        #expect(Log.oneLine(error) == "invalid container id \"a\\nb\": r")
    }
}

@Suite struct DeadCreateTests {
    /// No state.json: `creating` while the create holds the lock, `stopped` once it died.
    @Test func noRecordIsStoppedWhenNoCreateIsUnderWay() {
        #expect(ContainerStatus.derive(recordedStartTime: nil, liveProcess: nil, execFifoExists: true,
                                       createInProgress: true) == .creating)
        #expect(ContainerStatus.derive(recordedStartTime: nil, liveProcess: nil, execFifoExists: true,
                                       createInProgress: false) == .stopped)
    }

    static func scratch() throws -> String {
        let root = NSTemporaryDirectory() + "crabcan-robust-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        return root
    }

    @Test func cgroupsRecordRoundTripsAndATornOneReadsAsNone() throws {
        let root = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let directory = try ContainerDirectory(root: root, id: "c1")
        let lock = try directory.create()
        defer { lock.close() }
        #expect(directory.recordedCgroups() == nil)
        let paths = ["memory": "/sys/fs/cgroup/memory/crabcan/c1", "cpu,cpuacct": "/sys/fs/cgroup/cpu,cpuacct/crabcan/c1"]
        try directory.recordCgroups(version: "v1", paths: paths)
        let recorded = try #require(directory.recordedCgroups())
        #expect(recorded.version == "v1" && recorded.paths == paths)
        // Killed between open and write: an empty file; half a write: a prefix.
        for torn in ["", "{\"cgroupVersion\":\"v1\",\"cgroupPa"] {
            try torn.write(toFile: directory.cgroupsPath, atomically: false, encoding: .utf8)
            #expect(directory.recordedCgroups() == nil)
        }
    }

    @Test func lockIsHeldWhileTheCreatorLives() throws {
        let root = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let directory = try ContainerDirectory(root: root, id: "c1")
        let lock = try directory.create()
        #expect(directory.isLocked)
        lock.close()
        #expect(!directory.isLocked)
        // Taking it again works, and sees the same directory.
        let again = try directory.lock()
        again.close()
    }

    /// remove() takes the files a state dir holds by name, and whatever else is there too (a torn write's
    /// temporary): nothing is left either way, and a directory already gone is no error.
    @Test func removeLeavesNothingWhateverTheDirectoryHolds() throws {
        let root = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: root) }
        for extra in [[], ["state.json.123.tmp"]] {
            let directory = try ContainerDirectory(root: root, id: "c\(extra.count)")
            try directory.create().close()
            for name in ["state.json", "config.json", "cgroups.json"] + extra {
                try Files.writeFile(directory.path + "/" + name, Array("{}".utf8))
            }
            try Files.mkfifo(directory.execFifoPath)
            try directory.remove()
            #expect(!FileManager.default.fileExists(atPath: directory.path), "\(extra)")
            try directory.remove()
        }
    }

    /// A lock taken on a directory that was removed (and made again) meanwhile is not this container's lock.
    @Test func lockOnARemovedDirectoryIsNotFound() throws {
        let root = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let directory = try ContainerDirectory(root: root, id: "c1")
        let first = try directory.create()
        first.close()
        #expect(Files.isSameFile(try Files.open(directory.path, O_RDONLY | O_DIRECTORY), directory.path))
        let stale = try Files.open(directory.path, O_RDONLY | O_DIRECTORY)
        try directory.remove()
        try FileManager.default.createDirectory(atPath: directory.path, withIntermediateDirectories: false)
        #expect(!Files.isSameFile(stale, directory.path))
    }
}
