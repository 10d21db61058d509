/* Implementations of include/cshim.h: one-line wrappers, no logic. */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <linux/sched.h>  /* struct clone_args, CLONE_INTO_CGROUP */
#include <signal.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>
#include <grp.h>
#include <sys/syscall.h>
#include <sys/prctl.h>
#include <sys/mount.h>
#include <sys/mman.h>
#include <linux/bpf.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <sys/socket.h>
#include <sys/ioctl.h>
#include <linux/openat2.h>
#include <linux/stat.h>   /* struct statx with stx_mnt_id */
#include <sys/stat.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <linux/netlink.h>
#include "cshim.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

_Static_assert(CS_CLONE_NEWNS == CLONE_NEWNS, "CS_CLONE_NEWNS");

_Static_assert(CS_CLONE_NEWUTS == CLONE_NEWUTS, "CS_CLONE_NEWUTS");

_Static_assert(CS_CLONE_NEWIPC == CLONE_NEWIPC, "CS_CLONE_NEWIPC");

_Static_assert(CS_CLONE_NEWUSER == CLONE_NEWUSER, "CS_CLONE_NEWUSER");

_Static_assert(CS_CLONE_NEWPID == CLONE_NEWPID, "CS_CLONE_NEWPID");

_Static_assert(CS_CLONE_NEWNET == CLONE_NEWNET, "CS_CLONE_NEWNET");

_Static_assert(CS_CLONE_NEWCGROUP == CLONE_NEWCGROUP, "CS_CLONE_NEWCGROUP");

_Static_assert(CS_CLONE_NEWTIME == CLONE_NEWTIME, "CS_CLONE_NEWTIME");

long cshim_clone(unsigned long flags) {
    return syscall(SYS_clone, flags | SIGCHLD, NULL, NULL, NULL, 0);
}

long cshim_clone_into_cgroup(unsigned long flags, int cgroup_fd) {
    /* No stack: the child goes on on a copy of ours, as after fork. */
    struct clone_args args;
    memset(&args, 0, sizeof args);
    args.flags = flags | CLONE_INTO_CGROUP;
    args.exit_signal = SIGCHLD;
    args.cgroup = (uint64_t)cgroup_fd;
    return syscall(SYS_clone3, &args, sizeof args);
}

int cshim_setns(int fd, int nstype) { return setns(fd, nstype); }

int cshim_unshare(int flags) { return unshare(flags); }

int cshim_pivot_root(const char *new_root, const char *put_old) {
    return (int)syscall(SYS_pivot_root, new_root, put_old);
}

int cshim_pidfd_open(pid_t pid) { return (int)syscall(SYS_pidfd_open, pid, 0); }

int cshim_pidfd_send_signal(int pidfd, int sig) {
    return (int)syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0);
}

int cshim_close_range_cloexec(unsigned int first) {
    return (int)syscall(SYS_close_range, first, ~0U, 4 /* CLOSE_RANGE_CLOEXEC */);
}

int cshim_mount_id(int dirfd, const char *path, int unique, uint64_t *id) {
    /* The kernel's struct (linux/stat.h): glibc 2.36's names stx_mnt_id only as padding. */
    struct statx buffer;
    unsigned int mask = unique ? 0x4000U /* STATX_MNT_ID_UNIQUE */ : 0x1000U /* STATX_MNT_ID */;
    memset(&buffer, 0, sizeof buffer);
    if (syscall(SYS_statx, dirfd, path, AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT, mask, &buffer) != 0) return -1;
    if (!(buffer.stx_mask & mask)) { errno = EOPNOTSUPP; return -1; }
    *id = buffer.stx_mnt_id;
    return 0;
}

int cshim_openat2(int dirfd, const char *path, uint64_t flags, uint64_t mode, uint64_t resolve) {
    struct open_how how;
    memset(&how, 0, sizeof how);
    how.flags = flags; how.mode = mode; how.resolve = resolve;
    return (int)syscall(SYS_openat2, dirfd, path, &how, sizeof how);
}

_Static_assert(CS_RESOLVE_IN_ROOT == RESOLVE_IN_ROOT, "CS_RESOLVE_IN_ROOT");

_Static_assert(CS_RESOLVE_NO_MAGICLINKS == RESOLVE_NO_MAGICLINKS, "CS_RESOLVE_NO_MAGICLINKS");

