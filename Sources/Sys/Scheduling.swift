import CShim
import Glibc

/// The calling process's scheduling and memory placement, inherited by what it execs.
extension Processes {
    package static func setScheduler(policy: UInt32, flags: UInt64, nice: Int32, priority: UInt32,
                                    runtime: UInt64, deadline: UInt64, period: UInt64) throws(SysError) {
        try check("sched_setattr") { cshim_sched_setattr(policy, flags, nice, priority, runtime, deadline, period) }
    }

    /// `ioprio` is class << 13 | level, as ioprio_set(2) takes it.
    package static func setIOPriority(_ ioprio: Int32) throws(SysError) {
        try check("ioprio_set") { cshim_ioprio_set_self(ioprio) }
    }

    /// `mask`: bit n of word n/64 is CPU n.
    package static func setAffinity(_ mask: [UInt64]) throws(SysError) {
        try check("sched_setaffinity") { mask.withUnsafeBufferPointer { cshim_sched_setaffinity_self($0.baseAddress, $0.count * 8) } }
    }

    /// `nodes`: bit n of word n/64 is node n (empty for modes that take none).
    package static func setMemoryPolicy(mode: Int32, nodes: [UInt64]) throws(SysError) {
        try check("set_mempolicy") {
            // maxnode counts one more than the bits the kernel reads (set_mempolicy(2)).
            nodes.withUnsafeBufferPointer { cshim_set_mempolicy(mode, $0.baseAddress, UInt(nodes.isEmpty ? 0 : nodes.count * 64 + 1)) }
        }
    }

    /// The CPUs this process may run on (bit n of word n/64 is CPU n), as many words as the kernel's mask fills.
    package static func affinity() throws(SysError) -> [UInt64] {
        var words = [UInt64](repeating: 0, count: CPUList.maskWords)
        let bytes = try check("sched_getaffinity") { words.withUnsafeMutableBufferPointer { cshim_sched_getaffinity_self($0.baseAddress, $0.count * 8) } }
        return Array(words.prefix(Int(bytes) / 8))
    }

    /// The CPU this process runs on now (glibc reads it from rseq or the vDSO: no system call); nil if unknown.
    package static func currentCPU() -> Int? {
        let cpu = cshim_current_cpu()
        return cpu < 0 ? nil : Int(cpu)
    }

    /// The CPUs online now, from sysfs (/sys/devices/system/cpu/online, "0-3,6"); nil where it cannot be read.
    package static func onlineCPUs() -> [UInt64]? {
        guard let text = try? Files.readFile("/sys/devices/system/cpu/online") else { return nil }
        return CPUList.bitmap(text)
    }
}

/// The kernel's CPU and node lists ("0-3,7", cpulist_parse's format) as bitmaps: bit n of word n/64 is n.
package enum CPUList {
    /// Words enough for 8192 CPUs, the most a distribution kernel is built for (CONFIG_NR_CPUS); the kernel reads
    /// only as many as its own mask holds.
    package static let maskWords = 128
    /// Every CPU set: given to sched_setaffinity, it leaves the task as free as its cpuset allows.
    package static let every = [UInt64](repeating: ~0, count: maskWords)

    /// nil for text that is not a list of numbers and ranges below 8192 (spaces around numbers and a final newline
    /// are allowed); [] for "".
    package static func bitmap(_ list: String) -> [UInt64]? { bitmap(Array(list.utf8)) }

    package static func bitmap(_ list: [UInt8]) -> [UInt64]? {
        var words: [UInt64] = []
        let end = list.last == UInt8(ascii: "\n") ? list.count - 1 : list.count
        var at = 0
        // One number, spaces around it allowed; nil if none.
        func number() -> Int? {
            while at < end && list[at] == UInt8(ascii: " ") { at += 1 }
            var value: Int?
            while at < end, list[at] >= UInt8(ascii: "0"), list[at] <= UInt8(ascii: "9") {
                value = (value ?? 0) * 10 + Int(list[at] - UInt8(ascii: "0"))
                if value! >= maskWords * 64 { return nil }
                at += 1
            }
            while at < end && list[at] == UInt8(ascii: " ") { at += 1 }
            return value
        }
        while at < end {
            guard let low = number() else { return nil }
            var high = low
            if at < end && list[at] == UInt8(ascii: "-") {
                at += 1
                guard let bound = number(), bound >= low else { return nil }
                high = bound
            }
            if at < end {
                guard list[at] == UInt8(ascii: ","), at + 1 < end else { return nil }
                at += 1
            }
            while words.count <= high / 64 { words.append(0) }
            for n in low...high { words[n / 64] |= 1 << UInt64(n % 64) }
        }
        return words
    }

    /// The same set, whatever the number of trailing zero words.
    package static func same(_ a: [UInt64], _ b: [UInt64]) -> Bool {
        (0..<max(a.count, b.count)).allSatisfy { (a.indices.contains($0) ? a[$0] : 0) == (b.indices.contains($0) ? b[$0] : 0) }
    }
}
