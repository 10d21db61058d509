/* The C calls Swift cannot import as they are: variadic functions (syscall, prctl, fcntl, ioctl),
 * function-like macros (W*, makedev, CMSG_*), and names hidden behind _GNU_SOURCE.
 * Only plain prototypes here: defining _GNU_SOURCE in a module header makes clang's glibc structs differ
 * from SwiftGlibc's ("has different definitions in different modules"), so shim.c alone sees it.
 * Constants are literals (static const), checked against the system's headers by shim.c's _Static_asserts:
 * Swift folds them where they are used, where an extern const made every Swift global that held one a lazy
 * initialiser run once per process (docs/performance.md, session 22). */
#ifndef CRABCAN_CSHIM_H
#define CRABCAN_CSHIM_H
#include <stdint.h>
#include <stddef.h>
#include <sys/types.h>
#include <time.h>

/* Namespaces (CLONE_NEW* need _GNU_SOURCE). */
static const unsigned long CS_CLONE_NEWNS = 0x20000UL;
static const unsigned long CS_CLONE_NEWUTS = 0x4000000UL;
static const unsigned long CS_CLONE_NEWIPC = 0x8000000UL;
static const unsigned long CS_CLONE_NEWUSER = 0x10000000UL;
static const unsigned long CS_CLONE_NEWPID = 0x20000000UL;
static const unsigned long CS_CLONE_NEWNET = 0x40000000UL;
static const unsigned long CS_CLONE_NEWCGROUP = 0x2000000UL;
static const unsigned long CS_CLONE_NEWTIME = 0x80UL;
/* fork-like clone: a NULL stack makes the child continue on a copy of the caller's stack, like fork(2),
 * but with namespace flags that fork cannot take. The caller is single-threaded (docs/design.md §5). */
long cshim_clone(unsigned long flags);
/* The same, born in the cgroup v2 directory `cgroup_fd` (clone3 CLONE_INTO_CGROUP, Linux 5.7): no migration
 * afterwards. -1 and errno when the kernel cannot (then nothing was made). */
long cshim_clone_into_cgroup(unsigned long flags, int cgroup_fd);
int cshim_setns(int fd, int nstype);
int cshim_unshare(int flags);
int cshim_pivot_root(const char *new_root, const char *put_old);
int cshim_pidfd_open(pid_t pid);
int cshim_pidfd_send_signal(int pidfd, int sig);
int cshim_close_range_cloexec(unsigned int first);
/* The id of the mount `path` is on (statx, not following a last symlink): with `unique`, the 64-bit id that is
 * never reused (STATX_MNT_ID_UNIQUE, Linux 6.8), else the table's own (STATX_MNT_ID, 5.8). -1 and errno
 * (EOPNOTSUPP when the kernel did not fill it in). */
