import CShim
import Glibc
import OCISpec
@testable import Seccomp
import Sys
import Testing

// Loading tests fork: the child loads the prebuilt filter, makes one call and _exits with a code the
// parent checks. The program is built before the fork and the child touches no new Swift types
// (DESIGN.md §5: Swift Testing runs other suites on other threads). `.serialized` keeps this suite's
// own forks one at a time.

typealias Profile = OCISpec.Seccomp

/// Forks, loads `program` in the child (after no_new_privs, so no privilege is needed) and returns how
/// the child ended; `body`'s result is its exit code.
private func inChild(_ program: SeccompProgram, _ body: () -> Int32) throws -> Sys.ExitStatus {
    var noCore = rlimit(rlim_cur: 0, rlim_max: 0)  // SIGSYS would dump core
    let pid = try Processes.fork()
    if pid == 0 {
        _ = setrlimit(__rlimit_resource_t(RLIMIT_CORE.rawValue), &noCore)
        do { try Processes.setNoNewPrivileges() } catch { _exit(201) }
        do { _ = try program.load() } catch { _exit(202) }
        _exit(body())
    }
    return try #require(try reapForkedChild(pid))
}

/// errno of a failed call, 0 on success.
private func errnoOf(_ rc: some BinaryInteger) -> Int32 { rc == -1 ? errno : 0 }

private func callUname() -> Int32 {
    var u = utsname()
    return errnoOf(uname(&u))
}

/// An fd the parent opens before forking; lseek on it succeeds for any offset unless a filter objects.
let devNullFD = open("/dev/null", O_RDONLY)

private func callSeek(fd: Int32 = devNullFD, offset: Int) -> Int32 { errnoOf(lseek(fd, off_t(offset), SEEK_SET)) }

private func program(_ profile: Profile) throws -> SeccompProgram {
    let p = try SeccompProgram(profile)
    #expect(p.warnings == [])
    return p
}

private func expectError(_ profile: Profile, _ text: String, sourceLocation: SourceLocation = #_sourceLocation) {
    do {
        _ = try SeccompProgram(profile)
        Issue.record("expected \(text)", sourceLocation: sourceLocation)
    } catch {
        #expect(error.description == text, sourceLocation: sourceLocation)
    }
}

@Suite(.serialized) struct SeccompBuildTests {
    @Test(arguments: Profile.Action.allCases) func everyActionBuilds(action: Profile.Action) throws {
        let errnoRet: UInt32? = action == .errno || action == .trace ? 5 : nil
        let profile = Profile(defaultAction: .allow, listenerPath: "/run/l.sock",
                              syscalls: [.init(names: ["uname"], action: action, errnoRet: errnoRet)])
        _ = try program(profile)
        if action != .notify {  // also usable as the default action
            _ = try program(Profile(defaultAction: action, defaultErrnoRet: errnoRet,
                                    syscalls: [.init(names: ["exit_group"], action: .allow)]))
        }
    }

    @Test(arguments: Profile.Operator.allCases) func everyOperatorBuilds(op: Profile.Operator) throws {
        let arg = Profile.Arg(index: 5, value: 0xffff_ffff_ffff_ffff, valueTwo: op == .maskedEqual ? 1 : nil, op: op)
        _ = try program(Profile(defaultAction: .allow, syscalls: [.init(names: ["lseek"], action: .errno, args: [arg])]))
    }

    @Test func architecturesAndFlags() throws {
        _ = try program(Profile(
            defaultAction: .allow,
            architectures: ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32", "SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM", "SCMP_ARCH_NATIVE"],
            flags: ["SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW"],
            syscalls: [.init(names: ["chmod", "socketcall"], action: .errno)]))
    }

    @Test func unknownSyscallIsAWarning() throws {
        let p = try SeccompProgram(Profile(defaultAction: .allow, syscalls: [
            .init(names: ["uname"], action: .errno),
            .init(names: ["getpid", "no_such_call"], action: .errno),
        ]))
        #expect(p.warnings.map(\.description) == [#".linux.seccomp.syscalls[1].names[1]: unknown syscall "no_such_call" skipped"#])
    }

    /// libseccomp resolves a call of another architecture to a negative stand-in; the rule would do nothing.
    @Test func foreignSyscallIsAWarningUnlessItsArchitectureIsListed() throws {
        let rule = Profile.Syscall(names: ["arm_fadvise64_64", "getpid"], action: .errno)
        let native = try SeccompProgram(Profile(defaultAction: .allow, syscalls: [rule]))
        #expect(native.warnings.map(\.description) == [
            #".linux.seccomp.syscalls[0].names[0]: syscall "arm_fadvise64_64" does not exist on the filter's architectures; skipped"#])
        let withArm = try SeccompProgram(Profile(defaultAction: .allow, architectures: ["SCMP_ARCH_ARM"], syscalls: [rule]))
        #expect(withArm.warnings.isEmpty)
    }