_Static_assert(CS_RESOLVE_NO_SYMLINKS == RESOLVE_NO_SYMLINKS, "CS_RESOLVE_NO_SYMLINKS");

_Static_assert(CS_RESOLVE_BENEATH == RESOLVE_BENEATH, "CS_RESOLVE_BENEATH");

int cshim_prctl(int option, unsigned long a2, unsigned long a3) { return prctl(option, a2, a3, 0, 0); }

_Static_assert(CS_PR_SET_PDEATHSIG == PR_SET_PDEATHSIG, "CS_PR_SET_PDEATHSIG");

_Static_assert(CS_PR_SET_NO_NEW_PRIVS == PR_SET_NO_NEW_PRIVS, "CS_PR_SET_NO_NEW_PRIVS");

_Static_assert(CS_PR_SET_DUMPABLE == PR_SET_DUMPABLE, "CS_PR_SET_DUMPABLE");

_Static_assert(CS_PR_SET_KEEPCAPS == PR_SET_KEEPCAPS, "CS_PR_SET_KEEPCAPS");

_Static_assert(CS_PR_SET_CHILD_SUBREAPER == PR_SET_CHILD_SUBREAPER, "CS_PR_SET_CHILD_SUBREAPER");

_Static_assert(CS_PR_SET_NAME == PR_SET_NAME, "CS_PR_SET_NAME");

int cshim_fcntl_int(int fd, int cmd, int arg) { return fcntl(fd, cmd, arg); }

int cshim_ioctl_ptr(int fd, unsigned long req, void *arg) { return ioctl(fd, req, arg); }

int cshim_ioctl_int(int fd, unsigned long req, int arg) { return ioctl(fd, req, arg); }

int cshim_wifexited(int s) { return WIFEXITED(s); }

int cshim_wexitstatus(int s) { return WEXITSTATUS(s); }

int cshim_wifsignaled(int s) { return WIFSIGNALED(s); }

int cshim_wtermsig(int s) { return WTERMSIG(s); }

dev_t cshim_makedev(unsigned int maj, unsigned int min) { return makedev(maj, min); }

unsigned int cshim_major(dev_t d) { return major(d); }

unsigned int cshim_minor(dev_t d) { return minor(d); }

int cshim_setgroups(size_t n, const gid_t *gids) { return setgroups(n, gids); }

int cshim_sethostname(const char *name, size_t len) { return sethostname(name, len); }

int cshim_setdomainname(const char *name, size_t len) { return setdomainname(name, len); }

_Static_assert(CS_SOCK_SEQPACKET == SOCK_SEQPACKET, "CS_SOCK_SEQPACKET");

_Static_assert(CS_SOCK_STREAM == SOCK_STREAM, "CS_SOCK_STREAM");

_Static_assert(CS_SOCK_CLOEXEC == SOCK_CLOEXEC, "CS_SOCK_CLOEXEC");

_Static_assert(CS_MS_RDONLY == MS_RDONLY, "CS_MS_RDONLY");

_Static_assert(CS_MS_NOSUID == MS_NOSUID, "CS_MS_NOSUID");

_Static_assert(CS_MS_NODEV == MS_NODEV, "CS_MS_NODEV");

_Static_assert(CS_MS_NOEXEC == MS_NOEXEC, "CS_MS_NOEXEC");

_Static_assert(CS_MS_SYNCHRONOUS == MS_SYNCHRONOUS, "CS_MS_SYNCHRONOUS");

_Static_assert(CS_MS_REMOUNT == MS_REMOUNT, "CS_MS_REMOUNT");

_Static_assert(CS_MS_MANDLOCK == MS_MANDLOCK, "CS_MS_MANDLOCK");

_Static_assert(CS_MS_DIRSYNC == MS_DIRSYNC, "CS_MS_DIRSYNC");

_Static_assert(CS_MS_NOSYMFOLLOW == 256, "CS_MS_NOSYMFOLLOW");

_Static_assert(CS_MS_NOATIME == MS_NOATIME, "CS_MS_NOATIME");

_Static_assert(CS_MS_NODIRATIME == MS_NODIRATIME, "CS_MS_NODIRATIME");

_Static_assert(CS_MS_BIND == MS_BIND, "CS_MS_BIND");

