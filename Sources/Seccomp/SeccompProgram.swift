import CSeccomp
import Glibc
import JSON
import OCISpec
import Sys

/// A `linux.seccomp` problem, by JSON path: `.linux.seccomp.flags[0]: unknown seccomp flag "X"`.
package typealias SeccompError = ConfigProblem

/// A seccomp filter built from `linux.seccomp`, ready to load.
///
/// Built in the runtime before the container's init is forked, so every configuration error surfaces
/// before any process exists: libseccomp compiles the rules, its BPF program is exported, runc's ENOSYS
/// stub (EnosysStub) goes in front, and `load()` in the child is then a single seccomp(2) call.
package struct SeccompProgram {
    /// The whole program as seccomp(2) takes it (sock_filter array).
    private(set) var encoded: [UInt8] = []
    /// SECCOMP_FILTER_FLAG_* for seccomp(2): the config's flags, and NEW_LISTENER for a notify profile.
    package private(set) var kernelFlags: UInt32 = 0
    /// The instructions as the kernel takes them, for a loader in C (cshim_shared_init_finish).
    package var encodedProgram: [UInt8] { encoded }
    /// How many instructions in front are EnosysStub's (0: none).
    private(set) var stubLength = 0
    /// The instructions `load()` installs, for tests and --debug.
    package var instructions: [BPFInstruction] { SeccompFilter.decode(encoded) ?? [] }
    /// Syscall names this architecture does not have, skipped (by JSON path).
    package private(set) var warnings: [SeccompError] = []
    /// Rules send some syscalls to a supervisor (SCMP_ACT_NOTIFY): load() then returns the listener fd.
    package let usesNotify: Bool

    static let root = ".linux.seccomp"

    /// A program SeccompCache kept: what an earlier compile of the same profile produced.
    init(encoded: [UInt8], kernelFlags: UInt32, usesNotify: Bool, stubLength: Int, warnings: [SeccompError]) {
        self.encoded = encoded
        self.kernelFlags = kernelFlags
        self.usesNotify = usesNotify
        self.stubLength = stubLength
        self.warnings = warnings
    }

    /// Validates and builds the libseccomp filter context. Unknown syscall names for this arch are
    /// skipped and listed in `warnings` (runc's behaviour: profiles name syscalls of newer kernels and
    /// other architectures); an unknown architecture, action, flag or operator throws.
    package init(_ config: OCISpec.Seccomp) throws(SeccompError) {
        var problems: [SeccompError] = []
        guard let program = SeccompProgram(config, problems: &problems), problems.isEmpty else {
            throw problems.first ?? SeccompError(path: Self.root, message: "invalid seccomp profile")
        }
        self = program
    }

    /// How libseccomp lays the syscall checks out (SCMP_FLTATR_CTL_OPTIMIZE).
    package enum Layout: UInt32 {
        /// One comparison after another, in priority order (libseccomp's default).
        case linear = 1
        /// A binary tree sorted by syscall number. On attach the kernel runs the filter once for every syscall
        /// number of every architecture to find those it may let through without running it again (the
        /// seccomp action cache): on a linear program that walks most of it each time, which made loading
        /// Docker's profile (974 instructions) cost 0.71 ms of CPU here, against 0.26 ms for its tree (1214
        /// instructions). Syscalls the cache cannot answer (those checked by argument) are then found in a few
        /// comparisons too. The same decisions either way (SeccompLayoutTests).
        case binaryTree = 2
    }

    /// Records every problem (for `check`) instead of stopping at the first; nil when not even the default
    /// action is usable. A program built with problems must not be loaded.
    package init?(_ config: OCISpec.Seccomp, problems: inout [SeccompError], layout: Layout = .binaryTree) {
        let root = Self.root
        let earlierProblems = problems.count
        if config.defaultAction == .notify {
            // runc: the listener could only be told about the default action, which would stall init.
            problems.append(SeccompError(path: "\(root).defaultAction", message: "SCMP_ACT_NOTIFY cannot be the default action"))
            return nil
        }
        guard let defaultAction = Self.action(config.defaultAction, errnoRet: config.defaultErrnoRet,
                                              errnoPath: "\(root).defaultErrnoRet", &problems) else { return nil }
        guard let context = FilterContext(defaultAction: defaultAction) else {
            problems.append(SeccompError(path: "\(root).defaultAction", message: "libseccomp rejected \(config.defaultAction.rawValue)"))
            return nil
        }

        // runc leaves no_new_privs to the runtime (process.noNewPrivileges); libseccomp would otherwise set
        // it on every load, silently overriding a spec that asks for it to stay off.
        Self.expect(context.setAttribute(SCMP_FLTATR_CTL_NNP, 0), path: root, "cannot clear the no_new_privs attribute", &problems)
        // A libseccomp without it (before 2.5) lays the program out linearly: slower to load, the same filter.
        _ = context.setAttribute(SCMP_FLTATR_CTL_OPTIMIZE, layout.rawValue)

        var architectures = [FilterContext.nativeArchitecture]
        for (i, name) in config.architectures.enumerated() {
            let path = "\(root).architectures[\(i)]"
            guard name.hasBytePrefix("SCMP_ARCH_") else {
                problems.append(SeccompError(path: path, message: "unknown seccomp architecture \(quote(name))"))
                continue
            }
            let short = name.dropFirst("SCMP_ARCH_".count).asciiLowercased()
            if short == "native" { continue }  // always in a new context
            let token = FilterContext.resolveArchitecture(short)
            guard token != 0 else {
                problems.append(SeccompError(path: path, message: "unknown seccomp architecture \(quote(name))"))
                continue
            }
            architectures.append(token)
            let rc = context.addArchitecture(token)
            if rc != 0 && rc != -EEXIST {  // EEXIST: the native architecture, already present
                problems.append(SeccompError(path: path, message: "cannot add architecture \(name): \(SysError.describe(errno: -rc))"))
            }
        }

        var kernelFlags: UInt32 = 0
        for (i, flag) in config.flags.enumerated() {
            let path = "\(root).flags[\(i)]"
            let attribute: scmp_filter_attr
            // The libseccomp attribute too: it checks that this libseccomp and kernel know the flag.
            switch flag {
            case "SECCOMP_FILTER_FLAG_TSYNC": attribute = SCMP_FLTATR_CTL_TSYNC; kernelFlags |= SeccompFilter.flagTSync
            case "SECCOMP_FILTER_FLAG_LOG": attribute = SCMP_FLTATR_CTL_LOG; kernelFlags |= SeccompFilter.flagLog
            case "SECCOMP_FILTER_FLAG_SPEC_ALLOW": attribute = SCMP_FLTATR_CTL_SSB; kernelFlags |= SeccompFilter.flagSpecAllow
            case "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV":
                // SCMP_FLTATR_CTL_WAITKILL arrived in libseccomp 2.6; silently dropping a requested flag
                // would change how the container behaves, so refuse (as runc does with an old libseccomp).
                problems.append(SeccompError(path: path, message: "\(flag) is not supported by libseccomp \(SCMP_VER_MAJOR).\(SCMP_VER_MINOR).\(SCMP_VER_MICRO)"))
                continue
            default:
                problems.append(SeccompError(path: path, message: "unknown seccomp flag \(quote(flag))"))
                continue
            }
            Self.expect(context.setAttribute(attribute, 1), path: path, "cannot set \(flag)", &problems)
        }

        var usesNotify = false
        var warnings: [SeccompError] = []
        // Per architecture token, the highest syscall number the profile names (any action), for EnosysStub.
        var highest: [UInt32: UInt32] = [:]
        for rule in config.syscalls {
            for name in rule.names {
                for architecture in architectures {
                    let number = FilterContext.syscallNumber(name, on: architecture)
                    if number >= 0 { highest[architecture] = max(highest[architecture] ?? 0, UInt32(number)) }
                }
            }
        }
        for (i, rule) in config.syscalls.enumerated() {
            let path = root + ".syscalls[" + DecimalText.of(i) + "]"
            if rule.action == .notify, let k = rule.names.firstIndex(of: "write") {
                // The init tells its parent where the listener is with write(2) right after loading the filter;
                // a notified write would wait for an agent that has no listener yet (runc refuses it too).
                problems.append(SeccompError(path: "\(path).names[\(k)]",
                                             message: "SCMP_ACT_NOTIFY cannot be used for the write syscall"))
            }
            guard let action = Self.action(rule.action, errnoRet: rule.errnoRet, errnoPath: path + ".errnoRet", &problems) else { continue }
            // libseccomp refuses rules whose action is the default one (EACCES); they change nothing.
            if action == defaultAction { continue }
            if rule.action == .notify { usesNotify = true }

            var comparisons: [scmp_arg_cmp] = []
            var indexes: Set<UInt32> = []
            var argsValid = true
            for (j, arg) in rule.args.enumerated() {
                guard arg.index < 6 else {
                    problems.append(SeccompError(path: "\(path).args[\(j)].index", message: "must be between 0 and 5"))
                    argsValid = false
                    continue
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
                    warnings.append(SeccompError(path: "\(path).names[\(k)]", message: "unknown syscall \(quote(name)) skipped"))
                    continue
                }
                // A negative number is libseccomp's stand-in for a call of another architecture: the rule is
                // a no-op unless one of the filter's architectures has it.
                if number < 0 && !architectures.contains(where: { FilterContext.isSyscall(name, on: $0) }) {
                    warnings.append(SeccompError(path: "\(path).names[\(k)]",
                                                 message: "syscall \(quote(name)) does not exist on the filter's architectures; skipped"))
                    continue
                }
                guard argsValid else { continue }
                for group in groups {
                    let rc = context.addRule(action: action, syscall: number, comparisons: group)
                    if rc != 0 {
                        problems.append(SeccompError(path: path, message: "cannot add rule for \(name): \(SysError.describe(errno: -rc))"))
                    }
                }
            }
        }
        if usesNotify && config.listenerPath == nil {
            // The runtime hands the listener fd to the agent at listenerPath; without one the notified
            // syscalls would block forever.
            problems.append(SeccompError(path: "\(root).listenerPath", message: "required when a rule uses SCMP_ACT_NOTIFY"))
        }
        self.usesNotify = usesNotify
        self.warnings = warnings
        if usesNotify { kernelFlags |= SeccompFilter.flagNewListener }
        // The kernel refuses TSYNC with NEW_LISTENER unless a failed sync is reported as ESRCH (libseccomp does so).
        if kernelFlags & (SeccompFilter.flagTSync | SeccompFilter.flagNewListener) == SeccompFilter.flagTSync | SeccompFilter.flagNewListener {
            kernelFlags |= SeccompFilter.flagTSyncESRCH
        }
        self.kernelFlags = kernelFlags
        guard problems.count == earlierProblems else { return }
        let exported: [BPFInstruction]
        do {
            exported = try Self.export(context)
        } catch {
            problems.append(SeccompError(path: root, message: "cannot export the filter: \(error)"))
            return
        }
        // runc's stub: not for a default that allows (nothing is newer than "allowed"), nor when the default
        // already answers ENOSYS.
        let allowing: Set<OCISpec.Seccomp.Action> = [.allow, .log, .trace]
        let answersENOSYS = config.defaultAction == .errno && config.defaultErrnoRet == UInt32(ENOSYS)
        let stub = allowing.contains(config.defaultAction) || answersENOSYS ? [] : EnosysStub.program(highest: highest)
        stubLength = stub.count
        encoded = SeccompFilter.encode(stub + exported)
    }

    /// libseccomp's BPF program for the context, through a memfd (seccomp_export_bpf writes to an fd).
    private static func export(_ context: FilterContext) throws(SysError) -> [BPFInstruction] {
        let file = try Files.memoryFile("crabcan-seccomp", [])
        let rc = context.exportBPF(to: file.raw)
        if rc < 0 { throw SysError("seccomp_export_bpf", errno: -rc) }
        try file.rewind()
        guard let program = SeccompFilter.decode(try file.readAll()) else { throw SysError("seccomp_export_bpf", errno: EINVAL) }
        return program
    }

    /// Loads the filter into the calling process: one seccomp(2) call, nothing allocated, so that it can be
    /// the last step before execve. Needs no_new_privs set or CAP_SYS_ADMIN (kernel rule for unprivileged
    /// filters). Returns the listener fd when the profile uses SCMP_ACT_NOTIFY, else nil.
    package func load() throws(SysError) -> Int32? {
        try SeccompFilter.install(encoded: encoded, flags: kernelFlags)
    }

    /// The libseccomp action word; ERRNO and TRACE default to EPERM like runc.
    static func action(_ action: OCISpec.Seccomp.Action, errnoRet: UInt32?, errnoPath: String,
                       _ problems: inout [SeccompError]) -> UInt32? {
        if let errnoRet {
            guard action == .errno || action == .trace else {
                problems.append(SeccompError(path: errnoPath, message: "only allowed with SCMP_ACT_ERRNO or SCMP_ACT_TRACE"))
                return nil
            }
            // The action word keeps 16 bits of data; a larger value would be silently truncated.
            guard errnoRet <= 0xffff else {
                problems.append(SeccompError(path: errnoPath, message: "must be at most 65535"))
                return nil
            }
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

    private static func expect(_ rc: Int32, path: String, _ what: String, _ problems: inout [SeccompError]) {
        if rc != 0 { problems.append(SeccompError(path: path, message: "\(what): \(SysError.describe(errno: -rc))")) }
    }
}

private func quote(_ s: String) -> String { jsonQuote(s) }
