import Testing

@testable import Sys

@Suite struct CPUListTests {
    /// The kernel's list format: sysfs's "online" ends in a newline; a config's lists must not (ProcessScheduling).
    @Test func listsBecomeBitmaps() {
        #expect(CPUList.bitmap("0-1\n") == [0b11])
        #expect(CPUList.bitmap("0-3,7") == [0b1000_1111])
        #expect(CPUList.bitmap(" 2 , 64-65") == [0b100, 0b11])
        #expect(CPUList.bitmap("") == [])
        for bad in ["x", "3-1", "-1", "1-2-3", "1,,2", "8192", "0-8192", "\n\n"] {
            #expect(CPUList.bitmap(bad) == nil, "\(bad)")
        }
    }

    @Test func sameSetWhateverTheTrailingZeroWords() {
        #expect(CPUList.same([0b11], [0b11, 0, 0]))
        #expect(!CPUList.same([0b11], [0b11, 1]))
        #expect(CPUList.same([], [0]))
        #expect(CPUList.every.count * 64 == 8192 && CPUList.every.allSatisfy { $0 == ~0 })
    }

    /// What sched_getaffinity gives this test process is a subset of what is online.
    @Test func ownAffinityIsOnline() throws {
        let own = try Processes.affinity()
        let online = try #require(Processes.onlineCPUs())
        #expect(!own.isEmpty && zip(own, online + Array(repeating: 0, count: max(0, own.count - online.count))).allSatisfy { $0 & ~$1 == 0 })
        let cpu = try #require(Processes.currentCPU())
        #expect(online[cpu / 64] & (1 << UInt64(cpu % 64)) != 0)
    }
}