int cshim_mount_id(int dirfd, const char *path, int unique, uint64_t *id);
/* openat2 with RESOLVE_IN_ROOT: the kernel resolves symlinks and ".." inside dirfd (CVE-2021-30465). */
int cshim_openat2(int dirfd, const char *path, uint64_t flags, uint64_t mode, uint64_t resolve);
static const uint64_t CS_RESOLVE_IN_ROOT = 0x10ULL;
static const uint64_t CS_RESOLVE_NO_MAGICLINKS = 2ULL;
static const uint64_t CS_RESOLVE_NO_SYMLINKS = 4ULL;
static const uint64_t CS_RESOLVE_BENEATH = 8ULL;
/* prctl is variadic. */
int cshim_prctl(int option, unsigned long a2, unsigned long a3);
static const int CS_PR_SET_PDEATHSIG = 1;
static const int CS_PR_SET_NO_NEW_PRIVS = 0x26;
static const int CS_PR_SET_DUMPABLE = 4;
static const int CS_PR_SET_KEEPCAPS = 8;
static const int CS_PR_SET_CHILD_SUBREAPER = 0x24;
static const int CS_PR_SET_NAME = 15;
/* fcntl and ioctl are variadic. */
int cshim_fcntl_int(int fd, int cmd, int arg);
int cshim_ioctl_ptr(int fd, unsigned long req, void *arg);
int cshim_ioctl_int(int fd, unsigned long req, int arg);
/* wait status macros. */
int cshim_wifexited(int s);
int cshim_wexitstatus(int s);
int cshim_wifsignaled(int s);
int cshim_wtermsig(int s);
dev_t cshim_makedev(unsigned int maj, unsigned int min);
unsigned int cshim_major(dev_t d);
unsigned int cshim_minor(dev_t d);
int cshim_setgroups(size_t n, const gid_t *gids);
int cshim_sethostname(const char *name, size_t len);
int cshim_setdomainname(const char *name, size_t len);
/* Socket type constants are an enum Swift imports awkwardly. */
static const int CS_SOCK_SEQPACKET = 5;
static const int CS_SOCK_STREAM = 1;
static const int CS_SOCK_CLOEXEC = 0x80000;
/* Mount flags: glibc declares them as an enum plus macros; these give Swift one plain type. */
static const unsigned long CS_MS_RDONLY = 1UL;
static const unsigned long CS_MS_NOSUID = 2UL;
static const unsigned long CS_MS_NODEV = 4UL;
static const unsigned long CS_MS_NOEXEC = 8UL;
static const unsigned long CS_MS_SYNCHRONOUS = 0x10UL;
static const unsigned long CS_MS_REMOUNT = 0x20UL;
static const unsigned long CS_MS_MANDLOCK = 0x40UL;
static const unsigned long CS_MS_DIRSYNC = 0x80UL;
static const unsigned long CS_MS_NOSYMFOLLOW = 0x100UL;
static const unsigned long CS_MS_NOATIME = 0x400UL;
static const unsigned long CS_MS_NODIRATIME = 0x800UL;
static const unsigned long CS_MS_BIND = 0x1000UL;
static const unsigned long CS_MS_MOVE = 0x2000UL;
static const unsigned long CS_MS_REC = 0x4000UL;
static const unsigned long CS_MS_SILENT = 0x8000UL;
static const unsigned long CS_MS_UNBINDABLE = 0x20000UL;
static const unsigned long CS_MS_PRIVATE = 0x40000UL;
static const unsigned long CS_MS_SLAVE = 0x80000UL;
static const unsigned long CS_MS_SHARED = 0x100000UL;
static const unsigned long CS_MS_RELATIME = 0x200000UL;
static const unsigned long CS_MS_STRICTATIME = 0x1000000UL;
static const unsigned long CS_MS_LAZYTIME = 0x2000000UL;
static const int CS_MNT_DETACH = 2;
/* SCM_RIGHTS: send or receive one fd with a small payload (CMSG_* are macros). */
ssize_t cshim_send_fd(int sock, int fd, const void *buf, size_t len);
ssize_t cshim_recv_fd(int sock, int *fd, void *buf, size_t len);
/* environ is a libc global Swift 6 flags as not concurrency-safe. */
char **cshim_environ(void);

/* argv as the C library hands it to constructors: read without CommandLine.arguments, whose one-time set-up
   lives in a part of the binary the link order cannot arrange (docs/performance.md). */
int cshim_argc(void);
char **cshim_argv(void);
int cshim_setresuid(uid_t u);
int cshim_setresgid(gid_t g);
int cshim_signalfd_all(void);
int cshim_read_signal(int fd);
static const int CS_O_PATH = 0x200000;
long cshim_mount_flags(const char *path);
long cshim_mount_flags_fd(int fd);
long cshim_fs_type(const char *path);
int cshim_close_range(unsigned int first, unsigned int last);
long cshim_join_session_keyring(const char *name);
long cshim_fd_fs_type(int fd);
int cshim_realtime_syscall(struct timespec *now);
static const uint64_t CS_RESOLVE_NO_XDEV = 1ULL;
int cshim_personality(unsigned long persona);
/* Hooks: the state goes to a hook's stdin from a memfd (no SIGPIPE, no blocking); pipe2 needs _GNU_SOURCE. */
int cshim_memfd_create(const char *name);
int cshim_pipe_cloexec(int fds[2]);
/* cgroup v2 device control is an eBPF program (bpf(2) takes a union of structs). */
int cshim_bpf_load_device_program(const void *insns, unsigned int count, char *log, unsigned int log_size);
int cshim_bpf_attach_device_program(int cgroup_fd, int program_fd);
int cshim_fchmodat2(int dirfd, const char *path, unsigned int mode, int flags);
/* CLONE_PARENT: the container init cloned by a namespace-joining helper is still the child of `create`. */
static const unsigned long CS_CLONE_PARENT = 0x8000UL;
/* open_tree(OPEN_TREE_CLONE) and move_mount: a detached copy of a mount, attached later, even after pivot_root
 * (a plain bind from a mount of the old root then fails with EINVAL). */