_Static_assert(CS_MS_MOVE == MS_MOVE, "CS_MS_MOVE");

_Static_assert(CS_MS_REC == MS_REC, "CS_MS_REC");

_Static_assert(CS_MS_SILENT == MS_SILENT, "CS_MS_SILENT");

_Static_assert(CS_MS_UNBINDABLE == MS_UNBINDABLE, "CS_MS_UNBINDABLE");

_Static_assert(CS_MS_PRIVATE == MS_PRIVATE, "CS_MS_PRIVATE");

_Static_assert(CS_MS_SLAVE == MS_SLAVE, "CS_MS_SLAVE");

_Static_assert(CS_MS_SHARED == MS_SHARED, "CS_MS_SHARED");

_Static_assert(CS_MS_RELATIME == MS_RELATIME, "CS_MS_RELATIME");

_Static_assert(CS_MS_STRICTATIME == MS_STRICTATIME, "CS_MS_STRICTATIME");

_Static_assert(CS_MS_LAZYTIME == MS_LAZYTIME, "CS_MS_LAZYTIME");

_Static_assert(CS_MNT_DETACH == MNT_DETACH, "CS_MNT_DETACH");

ssize_t cshim_send_fd(int sock, int fd, const void *buf, size_t len) {
    char control[CMSG_SPACE(sizeof(int))];
    memset(control, 0, sizeof control);
    struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
    struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control, .msg_controllen = sizeof control };
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET; c->cmsg_type = SCM_RIGHTS; c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &fd, sizeof(int));
    return sendmsg(sock, &msg, MSG_NOSIGNAL);
}

ssize_t cshim_recv_fd(int sock, int *fd, void *buf, size_t len) {
    char control[CMSG_SPACE(sizeof(int))];
    memset(control, 0, sizeof control);
    struct iovec iov = { .iov_base = buf, .iov_len = len };
    struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control, .msg_controllen = sizeof control };
    ssize_t n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
    *fd = -1;
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    if (n >= 0 && c && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
        memcpy(fd, CMSG_DATA(c), sizeof(int));
    return n;
}

extern char **environ;

char **cshim_environ(void) { return environ; }

static int saved_argc;
static char **saved_argv;

/* glibc calls each init_array function with (argc, argv, envp), in static programs too. */
__attribute__((constructor)) static void cshim_save_arguments(int argc, char **argv, char **envp) {
    (void)envp;
    saved_argc = argc;
    saved_argv = argv;
}

int cshim_argc(void) { return saved_argc; }
char **cshim_argv(void) { return saved_argv; }

/* The two calls the standard library's CommandLine makes into its runtime for argv. Defined here, the runtime's
   own (CommandLine.cpp) is never linked in, nor its static constructor, which in every process opens, reads and
   sscanf-parses /proc/self/maps to find argv on the stack (docs/performance.md, session 18). */
char **_swift_stdlib_getUnsafeArgvArgc(int *outArgLen) {
    *outArgLen = saved_argc;
    return saved_argv;
}
void _swift_stdlib_overrideUnsafeArgvArgc(char **argv, int argc) {
    saved_argv = argv;
    saved_argc = argc;
}

/* The two symbols by which the runtime's crash backtracer (Backtrace.cpp) is linked in: swiftrt.o names the
   first only to pull that object in, and Errors.cpp reads the second's `enabled` (offset 4) on a fatal error.
   Defined here, the backtracer and its crash handler are never linked, nor its static constructor, which in
   every process read SWIFT_* variables, readlink'ed /proc/self/exe twice and stat'ed eight paths beside the
   binary for a `swift-backtrace` helper; a static crabcan ships without one, so the handler was never
   installed (docs/performance.md, session 19). All zero is the runtime's "off": a fatal error still prints its
   message and the stack trace Errors.cpp unwinds itself. */
_Bool _swift_backtrace_isThunkFunction(const char *mangledName) {
    (void)mangledName;
    return 0;
}
__attribute__((aligned(16))) unsigned char _swift_backtraceSettings[256];

/* setres[ug]id need _GNU_SOURCE. */
int cshim_setresuid(uid_t u) { return setresuid(u, u, u); }
int cshim_setresgid(gid_t g) { return setresgid(g, g, g); }

