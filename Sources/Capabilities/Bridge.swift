// The C calls of this module: libcap, setrlimit, personality(2), fstatfs (CCap's shim) and openat2.
// This is the only file here that hands pointers to C (cap_set_flag takes a cap_value_t array, setrlimit a
// struct pointer): keeping them in one small file keeps the rest of the module free of pointer code.
import CCap
import CShim
import Glibc
import Sys

enum Bridge {
    /// Runs a call that returns -1 (or a negative value) on failure, retrying EINTR.
    static func check<T: BinaryInteger>(_ op: String, _ path: String? = nil, _ body: () -> T) throws(SysError) {
        while true {
            let result = body()
            if result >= 0 { return }
            if errno == EINTR { continue }
            throw SysError(op, path: path)
        }
    }

    /// Drops one capability from the bounding set (prctl PR_CAPBSET_DROP through libcap); needs CAP_SETPCAP.
    static func dropBound(_ cap: Int32) throws(SysError) {
        try check("cap_drop_bound", capabilityName(cap)) { cap_drop_bound(cap_value_t(cap)) }
    }

    /// capset(2) with exactly these sets (libcap: cap_init is all clear).
    static func setProcessCapabilities(effective: [Int32], permitted: [Int32], inheritable: [Int32]) throws(SysError) {
        guard let caps = cap_init() else { throw SysError("cap_init") }
        defer { cap_free(UnsafeMutableRawPointer(caps)) }
        for (flag, values) in [(CAP_EFFECTIVE, effective), (CAP_PERMITTED, permitted), (CAP_INHERITABLE, inheritable)]
        where !values.isEmpty {
            let list = values.map { cap_value_t($0) }
            try check("cap_set_flag") { list.withUnsafeBufferPointer { cap_set_flag(caps, flag, Int32($0.count), $0.baseAddress, CAP_SET) } }
        }
        try check("cap_set_proc") { cap_set_proc(caps) }
    }

    static func resetAmbient() throws(SysError) {
        try check("cap_reset_ambient") { cap_reset_ambient() }
    }

    /// prctl PR_CAP_AMBIENT_RAISE; the capability must be in both permitted and inheritable.
    static func raiseAmbient(_ cap: Int32) throws(SysError) {
        try check("cap_set_ambient", capabilityName(cap)) { cap_set_ambient(cap_value_t(cap), CAP_SET) }
    }

    static func setResourceLimit(_ resource: Int32, soft: UInt64, hard: UInt64, name: String) throws(SysError) {
        var limit = rlimit(rlim_cur: rlim_t(soft), rlim_max: rlim_t(hard))
        try check("setrlimit", name) { setrlimit(__rlimit_resource_t(resource), &limit) }
    }

    static func setPersonality(_ persona: UInt) throws(SysError) {
        try check("personality") { personality(persona) }
    }

    /// The filesystem magic of an open file (PROC_SUPER_MAGIC for procfs).
    static func filesystemType(_ fd: FileDescriptor) throws(SysError) -> Int {
        var type = -1
        try check("fstatfs") { () -> Int in
            type = ccap_fs_type(fd.raw)
            return type
        }
        return type
    }

    /// openat2 below `dir`, refusing symlinks and mount crossings on the way (RESOLVE_NO_XDEV is 0x01 in
    /// linux/openat2.h; CShim does not export it).
    static func openBeneathNoCrossing(_ dir: FileDescriptor, _ path: String, _ flags: Int32) throws(SysError) -> FileDescriptor {
        let resolve: UInt64 = 0x01 | CS_RESOLVE_NO_SYMLINKS | CS_RESOLVE_BENEATH
        var fd: Int32 = -1
        try check("open", path) { () -> Int32 in
            fd = cshim_openat2(dir.raw, path, UInt64(flags | O_CLOEXEC | O_NOFOLLOW), 0, resolve)
            return fd
        }
        return FileDescriptor(fd)
    }

    private static func capabilityName(_ cap: Int32) -> String {
        Names.capabilities.first { $0.value == cap }?.key ?? "capability \(cap)"
    }
}
