import CSeccomp

// The one bridge to libseccomp's C API. It is the only file in this module that handles a C pointer:
// the filter context is an opaque `void *` owned by libseccomp, and `seccomp_rule_add_array` takes a
// pointer to an array of comparisons. Everything else in the module speaks in Swift values.

/// Owns one `scmp_filter_ctx`; released once, when the last `SeccompProgram` copy goes away.
/// The context is plain heap memory, so a forked child inherits a usable copy and simply execs without
/// releasing it.
final class FilterContext {
    private let ctx: scmp_filter_ctx

    /// nil when libseccomp refuses the default action (it returns NULL without an errno).
    init?(defaultAction: UInt32) {
        guard let ctx = seccomp_init(defaultAction) else { return nil }
        self.ctx = ctx
    }

    deinit { seccomp_release(ctx) }

    /// Returns 0 or a negative errno, as libseccomp does.
    func addArchitecture(_ token: UInt32) -> Int32 { seccomp_arch_add(ctx, token) }

    func setAttribute(_ attribute: scmp_filter_attr, _ value: UInt32) -> Int32 { seccomp_attr_set(ctx, attribute, value) }

    func addRule(action: UInt32, syscall: Int32, comparisons: [scmp_arg_cmp]) -> Int32 {
        comparisons.withUnsafeBufferPointer { buffer in
            seccomp_rule_add_array(ctx, action, syscall, UInt32(buffer.count), buffer.baseAddress)
        }
    }

    /// Writes the filter's BPF program (a sock_filter array) to `fd`; 0 or a negative errno.
    func exportBPF(to fd: Int32) -> Int32 { seccomp_export_bpf(ctx, fd) }

    // Names go through withCString: the implicit conversion copies a short string (most syscall names) through
    // ContiguousArray, standard-library code the link order cannot arrange (docs/performance.md).
    static func resolveArchitecture(_ name: String) -> UInt32 { name.withCString { seccomp_arch_resolve_name($0) } }

    static func resolveSyscall(_ name: String) -> Int32 { name.withCString { seccomp_syscall_resolve_name($0) } }

    /// The number of `name` on `architecture`; negative when it has no such call.
    static func syscallNumber(_ name: String, on architecture: UInt32) -> Int32 {
        name.withCString { seccomp_syscall_resolve_name_arch(architecture, $0) }
    }

    static var nativeArchitecture: UInt32 { seccomp_arch_native() }

    /// True when `name` is a real syscall (not one of libseccomp's negative pseudo numbers) on `architecture`.
    static func isSyscall(_ name: String, on architecture: UInt32) -> Bool {
        syscallNumber(name, on: architecture) >= 0
    }
}