    @Test func everyProblemIsCollected() {
        var problems: [SeccompError] = []
        let program = SeccompProgram(Profile(defaultAction: .allow, architectures: ["SCMP_ARCH_NOPE"], flags: ["X"], syscalls: [
            .init(names: ["getpid"], action: .allow, errnoRet: 3),
            .init(names: ["getppid"], action: .errno, args: [.init(index: 7, value: 0, op: .equal)]),
        ]), problems: &problems)
        #expect(program != nil)
        #expect(problems.map(\.path) == [
            ".linux.seccomp.architectures[0]", ".linux.seccomp.flags[0]", ".linux.seccomp.syscalls[0].errnoRet",
            ".linux.seccomp.syscalls[1].args[0].index",
        ])
    }

    @Test func configurationErrorsNameThePath() {
        expectError(Profile(defaultAction: .allow, architectures: ["SCMP_ARCH_X86_64", "SCMP_ARCH_VAX"]),
                    #".linux.seccomp.architectures[1]: unknown seccomp architecture "SCMP_ARCH_VAX""#)
        expectError(Profile(defaultAction: .allow, architectures: ["x86_64"]),
                    #".linux.seccomp.architectures[0]: unknown seccomp architecture "x86_64""#)
        expectError(Profile(defaultAction: .allow, flags: ["SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_NOPE"]),
                    #".linux.seccomp.flags[1]: unknown seccomp flag "SECCOMP_FILTER_FLAG_NOPE""#)
        expectError(Profile(defaultAction: .allow, flags: ["SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"]),
                    ".linux.seccomp.flags[0]: SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV is not supported by libseccomp 2.5.4")
        expectError(Profile(defaultAction: .notify),
                    ".linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be the default action")
        expectError(Profile(defaultAction: .allow, syscalls: [.init(names: ["uname"], action: .notify)]),
                    ".linux.seccomp.listenerPath: required when a rule uses SCMP_ACT_NOTIFY")
        expectError(Profile(defaultAction: .allow, listenerPath: "/run/l.sock", syscalls: [.init(names: ["read", "write"], action: .notify)]),
                    ".linux.seccomp.syscalls[0].names[1]: SCMP_ACT_NOTIFY cannot be used for the write syscall")
        expectError(Profile(defaultAction: .allow, syscalls: [.init(names: ["uname"], action: .kill), .init(names: ["uname"], action: .log, errnoRet: 1)]),
                    ".linux.seccomp.syscalls[1].errnoRet: only allowed with SCMP_ACT_ERRNO or SCMP_ACT_TRACE")
        expectError(Profile(defaultAction: .kill, defaultErrnoRet: 1),
                    ".linux.seccomp.defaultErrnoRet: only allowed with SCMP_ACT_ERRNO or SCMP_ACT_TRACE")
        expectError(Profile(defaultAction: .allow, syscalls: [.init(names: ["uname"], action: .errno, errnoRet: 70000)]),
                    ".linux.seccomp.syscalls[0].errnoRet: must be at most 65535")
    }

    @Test func rulesWithTheDefaultActionAreSkipped() throws {
        // libseccomp itself refuses these (EACCES); ERRNO with the default EPERM equals ERRNO(1).
        _ = try program(Profile(defaultAction: .errno, syscalls: [
            .init(names: ["uname"], action: .errno, errnoRet: 1), .init(names: ["exit_group"], action: .allow),
        ]))
        _ = try program(Profile(defaultAction: .allow, syscalls: [.init(names: ["uname"], action: .allow)]))
    }

    @Test func defaultProfileBuildsWithoutWarnings() throws {
        _ = try program(.defaultProfile)
        #expect(Spec.makeDefault(rootless: false).linux?.seccomp == .defaultProfile)
    }
}

@Suite(.serialized) struct SeccompLoadTests {
    let unameRule = { (action: Profile.Action, errnoRet: UInt32?) in
        Profile(defaultAction: .allow, listenerPath: "/run/l.sock", syscalls: [.init(names: ["uname"], action: action, errnoRet: errnoRet)])
    }

    @Test func errnoActions() throws {
        #expect(try inChild(program(unameRule(.errno, 38)), callUname) == .exited(38))
        #expect(try inChild(program(unameRule(.errno, nil)), callUname) == .exited(EPERM))
        // No tracer attached: the kernel fails the call with ENOSYS whatever errnoRet says.
        #expect(try inChild(program(unameRule(.trace, 7)), callUname) == .exited(ENOSYS))
        #expect(try inChild(program(unameRule(.log, nil)), callUname) == .exited(0))
        #expect(try inChild(program(unameRule(.allow, nil)), callUname) == .exited(0))
        // Without the filter the same child succeeds, so the codes above came from seccomp.
        #expect(try inChild(program(Profile(defaultAction: .allow)), callUname) == .exited(0))
    }

    @Test(arguments: [Profile.Action.kill, .killThread, .killProcess, .trap])
    func killingActions(action: Profile.Action) throws {
        #expect(try inChild(program(unameRule(action, nil)), callUname) == .signaled(SIGSYS))
    }

    @Test func defaultErrnoRet() throws {
        // Everything the child does after loading is listed: uname (denied by default) and exit_group.
        let profile = Profile(defaultAction: .errno, defaultErrnoRet: 13, syscalls: [.init(names: ["exit_group", "exit"], action: .allow)])
        #expect(try inChild(program(profile), callUname) == .exited(EACCES))
    }

    @Test func notifyReturnsTheListener() throws {
        let p = try program(unameRule(.notify, nil))
        #expect(try inChild(p) { 0 } == .exited(0))  // load itself succeeded in the child
        let withFD = try inChild(p) { 0 }
        #expect(withFD == .exited(0))
        // load() must hand back an fd: the child reports it (never calling uname, which would block).
        let pid = try Processes.fork()
        if pid == 0 {
            do { try Processes.setNoNewPrivileges() } catch { _exit(201) }
            let fd: Int32?
            do { fd = try p.load() } catch { _exit(202) }
            _exit(fd.map { $0 >= 0 ? 0 : 203 } ?? 204)
        }
        #expect(try reapForkedChild(pid) == .exited(0))
        #expect(try inChild(program(unameRule(.errno, nil))) { 0 } == .exited(0))
    }

    static let big: UInt64 = 0x80000
    static let operatorCases: [(Profile.Arg, deniesZero: Bool, deniesBig: Bool)] = [
        (.init(index: 1, value: big, op: .notEqual), true, false),
        (.init(index: 1, value: big, op: .lessThan), true, false),
        (.init(index: 1, value: 0, op: .lessOrEqual), true, false),
        (.init(index: 1, value: big, op: .equal), false, true),
        (.init(index: 1, value: big, op: .greaterOrEqual), false, true),
        (.init(index: 1, value: 0, op: .greaterThan), false, true),
        (.init(index: 1, value: big | 1, valueTwo: big, op: .maskedEqual), false, true),
    ]

    @Test func argumentOperators() throws {
        let fd = devNullFD, big = Int(Self.big)
        for (arg, deniesZero, deniesBig) in Self.operatorCases {
            let p = try program(Profile(defaultAction: .allow, syscalls: [.init(names: ["lseek"], action: .errno, errnoRet: 13, args: [arg])]))
            #expect(try inChild(p) { callSeek(fd: fd, offset: 0) } == .exited(deniesZero ? EACCES : 0), "\(arg.op)")
            #expect(try inChild(p) { callSeek(fd: fd, offset: big) } == .exited(deniesBig ? EACCES : 0), "\(arg.op)")
        }
    }

    @Test func argumentsOnDifferentIndexesAreANDed() throws {
        let fd = devNullFD, big = Int(Self.big), other = open("/dev/null", O_RDONLY)
        defer { close(other) }
        let p = try program(Profile(defaultAction: .allow, syscalls: [.init(names: ["lseek"], action: .errno, errnoRet: 13, args: [
            .init(index: 0, value: UInt64(fd), op: .equal), .init(index: 1, value: UInt64(big), op: .equal),
        ])]))
        #expect(try inChild(p) { callSeek(fd: fd, offset: big) } == .exited(EACCES))
        #expect(try inChild(p) { callSeek(fd: other, offset: big) } == .exited(0))
        #expect(try inChild(p) { callSeek(fd: fd, offset: 0) } == .exited(0))
    }

    @Test func argumentsOnTheSameIndexBecomeSeparateRules() throws {
        let fd = devNullFD, big = Int(Self.big)
        // runc's behaviour: libseccomp cannot AND two comparisons of one argument, so each gets a rule.
        let p = try program(Profile(defaultAction: .allow, syscalls: [.init(names: ["lseek"], action: .errno, errnoRet: 13, args: [
            .init(index: 1, value: 0, op: .equal), .init(index: 1, value: UInt64(big), op: .equal),
        ])]))
        #expect(try inChild(p) { callSeek(fd: fd, offset: 0) } == .exited(EACCES))
        #expect(try inChild(p) { callSeek(fd: fd, offset: big) } == .exited(EACCES))
    }

    @Test func flagsLoad() throws {
        let p = try program(Profile(defaultAction: .allow, flags: ["SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW"],
                                    syscalls: [.init(names: ["uname"], action: .errno, errnoRet: 38)]))
        #expect(try inChild(p, callUname) == .exited(38))
    }
}

@Suite(.serialized) struct DefaultSeccompProfileTests {
    let profile = try! SeccompProgram(.defaultProfile)

    @Test func deniesNewUserNamespaces() throws {
        #expect(try inChild(profile) { errnoOf(cshim_unshare(Int32(Namespaces.user))) } == .exited(EPERM))
        #expect(try inChild(profile) { errnoOf(cshim_unshare(Int32(Namespaces.user | Namespaces.uts))) } == .exited(EPERM))
        #expect(try inChild(profile) { errnoOf(cshim_clone(Namespaces.user | UInt(SIGCHLD))) } == .exited(EPERM))
        // unshare itself stays usable: CLONE_FILES needs no privilege.
        #expect(try inChild(profile) { errnoOf(cshim_unshare(0x400)) } == .exited(0))
        if geteuid() == 0 {
            #expect(try inChild(profile) { errnoOf(cshim_unshare(Int32(Namespaces.uts))) } == .exited(0))
        }
    }

    @Test func deniesSetIDBits() throws {
        var template = Array("/tmp/crabcan-seccomp-XXXXXX".utf8CString)
        let fd = mkstemp(&template)
        try #require(fd >= 0)
        defer { close(fd); unlink(template) }
        #expect(try inChild(profile) { errnoOf(chmod(template, 0o4755)) } == .exited(EPERM))
        #expect(try inChild(profile) { errnoOf(chmod(template, 0o2755)) } == .exited(EPERM))
        #expect(try inChild(profile) { errnoOf(fchmod(fd, 0o6755)) } == .exited(EPERM))
        #expect(try inChild(profile) { errnoOf(fchmodat(AT_FDCWD, template, 0o2700, 0)) } == .exited(EPERM))
        #expect(try inChild(profile) { errnoOf(cshim_fchmodat2(AT_FDCWD, template, 0o4700, 0)) } == .exited(EPERM))
        #expect(try inChild(profile) { errnoOf(cshim_fchmodat2(AT_FDCWD, template, 0o700, 0)) } == .exited(0))
        #expect(try inChild(profile) { errnoOf(chmod(template, 0o755)) } == .exited(0))
        #expect(try inChild(profile) { errnoOf(fchmodat(AT_FDCWD, template, 0o1777, 0)) } == .exited(0))
        var st = stat()
        #expect(stat(template, &st) == 0 && st.st_mode & 0o7777 == 0o1777)
    }

    @Test func deniesKeyringsAndTerminalInjection() throws {
        #expect(try inChild(profile) { errnoOf(cshim_join_session_keyring("crabcan-test")) } == .exited(EPERM))
        let devNull = open("/dev/null", O_RDONLY)
        try #require(devNull >= 0)
        defer { close(devNull) }
        var c: UInt8 = 0x41
        #expect(try inChild(profile) { errnoOf(cshim_ioctl_ptr(devNull, 0x5412, &c)) } == .exited(EPERM))  // TIOCSTI
        #expect(try inChild(profile) { errnoOf(cshim_ioctl_ptr(devNull, 0x5401, &c)) } == .exited(ENOTTY))  // TCGETS passes
    }

    @Test func ordinaryCallsStillWork() throws {
        #expect(try inChild(profile, callUname) == .exited(0))
        #expect(try inChild(profile) { callSeek(offset: 0x80000) } == .exited(0))
    }
}

/// runc's ENOSYS stub (EnosysStub): calls newer than the profile get ENOSYS, the rest what the profile says.
@Suite(.serialized) struct EnosysStubTests {
    /// fchmodat2 (452, Linux 6.6) is far above fchmodat (268), the highest call these profiles name.
    static func callFchmodat2() -> Int32 { errnoOf(cshim_fchmodat2(-1, "/", 0o755, 0)) }

    static let preFchmodat2 = Profile(defaultAction: .errno, architectures: ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
                                      syscalls: [.init(names: ["exit_group", "exit", "fchmodat"], action: .allow)])

    @Test func newerCallsGetENOSYSOlderOnesTheDefault() throws {
        let p = try program(Self.preFchmodat2)
        #expect(try inChild(p, Self.callFchmodat2) == .exited(ENOSYS))
        #expect(try inChild(p, callUname) == .exited(EPERM))  // 63: named by no rule, below the highest
    }

    @Test func theHighestNamedCallKeepsItsAction() throws {
        var profile = Self.preFchmodat2
        profile.syscalls.append(.init(names: ["fchmodat2"], action: .errno, errnoRet: UInt32(EXDEV)))
        #expect(try inChild(program(profile), Self.callFchmodat2) == .exited(EXDEV))
    }

    /// No stub where nothing could be newer than the default (allow, log, trace) or the default is ENOSYS.
    @Test func leftOutWhereTheDefaultAllowsOrIsENOSYS() throws {
        func hasStub(_ profile: Profile) throws -> Bool { try program(profile).stubLength > 0 }
        #expect(try hasStub(Self.preFchmodat2))
        #expect(try hasStub(Profile(defaultAction: .killProcess, syscalls: [.init(names: ["exit_group"], action: .allow)])))
        #expect(try !hasStub(Profile(defaultAction: .allow, syscalls: [.init(names: ["uname"], action: .errno)])))
        #expect(try !hasStub(Profile(defaultAction: .log, syscalls: [.init(names: ["uname"], action: .errno)])))
        #expect(try !hasStub(Profile(defaultAction: .errno, defaultErrnoRet: UInt32(ENOSYS),
                                     syscalls: [.init(names: ["exit_group"], action: .allow)])))
        #expect(try inChild(program(Profile(defaultAction: .allow, syscalls: [.init(names: ["uname"], action: .errno)])),
                            Self.callFchmodat2) != .exited(ENOSYS))
    }

    /// x86_64 and x32 share an AUDIT_ARCH: the stub tells them apart by the x32 bit and bounds each by its own
    /// highest number; i386 gets its own section.
    @Test func oneSectionPerAuditArchitecture() {
        let stub = EnosysStub.program(highest: [0xC000_003E: 268, 0x4000_003E: 0x4000_0200, 0x4000_0003: 306])
        let archChecks = stub.filter { $0.code == 0x15 }.map(\.k)
        #expect(Set(archChecks) == [0xC000_003E, 0x4000_0003])
        #expect(Set(stub.filter { $0.code == 0x25 }.map(\.k)) == [268, 0x4000_0200, 306])
        #expect(stub.contains { $0.code == 0x45 && $0.k == 0x4000_0000 })
        #expect(EnosysStub.program(highest: [:]).isEmpty)
    }
}

