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
}