int cshim_open_tree_clone(int fd);
int cshim_move_mount_to(int from_fd, const char *to_path);
/* open_tree(fd, OPEN_TREE_CLONE | AT_RECURSIVE): a detached copy of the mount `fd` is on and of its submounts (an rbind). */
int cshim_open_tree_clone_recursive(int fd);
/* open_tree(path, OPEN_TREE_CLONE [| AT_RECURSIVE]): a detached copy of a bind source (and its submounts). */
int cshim_open_tree_clone_path(const char *path, int recursive);
/* open_tree(path, OPEN_TREE_NAMESPACE | AT_RECURSIVE): an nsfs fd of a new mount namespace whose only tree is a
 * copy of `path` (Linux 7.0; EINVAL before). */
int cshim_open_tree_namespace(const char *path);
/* move_mount onto the directory or file `to_fd` names (MOVE_MOUNT_T_EMPTY_PATH): no path to re-resolve. */
int cshim_move_mount_to_fd(int from_fd, int to_fd);
/* mount_setattr(AT_RECURSIVE): runc's recursive mount options (rro, rnosuid, ...) change a whole tree of mounts
 * at once, which a MS_REMOUNT of each mount cannot do atomically. */
int cshim_mount_setattr_recursive(int fd, uint64_t attr_set, uint64_t attr_clr);
/* mount_setattr without AT_RECURSIVE: flags added to the one mount `fd` is on, its submounts left as they are. */
int cshim_mount_setattr_top(int fd, uint64_t attr_set);
static const uint64_t CS_MOUNT_ATTR_RDONLY = 1ULL;
static const uint64_t CS_MOUNT_ATTR_NOSUID = 2ULL;
static const uint64_t CS_MOUNT_ATTR_NODEV = 4ULL;
static const uint64_t CS_MOUNT_ATTR_NOEXEC = 8ULL;
static const uint64_t CS_MOUNT_ATTR__ATIME = 0x70ULL;
static const uint64_t CS_MOUNT_ATTR_RELATIME = 0ULL;
static const uint64_t CS_MOUNT_ATTR_NOATIME = 0x10ULL;
static const uint64_t CS_MOUNT_ATTR_STRICTATIME = 0x20ULL;
static const uint64_t CS_MOUNT_ATTR_NODIRATIME = 0x80ULL;
static const uint64_t CS_MOUNT_ATTR_NOSYMFOLLOW = 0x200000ULL;
/* Fault injection: the next write to fd SIGKILLs the caller (F_SETOWN, F_SETSIG, O_ASYNC). */
int cshim_sigkill_on_input(int fd);
/* seccomp(SECCOMP_SET_MODE_FILTER, flags, prog): the runtime's own BPF (libseccomp's plus the ENOSYS stub).
 * Returns the listener fd with SECCOMP_FILTER_FLAG_NEW_LISTENER, else 0; -1 and errno on failure. */
int cshim_seccomp_set_filter(const void *insns, unsigned short count, unsigned int flags);
/* The container's init in the runtime's address space (shared_init.c; docs/design.md §2, "One side runs at a
 * time"). The child closes `parent_sock`, dies with its parent, and waits for the one-byte `placed_tag` packet
 * on `sock` before it calls entry(context), on a stack of its own. */