/// close_range refused (ENOSYS before Linux 5.9, EPERM under a caller's filter): /proc/self/fd and fcntl instead.
@Suite(.serialized) struct CloseRangeFallbackTests {
    static func refusingCloseRange(_ errnoRet: Int32) throws -> SeccompProgram {
        try program(Profile(defaultAction: .allow, syscalls: [.init(names: ["close_range"], action: .errno, errnoRet: UInt32(errnoRet))]))
    }

    @Test(arguments: [EPERM, ENOSYS]) func closeOnExecFallsBack(errnoRet: Int32) throws {
        let fd = open("/dev/null", O_RDONLY)  // without O_CLOEXEC
        defer { close(fd) }
        let status = try inChild(Self.refusingCloseRange(errnoRet)) {
            do { try Processes.closeOnExecFrom(3) } catch { return 20 }
            return cshim_fcntl_int(fd, F_GETFD, 0) & FD_CLOEXEC != 0 ? 0 : 10
        }
        #expect(status == .exited(0))
    }

    @Test(arguments: [EPERM, ENOSYS]) func closeDescriptorsFallsBack(errnoRet: Int32) throws {
        let gone = open("/dev/null", O_RDONLY), kept = open("/dev/null", O_RDONLY)
        defer { close(gone); close(kept) }
        let status = try inChild(Self.refusingCloseRange(errnoRet)) {
            do { try Processes.closeDescriptors(from: 3, except: [Int(kept)]) } catch { return 20 }
            if cshim_fcntl_int(kept, F_GETFD, 0) == -1 { return 11 }
            return cshim_fcntl_int(gone, F_GETFD, 0) == -1 && errno == EBADF ? 0 : 10
        }
        #expect(status == .exited(0))
    }
}
