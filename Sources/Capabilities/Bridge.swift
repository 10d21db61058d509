// libcap, the one C library of this module (plain syscalls live in Sys). This is the only file here that
// hands pointers to C (cap_set_flag takes a cap_value_t array), like JSON's YajlBridge for yajl.
import CCap
import CShim
import Glibc
import Sys

enum Bridge {
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