struct cshim_shared_init {
    int sock;
    int parent_sock; /* the runtime's end, closed in the child first */
    unsigned char placed_tag;
    void (*entry)(void *context);
    void *context;
};
/* clone(CLONE_VM | flags) running `start`; the child's pid, or -1 and errno. */
long cshim_clone_shared(unsigned long flags, const struct cshim_shared_init *start, size_t stack_size);
/* The same, born in the cgroup v2 directory `cgroup_fd` (clone3 CLONE_INTO_CGROUP, Linux 5.7); -1 and errno when
 * the kernel refuses (then nothing was made). */
long cshim_clone_shared_into_cgroup(unsigned long flags, const struct cshim_shared_init *start, size_t stack_size,
                                    int cgroup_fd);
/* The runtime's side of a hand-over: send `packet` (none when length is 0), then wait in the kernel for the next
 * packet into `reply`, and the fd it carried into `received_fd` (-1 if none). Its length, or -1 (0: end of file). */
long cshim_hand_over(int sock, const unsigned char *packet, long length, unsigned char *reply, long capacity,
                     int *received_fd);
/* In a queued packet's length word: a 4-byte fd follows, sent with the packet (SCM_RIGHTS). */
#define CSHIM_QUEUED_WITH_FD 0x80000000U
/* The init's side of a mid-set-up hand-over (the runtime runs its hooks): the queued packets (as in
 * cshim_shared_finish), then a wait in the kernel for the runtime's reply into `reply`. Its length, or -1. */
long cshim_shared_init_exchange(int sock, const unsigned char *packets, long packets_length, unsigned char *reply,
                                long capacity);
/* The init's failure report, then exit(1): nothing runs in between. */
void cshim_shared_init_fail(int sock, const unsigned char *packet, long length) __attribute__((noreturn));
/* What the init does from `ready` on, all of it prepared before. */
struct cshim_shared_finish {
    int sock;
    /* Queued packets, each a 4-byte native length then its bytes; `ready` last. */
    const unsigned char *packets;
    long packets_length;
    unsigned char committed_tag;
    /* /proc/self/fd/N of exec.fifo, whose opening by `start` releases the child; NULL for `run`, which releases
     * it with `start_tag` on `sock` instead and sees execve close the socket (close-on-exec). */
    const char *fifo;
    unsigned char start_tag;
    const void *filter;
    unsigned short filter_count;
    unsigned int filter_flags;
    void *capabilities; /* a cap_t applied after the filter, or NULL */
    const char *path;
    char *const *argv;
    char *const *envp;
    const char *exec_description; /* "exec <path>", for a failed execve */
    /* The CPUs given back before the filter (SetUpCPU: the init ran pinned to the runtime's CPU), or NULL. */
    const uint64_t *affinity;
    unsigned long affinity_bytes;
};
void cshim_shared_init_finish(const struct cshim_shared_finish *finish) __attribute__((noreturn));
/* pidfd_open + pidfd_getfd: a copy of fd `fd` of process `pid` (runc takes the seccomp listener this way). */
int cshim_pidfd_getfd(int pid, int fd);
#endif

/* Scheduling and memory placement of the calling thread (process.scheduler, ioPriority, execCPUAffinity,
 * linux.memoryPolicy): raw syscalls, glibc 2.36 wraps none of sched_setattr, ioprio_set, set_mempolicy. */
int cshim_sched_setattr(uint32_t policy, uint64_t flags, int32_t nice, uint32_t priority,
                        uint64_t runtime, uint64_t deadline, uint64_t period);
int cshim_ioprio_set_self(int ioprio);
int cshim_sched_setaffinity_self(const uint64_t *mask, size_t bytes);
/* sched_getcpu (a GNU extension, hidden from Swift's Glibc module): the caller's CPU, or -1. */
int cshim_current_cpu(void);
/* The bytes of `mask` the kernel filled (its cpumask's size), or -1 and errno. */
int cshim_sched_getaffinity_self(uint64_t *mask, size_t bytes);
int cshim_set_mempolicy(int mode, const uint64_t *nodemask, unsigned long maxnode);

/* An rtnetlink socket connected to the kernel (socket + connect: sockaddr_nl is not imported into Swift). */
int cshim_netlink_route_open(void);
#include "cshim_idmap.h"
