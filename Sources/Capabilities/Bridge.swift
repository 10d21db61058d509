// libcap, the one C library of this module (plain syscalls live in Sys). This is the only file here that
// hands pointers to C (cap_set_flag takes a cap_value_t array), like JSON's YajlBridge for yajl.
import CCap
import CShim
import Glibc
import Sys

enum Bridge {
    /// How many capabilities the running kernel knows: libcap probes the bounding set (PR_CAPBSET_READ) when
    /// it loads, so asking it costs nothing where /proc/sys/kernel/cap_last_cap is a file to open and read.
    static func kernelCapabilityCount() -> Int32 { Int32(cap_max_bits()) }

    /// Drops one capability from the bounding set (prctl PR_CAPBSET_DROP through libcap); needs CAP_SETPCAP.
    static func dropBound(_ cap: Int32) throws(SysError) {
        try Sys.check("cap_drop_bound", capabilityName(cap)) { cap_drop_bound(cap_value_t(cap)) }
    }

    /// capset(2) with exactly these sets (libcap: cap_init is all clear).
    static func setProcessCapabilities(effective: [Int32], permitted: [Int32], inheritable: [Int32]) throws(SysError) {
        guard let caps = cap_init() else { throw SysError("cap_init") }
        defer { cap_free(UnsafeMutableRawPointer(caps)) }
        for (flag, values) in [(CAP_EFFECTIVE, effective), (CAP_PERMITTED, permitted), (CAP_INHERITABLE, inheritable)]
        where !values.isEmpty {
            let list = values.map { cap_value_t($0) }
            try Sys.check("cap_set_flag") { list.withUnsafeBufferPointer { cap_set_flag(caps, flag, Int32($0.count), $0.baseAddress, CAP_SET) } }
        }
        try Sys.check("cap_set_proc") { cap_set_proc(caps) }
    }

    /// The sets capset(2) will be given later: made now, so that applying them allocates nothing.
    static func prepareCapabilities(effective: [Int32], permitted: [Int32], inheritable: [Int32]) throws(SysError) -> PreparedCapabilities {
        guard let caps = cap_init() else { throw SysError("cap_init") }
        let prepared = PreparedCapabilities(caps)
        for (flag, values) in [(CAP_EFFECTIVE, effective), (CAP_PERMITTED, permitted), (CAP_INHERITABLE, inheritable)]
        where !values.isEmpty {
            let list = values.map { cap_value_t($0) }
            try Sys.check("cap_set_flag") { list.withUnsafeBufferPointer { cap_set_flag(caps, flag, Int32($0.count), $0.baseAddress, CAP_SET) } }
        }
        return prepared
    }

    /// The calling thread's sets as they are now (capget).
    static func currentCapabilities() throws(SysError) -> PreparedCapabilities {
        guard let caps = cap_get_proc() else { throw SysError("cap_get_proc") }
        return PreparedCapabilities(caps)
    }

    /// Whether `cap` is in the calling thread's effective set now (capget).
    static func isEffective(_ cap: Int32) -> Bool {
        guard let caps = cap_get_proc() else { return false }
        defer { cap_free(UnsafeMutableRawPointer(caps)) }
        var value = CAP_CLEAR
        return cap_get_flag(caps, cap_value_t(cap), CAP_EFFECTIVE, &value) == 0 && value == CAP_SET
    }

    /// Effective raised to the whole permitted set; inheritable as given when not nil.
    static func raiseEffectiveToPermitted(inheritable: [Int32]?) throws(SysError) {
        let current = try currentCapabilities()
        try Sys.check("cap_fill") { cap_fill(current.caps, CAP_EFFECTIVE, CAP_PERMITTED) }
        if let inheritable {
            try Sys.check("cap_clear_flag") { cap_clear_flag(current.caps, CAP_INHERITABLE) }
            let list = inheritable.map { cap_value_t($0) }
            if !list.isEmpty {
                try Sys.check("cap_set_flag") { list.withUnsafeBufferPointer { cap_set_flag(current.caps, CAP_INHERITABLE, Int32($0.count), $0.baseAddress, CAP_SET) } }
            }
        }
        try current.apply()
    }

    static func resetAmbient() throws(SysError) {
        try Sys.check("cap_reset_ambient") { cap_reset_ambient() }
    }

    /// prctl PR_CAP_AMBIENT_RAISE; the capability must be in both permitted and inheritable.
    static func raiseAmbient(_ cap: Int32) throws(SysError) {
        try Sys.check("cap_set_ambient", capabilityName(cap)) { cap_set_ambient(cap_value_t(cap), CAP_SET) }
    }

    private static func capabilityName(_ cap: Int32) -> String {
        Names.capabilities.first { $0.value == cap }?.key ?? "capability \(cap)"
    }
}

/// A libcap capability state made in advance; `apply()` is the capset(2) call alone.
package final class PreparedCapabilities {
    let caps: cap_t

    init(_ caps: cap_t) { self.caps = caps }

    deinit { cap_free(UnsafeMutableRawPointer(caps)) }

    package func apply() throws(SysError) {
        try Sys.check("cap_set_proc") { cap_set_proc(caps) }
    }

    /// The libcap sets, for cap_set_proc called from C (cshim_shared_init_finish); valid while this lives.
    package var handle: SharedAddressSpace.CHandle { SharedAddressSpace.CHandle(UnsafeMutableRawPointer(caps)) }
}