/* signalfd: every signal, read back as a bare signal number. */
#include <sys/signalfd.h>
int cshim_signalfd_all(void) {
    sigset_t all;
    sigfillset(&all);
    return signalfd(-1, &all, SFD_CLOEXEC);
}
int cshim_read_signal(int fd) {
    struct signalfd_siginfo info;
    ssize_t n = read(fd, &info, sizeof info);
    return n == (ssize_t)sizeof info ? (int)info.ssi_signo : -1;
}
_Static_assert(CS_O_PATH == O_PATH, "CS_O_PATH");

/* The MS_* flags a mount has now (statvfs reports ST_*, which need _GNU_SOURCE): a bind remount must
 * repeat the locked ones or the kernel refuses it with EPERM. */
#include <sys/statvfs.h>
#include <sys/vfs.h>
static long mount_flags_of(const struct statvfs *stp) {
    const struct statvfs st = *stp;
    unsigned long f = 0;
    if (st.f_flag & ST_RDONLY) f |= MS_RDONLY;
    if (st.f_flag & ST_NOSUID) f |= MS_NOSUID;
    if (st.f_flag & ST_NODEV) f |= MS_NODEV;
    if (st.f_flag & ST_NOEXEC) f |= MS_NOEXEC;
    if (st.f_flag & ST_NOATIME) f |= MS_NOATIME;
    if (st.f_flag & ST_NODIRATIME) f |= MS_NODIRATIME;
    if (st.f_flag & ST_RELATIME) f |= MS_RELATIME;
    return (long)f;
}
long cshim_mount_flags(const char *path) {
    struct statvfs st;
    return statvfs(path, &st) == 0 ? mount_flags_of(&st) : -1;
}
/* The same for the mount an fd (O_PATH too) is on: no path to walk. */
long cshim_mount_flags_fd(int fd) {
    struct statvfs st;
    return fstatvfs(fd, &st) == 0 ? mount_flags_of(&st) : -1;
}
long cshim_fs_type(const char *path) {
    struct statfs st;
    if (statfs(path, &st) != 0) return -1;
    return (long)st.f_type;
}

/* CLOCK_REALTIME through the system call: a command that asks the time once (create's `created`) would first fault
   in the vDSO's data page, which costs more than the call. */
int cshim_realtime_syscall(struct timespec *now) { return (int)syscall(SYS_clock_gettime, CLOCK_REALTIME, now); }

/* close_range over [first, last]. */
int cshim_close_range(unsigned int first, unsigned int last) { return (int)syscall(SYS_close_range, first, last, 0); }

/* keyctl(KEYCTL_JOIN_SESSION_KEYRING, name): a fresh session keyring, so the container cannot read the caller's keys. */
long cshim_join_session_keyring(const char *name) { return syscall(SYS_keyctl, 1 /* KEYCTL_JOIN_SESSION_KEYRING */, name); }

/* fstatfs magic of an open file (PROC_SUPER_MAGIC for procfs); RESOLVE_NO_XDEV for openat2. */
long cshim_fd_fs_type(int fd) {
    struct statfs st;
    if (fstatfs(fd, &st) != 0) return -1;
    return (long)st.f_type;
}
_Static_assert(CS_RESOLVE_NO_XDEV == RESOLVE_NO_XDEV, "CS_RESOLVE_NO_XDEV");
#include <sys/personality.h>
int cshim_personality(unsigned long persona) { return personality(persona); }

int cshim_memfd_create(const char *name) { return memfd_create(name, MFD_CLOEXEC); }
int cshim_pipe_cloexec(int fds[2]) { return pipe2(fds, O_CLOEXEC); }

/* bpf(2): load a BPF_PROG_TYPE_CGROUP_DEVICE program (a NULL log: no verifier log, log_level 0) and attach it
 * to a cgroup v2 directory. */
int cshim_bpf_load_device_program(const void *insns, unsigned int count, char *log, unsigned int log_size) {
    union bpf_attr attr;
    memset(&attr, 0, sizeof(attr));
    attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
    attr.insns = (uint64_t)(uintptr_t)insns;
    attr.insn_cnt = count;
    attr.license = (uint64_t)(uintptr_t)"Apache";
    attr.log_buf = (uint64_t)(uintptr_t)log;
    attr.log_size = log_size;
    attr.log_level = log_size > 0 ? 1 : 0;
    return (int)syscall(SYS_bpf, BPF_PROG_LOAD, &attr, sizeof(attr));
}

