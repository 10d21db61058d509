/* The container's init in the runtime's own address space (docs/design.md §2, "One side runs at a time").
 *
 * clone(CLONE_VM) spares the page tables fork copies and the copy-on-write faults both sides take after it. The
 * price is a rule: the runtime and its init never run Swift (or touch errno, malloc or stdio) at the same time.
 * These functions are where control passes from one side to the other. Each side gives it up inside a raw
 * system call (no libc wrapper, so not even errno is written), and from `ready` on the init runs only
 * cshim_shared_init_finish, which touches nothing but what it was handed and its own stack. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <linux/sched.h> /* struct clone_args, CLONE_INTO_CGROUP */
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/capability.h>
#include "cshim.h"

static long raw_syscall(long number, long a, long b, long c, long d, long e, long f) {
    register long r10 __asm__("r10") = d;
    register long r8 __asm__("r8") = e;
    register long r9 __asm__("r9") = f;
    long result;
    __asm__ volatile("syscall"
                     : "=a"(result)
                     : "a"(number), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
                     : "rcx", "r11", "memory");
    return result;
}

static __attribute__((noreturn)) void raw_exit(int code) {
    for (;;) raw_syscall(SYS_exit_group, code, 0, 0, 0, 0, 0);
}

static void raw_write_all(int fd, const char *text, size_t length) {
    while (length > 0) {
        long written = raw_syscall(SYS_write, fd, (long)text, (long)length, 0, 0, 0);
        if (written <= 0) return;
        text += written;
        length -= (size_t)written;
    }
}

/* "crabcan: <what>: <NAME> (<description>)\n" on the container's stderr, as ProcessStart.report writes it. */
static __attribute__((noreturn)) void report_and_exit(const char *what, long negative_errno, int code) {
    int number = (int)-negative_errno;
    const char *name = strerrorname_np(number);
    const char *text = strerrordesc_np(number);
    char line[512];
    size_t at = 0;
    const char *parts[] = {"crabcan: ", what, ": ", name ? name : "errno", " (", text ? text : "unknown", ")\n"};
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
        for (const char *c = parts[i]; *c && at < sizeof line; c++) {
            /* strerror's text is capitalized; SysError prints it lower-case */
            line[at++] = (i == 5 && *c >= 'A' && *c <= 'Z') ? (char)(*c - 'A' + 'a') : *c;
        }
    }
    raw_write_all(2, line, at);
    raw_exit(code);
}

static int shared_init_start(void *argument) {
    const struct cshim_shared_init *start = argument;
    /* What the first lines of ContainerInit.run do in a forked child, before the runtime may die: our copy of its
     * end goes (so that its death is an end-of-file here), and we die with it. */
    raw_syscall(SYS_close, start->parent_sock, 0, 0, 0, 0, 0);
    raw_syscall(SYS_prctl, PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0, 0);
    /* Until the runtime says `placed` it is still running our shared code: wait here, in the kernel. */
    unsigned char packet[16];
    long got = raw_syscall(SYS_recvfrom, start->sock, (long)packet, sizeof packet, 0, 0, 0);
    if (got != 1 || packet[0] != start->placed_tag) raw_exit(1);
    start->entry(start->context);
    raw_exit(1);
}

/* The init's own stack, in our address space; it stays mapped after the init's execve (a few touched pages until
 * the runtime exits). NULL and errno on failure. */
static void *map_stack(size_t size) {
    void *stack = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
    return stack == MAP_FAILED ? NULL : stack;
}

long cshim_clone_shared(unsigned long flags, const struct cshim_shared_init *start, size_t stack_size) {
    void *stack = map_stack(stack_size);
    if (!stack) return -1;
    long pid = clone(shared_init_start, (char *)stack + stack_size, (int)(flags | CLONE_VM | SIGCHLD), (void *)start);
    if (pid < 0) {
        int saved = errno;
        munmap(stack, stack_size);
        errno = saved;
    }
    return pid;
}

/* clone3 with a stack: the child comes back from the system call on that stack, with no C frame to return to,
 * so it calls fn(arg) from here (the kernel keeps r12 and r13 across the call) and exits with what it returns. */
