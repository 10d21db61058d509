import Testing
@testable import StateStore
@testable import Sys

@Suite struct StatusDerivationTests {
    @Test func noRecordIsCreating() {
        #expect(ContainerStatus.derive(recordedStartTime: nil, liveProcess: nil, execFifoExists: true) == .creating)
    }

    @Test func liveInitWithFifoIsCreated() {
        #expect(ContainerStatus.derive(recordedStartTime: 42, liveProcess: ("S", 42), execFifoExists: true) == .created)
    }

    @Test func liveInitWithoutFifoIsRunningOrPaused() {
        #expect(ContainerStatus.derive(recordedStartTime: 42, liveProcess: ("S", 42), execFifoExists: false) == .running)
        #expect(ContainerStatus.derive(recordedStartTime: 42, liveProcess: ("S", 42), execFifoExists: false, frozen: true) == .paused)
    }

    @Test func goneZombieOrRecycledPidIsStopped() {
        #expect(ContainerStatus.derive(recordedStartTime: 42, liveProcess: nil, execFifoExists: true) == .stopped)
        #expect(ContainerStatus.derive(recordedStartTime: 42, liveProcess: ("Z", 42), execFifoExists: false) == .stopped)
        // The pid now belongs to a process that started later: not our container.
        #expect(ContainerStatus.derive(recordedStartTime: 42, liveProcess: ("S", 99), execFifoExists: true) == .stopped)
    }

    /// `list` of many containers: the exec fifo is looked at only for a live init, the freezer only for one that
    /// has started (a cgroup file costs a kernfs path walk).
    @Test func theFifoAndTheFreezerAreReadOnlyWhenTheyDecide() {
        var looked: [String] = []
        func fifo(_ exists: Bool) -> Bool { looked.append("fifo"); return exists }
        func freezer() -> Bool { looked.append("freezer"); return false }
        #expect(ContainerStatus.derive(recordedStartTime: 42, liveProcess: nil, execFifoExists: fifo(true), frozen: freezer()) == .stopped)
        #expect(looked == [])
        #expect(ContainerStatus.derive(recordedStartTime: 42, liveProcess: ("S", 42), execFifoExists: fifo(true), frozen: freezer()) == .created)
        #expect(looked == ["fifo"])
        #expect(ContainerStatus.derive(recordedStartTime: 42, liveProcess: ("S", 42), execFifoExists: fifo(false), frozen: freezer()) == .running)
        #expect(looked == ["fifo", "fifo", "freezer"])
    }

    @Test func procStatParsesNamesWithSpacesAndParentheses() throws {
        let line = "1234 (my (odd) name) S 1 1234 1234 0 -1 4194560 100 0 0 0 0 0 0 0 20 0 1 0 987654 1000 10"
        let parsed = try #require(Processes.parseStat(Array(line.utf8)))
        #expect(parsed.state == "S")
        #expect(parsed.startTime == 987654)
        #expect(Processes.parseStat(Array("garbage".utf8)) == nil)
        #expect(Processes.parseStat(Array("1234 (short) S 1 1234 1234 0 -1".utf8)) == nil, "no field 22")
        #expect(Processes.parseStat(Array("1234 (neg) S 1 1234 1234 0 -1 4194560 100 0 0 0 0 0 0 0 20 0 1 0 -5 1000".utf8)) == nil)
        #expect(Processes.parseStat(Array("1234 (last) R 1 1234 1234 0 -1 4194560 100 0 0 0 0 0 0 0 20 0 1 0 77".utf8))?.startTime == 77)
    }

    @Test func liveProcessStartTimeIsStable() throws {
        let first = try #require(Processes.startTime(of: Processes.pid))
        #expect(Processes.startTime(of: Processes.pid) == first)
    }

    /// `stat(of:)` reads the line once: what it finds is what the whole file, read to its end, says.
    @Test func oneReadOfStatIsTheWholeLine() throws {
        let whole = try Files.readFile(Processes.procPath(Processes.pid, "stat"))
        #expect(whole.last == UInt8(ascii: "\n"))
        let expected = try #require(Processes.parseStat(whole))
        let read = try #require(Processes.stat(of: Processes.pid))
        #expect(read.startTime == expected.startTime)
        #expect(read.state != "Z" && read.state != "X")
        #expect(Processes.stat(of: Int32.max) == nil, "no such process")
    }
}

@Suite struct ContainerIDTests {
    @Test(arguments: ["c1", "my-container_2.0", "a+b", String(repeating: "x", count: 1024)])
    func acceptsRuncIDs(_ id: String) throws {
        try ContainerDirectory.validate(id)
    }

    @Test(arguments: ["", ".", "..", "a/b", "../etc", "a b", "é", "a\nb", String(repeating: "x", count: 1025)])
    func refusesIDsThatCouldEscapeOrConfuse(_ id: String) {
        #expect(throws: ContainerDirectory.InvalidID.self) { try ContainerDirectory.validate(id) }
    }
}

@Suite struct ContainerRecordTests {
    @Test func roundTripsThroughJSON() throws {
        let record = ContainerRecord(ociVersion: "1.0.2", id: "c1", pid: 77, startTime: 18_446_744_073_709_551_615,
                                     bundle: "/b", rootfs: "/b/rootfs", created: "2026-01-01T00:00:00.000000000Z",
                                     owner: "", annotations: ["k": "v \"quoted\""])
        #expect(try ContainerRecord.decode(record.encoded()) == record)
        var owning = record
        owning.ownsPidNamespace = true
        #expect(try ContainerRecord.decode(owning.encoded()) == owning)
    }

    /// A state.json written before the field existed reads as a shared pid namespace: `delete` then kills every
    /// process of the cgroup, the safe side.
    @Test func aRecordWithoutThePidNamespaceFieldSharesTheHosts() throws {
        let old = #"{"ociVersion":"1.0.2","id":"c1","pid":7,"startTime":9,"bundle":"/b","rootfs":"/b/r","created":"x","owner":""}"#
        #expect(try ContainerRecord.decode(Array(old.utf8)).ownsPidNamespace == false)
    }

    @Test func corruptStateIsATypedError() {
        #expect(throws: ContainerRecord.Corrupt.self) { try ContainerRecord.decode(Array("{\"id\":1}".utf8)) }
        #expect(throws: ContainerRecord.Corrupt.self) { try ContainerRecord.decode(Array("{".utf8)) }
    }
}