int cshim_bpf_attach_device_program(int cgroup_fd, int program_fd) {
    union bpf_attr attr;
    memset(&attr, 0, sizeof(attr));
    attr.target_fd = cgroup_fd;
    attr.attach_bpf_fd = program_fd;
    attr.attach_type = BPF_CGROUP_DEVICE;
    attr.attach_flags = BPF_F_ALLOW_MULTI;
    return (int)syscall(SYS_bpf, BPF_PROG_ATTACH, &attr, sizeof(attr));
}

/* fchmodat2 (Linux 6.6, number 452 on every architecture): glibc 2.36 has no wrapper; the seccomp tests call it. */
int cshim_fchmodat2(int dirfd, const char *path, unsigned int mode, int flags) { return (int)syscall(452, dirfd, path, mode, flags); }
_Static_assert(CS_CLONE_PARENT == CLONE_PARENT, "CS_CLONE_PARENT");

#define CS_OPEN_TREE_CLONE 1
#define CS_MOVE_MOUNT_F_EMPTY_PATH 0x00000004
int cshim_open_tree_clone(int fd) {
    return (int)syscall(SYS_open_tree, fd, "", CS_OPEN_TREE_CLONE | O_CLOEXEC | AT_EMPTY_PATH);
}
int cshim_open_tree_clone_recursive(int fd) {
    return (int)syscall(SYS_open_tree, fd, "", CS_OPEN_TREE_CLONE | O_CLOEXEC | AT_EMPTY_PATH | AT_RECURSIVE);
}
int cshim_open_tree_clone_path(const char *path, int recursive) {
    return (int)syscall(SYS_open_tree, AT_FDCWD, path, CS_OPEN_TREE_CLONE | O_CLOEXEC | (recursive ? AT_RECURSIVE : 0));
}
/* OPEN_TREE_NAMESPACE (Linux 7.0; 1 << 1 in <linux/mount.h>): a new mount namespace holding a copy of the tree at
 * `path` alone, its submounts included. An older kernel refuses the unknown flag with EINVAL. */
#define CS_OPEN_TREE_NAMESPACE (1 << 1)
int cshim_open_tree_namespace(const char *path) {
    return (int)syscall(SYS_open_tree, AT_FDCWD, path, CS_OPEN_TREE_NAMESPACE | AT_RECURSIVE | O_CLOEXEC);
}
int cshim_move_mount_to_fd(int from_fd, int to_fd) {
    return (int)syscall(SYS_move_mount, from_fd, "", to_fd, "", CS_MOVE_MOUNT_F_EMPTY_PATH | 0x00000040 /* T_EMPTY_PATH */);
}
int cshim_move_mount_to(int from_fd, const char *to_path) {
    return (int)syscall(SYS_move_mount, from_fd, "", AT_FDCWD, to_path, CS_MOVE_MOUNT_F_EMPTY_PATH);
}

int cshim_mount_setattr_recursive(int fd, uint64_t attr_set, uint64_t attr_clr) {
    struct mount_attr attr = { .attr_set = attr_set, .attr_clr = attr_clr };
    return (int)syscall(SYS_mount_setattr, fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof attr);
}
int cshim_mount_setattr_top(int fd, uint64_t attr_set) {
    struct mount_attr attr = { .attr_set = attr_set };
    return (int)syscall(SYS_mount_setattr, fd, "", AT_EMPTY_PATH, &attr, sizeof attr);
}
_Static_assert(CS_MOUNT_ATTR_RDONLY == MOUNT_ATTR_RDONLY, "CS_MOUNT_ATTR_RDONLY");
_Static_assert(CS_MOUNT_ATTR_NOSUID == MOUNT_ATTR_NOSUID, "CS_MOUNT_ATTR_NOSUID");
_Static_assert(CS_MOUNT_ATTR_NODEV == MOUNT_ATTR_NODEV, "CS_MOUNT_ATTR_NODEV");
_Static_assert(CS_MOUNT_ATTR_NOEXEC == MOUNT_ATTR_NOEXEC, "CS_MOUNT_ATTR_NOEXEC");
_Static_assert(CS_MOUNT_ATTR__ATIME == MOUNT_ATTR__ATIME, "CS_MOUNT_ATTR__ATIME");
_Static_assert(CS_MOUNT_ATTR_RELATIME == MOUNT_ATTR_RELATIME, "CS_MOUNT_ATTR_RELATIME");
_Static_assert(CS_MOUNT_ATTR_NOATIME == MOUNT_ATTR_NOATIME, "CS_MOUNT_ATTR_NOATIME");
_Static_assert(CS_MOUNT_ATTR_STRICTATIME == MOUNT_ATTR_STRICTATIME, "CS_MOUNT_ATTR_STRICTATIME");
_Static_assert(CS_MOUNT_ATTR_NODIRATIME == MOUNT_ATTR_NODIRATIME, "CS_MOUNT_ATTR_NODIRATIME");
_Static_assert(CS_MOUNT_ATTR_NOSYMFOLLOW == MOUNT_ATTR_NOSYMFOLLOW, "CS_MOUNT_ATTR_NOSYMFOLLOW");