static long clone3_calling(struct clone_args *args, size_t size, int (*fn)(void *), void *arg) {
    register long rax __asm__("rax") = SYS_clone3;
    register void *rdi __asm__("rdi") = args;
    register size_t rsi __asm__("rsi") = size;
    register void *r12 __asm__("r12") = (void *)fn;
    register void *r13 __asm__("r13") = arg;
    __asm__ volatile("syscall\n\t"
                     "testq %%rax, %%rax\n\t"
                     "jnz 1f\n\t"
                     "xorl %%ebp, %%ebp\n\t"
                     "andq $-16, %%rsp\n\t"
                     "movq %%r13, %%rdi\n\t"
                     "callq *%%r12\n\t"
                     "movl %%eax, %%edi\n\t"
                     "movl $231, %%eax\n\t" /* exit_group */
                     "syscall\n\t"
                     "hlt\n\t"
                     "1:\n\t"
                     : "+r"(rax)
                     : "r"(rdi), "r"(rsi), "r"(r12), "r"(r13)
                     : "rcx", "r11", "memory");
    return rax;
}

long cshim_clone_shared_into_cgroup(unsigned long flags, const struct cshim_shared_init *start, size_t stack_size,
                                    int cgroup_fd) {
    void *stack = map_stack(stack_size);
    if (!stack) return -1;
    struct clone_args args;
    memset(&args, 0, sizeof args);
    args.flags = flags | CLONE_VM | CLONE_INTO_CGROUP;
    args.exit_signal = SIGCHLD;
    args.stack = (uint64_t)(uintptr_t)stack;
    args.stack_size = stack_size;
    args.cgroup = (uint64_t)cgroup_fd;
    long pid = clone3_calling(&args, sizeof args, shared_init_start, (void *)start);
    if (pid < 0) {
        munmap(stack, stack_size);
        errno = (int)-pid;
        return -1;
    }
    return pid;
}

long cshim_hand_over(int sock, const unsigned char *packet, long length, unsigned char *reply, long capacity,
                     int *received_fd) {
    *received_fd = -1;
    if (length > 0 && raw_syscall(SYS_sendto, sock, (long)packet, length, MSG_NOSIGNAL, 0, 0) != length) return -1;
    /* recvmsg: a packet may carry an fd (the console's pty master, SCM_RIGHTS). */
    char control[CMSG_SPACE(sizeof(int))];
    memset(control, 0, sizeof control);
    struct iovec iov = {.iov_base = reply, .iov_len = (size_t)capacity};
    struct msghdr message = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control, .msg_controllen = sizeof control};
    long got = raw_syscall(SYS_recvmsg, sock, (long)&message, MSG_CMSG_CLOEXEC, 0, 0, 0);
    if (got < 0) return -1;
    struct cmsghdr *header = CMSG_FIRSTHDR(&message);
    if (header && header->cmsg_level == SOL_SOCKET && header->cmsg_type == SCM_RIGHTS)
        memcpy(received_fd, CMSG_DATA(header), sizeof(int));
    return got;
}

void cshim_shared_init_fail(int sock, const unsigned char *packet, long length) {
    raw_syscall(SYS_sendto, sock, (long)packet, length, MSG_NOSIGNAL, 0, 0);
    raw_exit(1);
}

/* One packet with `fd` attached (SCM_RIGHTS). */
static long raw_send_with_fd(int sock, const unsigned char *packet, unsigned int length, int fd) {
    char control[CMSG_SPACE(sizeof(int))];
    memset(control, 0, sizeof control);
    struct iovec iov = {.iov_base = (void *)packet, .iov_len = length};
    struct msghdr message = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control, .msg_controllen = sizeof control};
    struct cmsghdr *header = CMSG_FIRSTHDR(&message);
    header->cmsg_level = SOL_SOCKET;
    header->cmsg_type = SCM_RIGHTS;
    header->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(header), &fd, sizeof(int));
    return raw_syscall(SYS_sendmsg, sock, (long)&message, MSG_NOSIGNAL, 0, 0, 0);
}

/* The packets Swift queued, each a 4-byte native length then its bytes; a length with CSHIM_QUEUED_WITH_FD set is
 * followed by a 4-byte fd that goes with the packet. The runtime runs again as soon as the first is there: from
 * then on this reads only the queue, which nothing of the runtime's touches. */
