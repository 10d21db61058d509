extension Seccomp {
    /// The profile `crabcan spec` writes (docs/design.md §6: keep the default spec safe).
    ///
    /// Allow by default, with explicit denials, rather than Docker's ~350-name allowlist: this profile is
    /// meant to be read and audited in one sitting, and capabilities (runc's minimal set) already guard
    /// mount, pivot_root, setns, ptrace of others, raw I/O and time. The denials cover the kernel attack
    /// surface Docker's profile exists for (keyrings, NUMA policy, userfaultfd, perf, bpf, modules,
    /// kexec, handle-based opens, reboot, swap, accounting) plus the argument rules Docker uses: no new
    /// user namespaces, no setuid/setgid bits, no TIOCSTI terminal injection. busybox and glibc need none
    /// of these.
    ///
    /// No `architectures`: only the native one is in the filter, so a syscall made through another ABI
    /// (i386 `int 0x80` or x32 on x86_64) hits libseccomp's bad-architecture action and is killed, which
    /// also means argument rules cannot be bypassed through the other ABI's argument layout.
    package static var defaultProfile: Seccomp {
        let eperm = UInt32(1)  // EPERM
        let enosys = UInt32(38)  // ENOSYS on every Linux architecture crabcan builds for
        let cloneNewUser: UInt64 = 0x1000_0000  // CLONE_NEWUSER
        let setUID: UInt64 = 0o4000, setGID: UInt64 = 0o2000

        /// MASKED_EQ with value == mask: "all of these bits are set".
        func bitsSet(_ index: UInt32, _ bits: UInt64) -> Arg {
            Arg(index: index, value: bits, valueTwo: bits, op: .maskedEqual)
        }

        return Seccomp(
            defaultAction: .allow,
            syscalls: [
                Syscall(
                    names: [
                        // keyrings are not namespaced: a container could read or fill the host's.
                        "keyctl", "add_key", "request_key",
                        // NUMA policy of memory shared with the host.
                        "mbind", "migrate_pages", "move_pages", "set_mempolicy",
                        // frequent exploit primitives (userfaultfd races, perf and bpf kernel bugs).
                        "userfaultfd", "perf_event_open", "bpf",
                        // the kernel itself: modules, kexec, reboot, swap, process accounting.
                        "init_module", "finit_module", "delete_module", "kexec_load", "kexec_file_load",
                        "reboot", "swapon", "swapoff", "acct",
                        // open_by_handle_at escapes any chroot (the 2014 "shocker" exploit).
                        "open_by_handle_at", "lookup_dcookie",
                    ],
                    action: .errno, errnoRet: eperm),
                // No new user namespaces: they hand out a full capability set over fresh namespaces, the
                // entry point of most container-escape kernel bugs. CLONE_NEWUSER is in arg 0 of clone on
                // x86_64, aarch64 and most others (s390 swaps the first two arguments).
                Syscall(names: ["unshare", "clone"], action: .errno, errnoRet: eperm, args: [bitsSet(0, cloneNewUser)]),
                // clone3 passes its flags in a struct seccomp cannot read: ENOSYS makes glibc fall back to
                // clone, which the rule above can check (Docker does the same).
                Syscall(names: ["clone3"], action: .errno, errnoRet: enosys),
                // No setuid/setgid files. One rule per bit: the rule must match when either bit is set,
                // and MASKED_EQ tests "all bits of the mask equal the value".
                Syscall(names: ["chmod", "fchmod"], action: .errno, errnoRet: eperm, args: [bitsSet(1, setUID)]),
                Syscall(names: ["chmod", "fchmod"], action: .errno, errnoRet: eperm, args: [bitsSet(1, setGID)]),
                // fchmodat2 (Linux 6.6) takes the mode in the same place; without it the rule would have a way around.
                Syscall(names: ["fchmodat", "fchmodat2"], action: .errno, errnoRet: eperm, args: [bitsSet(2, setUID)]),
                Syscall(names: ["fchmodat", "fchmodat2"], action: .errno, errnoRet: eperm, args: [bitsSet(2, setGID)]),
                // TIOCSTI pushes input into a terminal shared with the host (CVE-2016-9016 style). The
                // request is an unsigned int: compare the low 32 bits only, so garbage in the upper half
                // of the register cannot slip past.
                Syscall(names: ["ioctl"], action: .errno, errnoRet: eperm,
                        args: [Arg(index: 1, value: 0xffff_ffff, valueTwo: 0x5412, op: .maskedEqual)]),
            ])
    }
}