/* Fault injection (tests only): whoever writes to `fd` next makes the kernel SIGKILL this process (O_ASYNC with
 * F_SETSIG), which works across pid namespaces where kill(2) cannot name us. */
int cshim_sigkill_on_input(int fd) {
    if (fcntl(fd, F_SETOWN, getpid()) == -1 || fcntl(fd, F_SETSIG, SIGKILL) == -1) return -1;
    int flags = fcntl(fd, F_GETFL);
    return flags == -1 ? -1 : fcntl(fd, F_SETFL, flags | O_ASYNC);
}

int cshim_seccomp_set_filter(const void *insns, unsigned short count, unsigned int flags) {
    struct sock_fprog prog = { .len = count, .filter = (struct sock_filter *)insns };
    long rc = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog);
    /* A kernel (or an outer filter) without seccomp(2): prctl takes the same program when no flag is asked. */
    if (rc == -1 && errno == ENOSYS && flags == 0) rc = prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0);
    return (int)rc;
}

int cshim_pidfd_getfd(int pid, int fd) {
    int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    if (pidfd < 0) return -1;
    int copy = (int)syscall(SYS_pidfd_getfd, pidfd, fd, 0);
    int saved = errno;
    close(pidfd);
    errno = saved;
    return copy;
}

/* struct sched_attr as of Linux 4.13 (SCHED_ATTR_SIZE_VER0, 48 bytes): enough for every field the spec has. */
struct cshim_sched_attr {
    uint32_t size, sched_policy;
    uint64_t sched_flags;
    int32_t sched_nice;
    uint32_t sched_priority;
    uint64_t sched_runtime, sched_deadline, sched_period;
};

int cshim_sched_setattr(uint32_t policy, uint64_t flags, int32_t nice, uint32_t priority,
                        uint64_t runtime, uint64_t deadline, uint64_t period) {
    struct cshim_sched_attr attr = { sizeof attr, policy, flags, nice, priority, runtime, deadline, period };
    return (int)syscall(SYS_sched_setattr, 0, &attr, 0);
}

int cshim_ioprio_set_self(int ioprio) { return (int)syscall(SYS_ioprio_set, 1 /* IOPRIO_WHO_PROCESS */, 0, ioprio); }

int cshim_sched_setaffinity_self(const uint64_t *mask, size_t bytes) {
    return (int)syscall(SYS_sched_setaffinity, 0, bytes, mask);
}

int cshim_current_cpu(void) { return sched_getcpu(); }

int cshim_sched_getaffinity_self(uint64_t *mask, size_t bytes) {
    /* The system call, not glibc's wrapper: that one returns 0, and the kernel's answer is the mask's size. */
    return (int)syscall(SYS_sched_getaffinity, 0, bytes, mask);
}

int cshim_set_mempolicy(int mode, const uint64_t *nodemask, unsigned long maxnode) {
    return (int)syscall(SYS_set_mempolicy, mode, nodemask, maxnode);
}

int cshim_netlink_route_open(void) {
    int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
    struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
    if (fd >= 0 && connect(fd, (struct sockaddr *)&kernel, sizeof kernel) != 0) { close(fd); return -1; }
    return fd;
}
