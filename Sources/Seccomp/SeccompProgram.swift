import CSeccomp
import Glibc
import JSON
import OCISpec
import Sys

/// A `linux.seccomp` problem, by JSON path: `.linux.seccomp.flags[0]: unknown seccomp flag "X"`.
public typealias SeccompError = ConfigProblem

/// A seccomp filter built from `linux.seccomp`, ready to load.
///
/// Built in the runtime before the container's init is forked, so every configuration error surfaces
/// before any process exists; loaded in the child with `load()`. The libseccomp context lives on the
/// heap and is inherited by the fork; the parent's copy is released with the last copy of this value.
public struct SeccompProgram {
    private let context: FilterContext
    public private(set) var warnings: [String] = []
    /// Rules send some syscalls to a supervisor (SCMP_ACT_NOTIFY): load() then returns the listener fd.
    public let usesNotify: Bool

    static let root = ".linux.seccomp"

    /// Validates and builds the libseccomp filter context. Unknown syscall names for this arch are
    /// skipped and listed in `warnings` (runc's behaviour: profiles name syscalls of newer kernels and
    /// other architectures); an unknown architecture, action, flag or operator throws.
    public init(_ config: OCISpec.Seccomp) throws(SeccompError) {
        let root = Self.root
        if config.defaultAction == .notify {
            // runc: the listener could only be told about the default action, which would stall init.
            throw SeccompError(path: "\(root).defaultAction", message: "SCMP_ACT_NOTIFY cannot be the default action")
        }
        let defaultAction = try Self.action(config.defaultAction, errnoRet: config.defaultErrnoRet,
                                            errnoPath: "\(root).defaultErrnoRet")
        guard let context = FilterContext(defaultAction: defaultAction) else {
            throw SeccompError(path: "\(root).defaultAction", message: "libseccomp rejected \(config.defaultAction.rawValue)")
        }
        self.context = context

        // runc leaves no_new_privs to the runtime (process.noNewPrivileges); libseccomp would otherwise set
        // it on every load, silently overriding a spec that asks for it to stay off.
        try Self.expect(context.setAttribute(SCMP_FLTATR_CTL_NNP, 0), path: root, "cannot clear the no_new_privs attribute")

        for (i, name) in config.architectures.enumerated() {
            let path = "\(root).architectures[\(i)]"
            guard name.hasPrefix("SCMP_ARCH_") else {
                throw SeccompError(path: path, message: "unknown seccomp architecture \(quote(name))")
            }
            let short = String(name.dropFirst("SCMP_ARCH_".count)).lowercased()
            if short == "native" { continue }  // always in a new context
            let token = FilterContext.resolveArchitecture(short)
            guard token != 0 else {
                throw SeccompError(path: path, message: "unknown seccomp architecture \(quote(name))")
            }
            let rc = context.addArchitecture(token)
            if rc != 0 && rc != -EEXIST {  // EEXIST: the native architecture, already present
                throw SeccompError(path: path, message: "cannot add architecture \(name): \(SysError.describe(errno: -rc))")
            }
        }

        for (i, flag) in config.flags.enumerated() {
            let path = "\(root).flags[\(i)]"
            let attribute: scmp_filter_attr
            switch flag {
            case "SECCOMP_FILTER_FLAG_TSYNC": attribute = SCMP_FLTATR_CTL_TSYNC
            case "SECCOMP_FILTER_FLAG_LOG": attribute = SCMP_FLTATR_CTL_LOG
            case "SECCOMP_FILTER_FLAG_SPEC_ALLOW": attribute = SCMP_FLTATR_CTL_SSB
            case "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV":
                // SCMP_FLTATR_CTL_WAITKILL arrived in libseccomp 2.6; silently dropping a requested flag
                // would change how the container behaves, so refuse (as runc does with an old libseccomp).
                throw SeccompError(path: path, message: "\(flag) is not supported by libseccomp \(SCMP_VER_MAJOR).\(SCMP_VER_MINOR).\(SCMP_VER_MICRO)")
            default:
                throw SeccompError(path: path, message: "unknown seccomp flag \(quote(flag))")
            }
            try Self.expect(context.setAttribute(attribute, 1), path: path, "cannot set \(flag)")
        }

        var usesNotify = false
        var warnings: [String] = []
        for (i, rule) in config.syscalls.enumerated() {
            let path = "\(root).syscalls[\(i)]"
            let action = try Self.action(rule.action, errnoRet: rule.errnoRet, errnoPath: "\(path).errnoRet")
            // libseccomp refuses rules whose action is the default one (EACCES); they change nothing.
            if action == defaultAction { continue }
            if rule.action == .notify { usesNotify = true }

            var comparisons: [scmp_arg_cmp] = []
            var indexes: Set<UInt32> = []
            for (j, arg) in rule.args.enumerated() {
                guard arg.index < 6 else {
                    throw SeccompError(path: "\(path).args[\(j)].index", message: "must be between 0 and 5")
                }
                indexes.insert(arg.index)
                comparisons.append(crabcan_scmp_arg(arg.index, Self.compare(arg.op), arg.value, arg.valueTwo ?? 0))
            }
            // libseccomp cannot AND two comparisons of the same argument in one rule; runc then adds one
            // rule per comparison (which ORs them), and so do we to accept the same profiles.
            let groups = indexes.count == comparisons.count ? [comparisons] : comparisons.map { [$0] }

            for (k, name) in rule.names.enumerated() {
                let number = FilterContext.resolveSyscall(name)
                if number == crabcan_scmp_nr_error() {
                    warnings.append("\(path).names[\(k)]: unknown syscall \(quote(name)) skipped")
                    continue
                }
                for group in groups {
                    let rc = context.addRule(action: action, syscall: number, comparisons: group)
                    if rc != 0 {
                        throw SeccompError(path: path, message: "cannot add rule for \(name): \(SysError.describe(errno: -rc))")
                    }
                }
            }
        }
        if usesNotify && config.listenerPath == nil {
            // The runtime hands the listener fd to the agent at listenerPath; without one the notified
            // syscalls would block forever.
            throw SeccompError(path: "\(root).listenerPath", message: "required when a rule uses SCMP_ACT_NOTIFY")
        }
        self.usesNotify = usesNotify
        self.warnings = warnings
    }