static int send_queued(int sock, const unsigned char *packets, long packets_length) {
    const unsigned char *at = packets, *end = packets + packets_length;
    while (at + 4 <= end) {
        unsigned int length;
        memcpy(&length, at, 4);
        at += 4;
        int fd = -1;
        if (length & CSHIM_QUEUED_WITH_FD) {
            length &= ~CSHIM_QUEUED_WITH_FD;
            memcpy(&fd, at, 4);
            at += 4;
        }
        long sent = fd >= 0 ? raw_send_with_fd(sock, at, length, fd)
                            : raw_syscall(SYS_sendto, sock, (long)at, length, MSG_NOSIGNAL, 0, 0);
        if (sent != (long)length) return -1;
        at += length;
    }
    return 0;
}

long cshim_shared_init_exchange(int sock, const unsigned char *packets, long packets_length, unsigned char *reply,
                                long capacity) {
    if (send_queued(sock, packets, packets_length) != 0) return -1;
    long got = raw_syscall(SYS_recvfrom, sock, (long)reply, capacity, 0, 0, 0);
    return got < 0 ? -1 : got;
}

void cshim_shared_init_finish(const struct cshim_shared_finish *finish) {
    /* The packets Swift queued (warnings, stage times, then `ready`): once the runtime has `ready` it runs again. */
    if (send_queued(finish->sock, finish->packets, finish->packets_length) != 0) raw_exit(1);
    unsigned char packet[16];
    /* `committed`; end-of-file if the runtime died first (we no longer die with it). `run` sends `start` in the
     * same packet. */
    long got = raw_syscall(SYS_recvfrom, finish->sock, (long)packet, sizeof packet, 0, 0, 0);
    if (got < 1 || packet[0] != finish->committed_tag) raw_exit(1);
    int started = got == 2 && !finish->fifo && packet[1] == finish->start_tag;
    if (got > 1 && !started) raw_exit(1);
    if (finish->fifo) {
        raw_syscall(SYS_close, finish->sock, 0, 0, 0, 0, 0);
        /* Blocks until `start` opens exec.fifo for reading. */
        long fifo = raw_syscall(SYS_openat, AT_FDCWD, (long)finish->fifo, O_WRONLY | O_CLOEXEC, 0, 0, 0);
        if (fifo < 0) report_and_exit("exec.fifo: open", fifo, 1);
        raw_syscall(SYS_write, fifo, (long)"0", 1, 0, 0, 0);
        raw_syscall(SYS_close, fifo, 0, 0, 0, 0, 0);
    } else if (!started && (raw_syscall(SYS_recvfrom, finish->sock, (long)packet, sizeof packet, 0, 0, 0) != 1 ||
                            packet[0] != finish->start_tag)) {
        /* `run`'s `start`; end-of-file if the runtime died first. The socket stays open until execve. */
        raw_exit(1);
    }
    /* Every CPU the cpuset allows, as if the init had never been pinned; before the filter, which may deny it. */
    if (finish->affinity) {
        long set = raw_syscall(SYS_sched_setaffinity, 0, (long)finish->affinity_bytes, (long)finish->affinity, 0, 0, 0);
        if (set < 0) report_and_exit("sched_setaffinity", set, 1);
    }
    if (finish->filter_count > 0) {
        struct sock_fprog program = {finish->filter_count, (struct sock_filter *)finish->filter};
        long loaded = raw_syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, finish->filter_flags, (long)&program, 0, 0, 0);
        /* A kernel (or an outer filter) without seccomp(2): prctl takes the same program when no flag is asked. */
        if (loaded == -ENOSYS && finish->filter_flags == 0)
            loaded = raw_syscall(SYS_prctl, PR_SET_SECCOMP, SECCOMP_MODE_FILTER, (long)&program, 0, 0, 0);
        if (loaded < 0) report_and_exit("seccomp set filter", loaded, 1);
    }
    /* The capability sets loading the filter needed kept, dropped now (ProcessStart.switchUser). */
    if (finish->capabilities && cap_set_proc((cap_t)finish->capabilities) != 0) report_and_exit("cap_set_proc", -EPERM, 1);
    long error = raw_syscall(SYS_execve, (long)finish->path, (long)finish->argv, (long)finish->envp, 0, 0, 0);
    report_and_exit(finish->exec_description, error, 127);
}