    /// Loads the filter into the calling process (call in the container's init, as late as possible).
    /// Needs no_new_privs set or CAP_SYS_ADMIN (kernel rule for unprivileged filters).
    /// Returns the listener fd when the profile uses SCMP_ACT_NOTIFY (seccomp_notify_fd), else nil.
    public func load() throws(SysError) -> Int32? {
        let rc = context.load()
        if rc < 0 { throw SysError("seccomp_load", errno: -rc) }
        guard usesNotify else { return nil }
        let fd = context.notifyFD()
        if fd < 0 { throw SysError("seccomp_notify_fd", errno: -fd) }
        return fd
    }

    /// The libseccomp action word; ERRNO and TRACE default to EPERM like runc.
    static func action(_ action: OCISpec.Seccomp.Action, errnoRet: UInt32?, errnoPath: String) throws(SeccompError) -> UInt32 {
        if let errnoRet {
            guard action == .errno || action == .trace else {
                throw SeccompError(path: errnoPath, message: "only allowed with SCMP_ACT_ERRNO or SCMP_ACT_TRACE")
            }
            // The action word keeps 16 bits of data; a larger value would be silently truncated.
            guard errnoRet <= 0xffff else { throw SeccompError(path: errnoPath, message: "must be at most 65535") }
        }
        let code = errnoRet ?? UInt32(EPERM)
        switch action {
        case .kill, .killThread: return crabcan_scmp_act_kill_thread()
        case .killProcess: return crabcan_scmp_act_kill_process()
        case .trap: return crabcan_scmp_act_trap()
        case .errno: return crabcan_scmp_act_errno(code)
        case .trace: return crabcan_scmp_act_trace(code)
        case .allow: return crabcan_scmp_act_allow()
        case .log: return crabcan_scmp_act_log()
        case .notify: return crabcan_scmp_act_notify()
        }
    }

    static func compare(_ op: OCISpec.Seccomp.Operator) -> scmp_compare {
        switch op {
        case .notEqual: return SCMP_CMP_NE
        case .lessThan: return SCMP_CMP_LT
        case .lessOrEqual: return SCMP_CMP_LE
        case .equal: return SCMP_CMP_EQ
        case .greaterOrEqual: return SCMP_CMP_GE
        case .greaterThan: return SCMP_CMP_GT
        case .maskedEqual: return SCMP_CMP_MASKED_EQ
        }
    }

    private static func expect(_ rc: Int32, path: String, _ what: String) throws(SeccompError) {
        if rc != 0 { throw SeccompError(path: path, message: "\(what): \(SysError.describe(errno: -rc))") }
    }
}

private func quote(_ s: String) -> String { jsonQuote(s) }
