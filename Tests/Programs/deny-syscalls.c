/* Runs a command with the named system calls answering ENOSYS, as a kernel that predates them does, or a caller's
 * seccomp filter that predates them (runc and crun answer ENOSYS to calls newer than any their profile names).
 * With --kill, the first of those calls kills the process instead (for a test that nothing makes one).
 * Usage: deny-syscalls [--kill] NAME[,NAME...] PROGRAM [ARG...] */
#include <errno.h>
#include <seccomp.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv) {
    uint32_t action = SCMP_ACT_ERRNO(ENOSYS);
    if (argc > 1 && strcmp(argv[1], "--kill") == 0) {
        action = SCMP_ACT_KILL_PROCESS;
        argv++;
        argc--;
    }
    if (argc < 3) {
        fprintf(stderr, "usage: deny-syscalls [--kill] NAME[,NAME...] PROGRAM [ARG...]\n");
        return 2;
    }
    scmp_filter_ctx filter = seccomp_init(SCMP_ACT_ALLOW);
    if (filter == NULL) {
        fprintf(stderr, "deny-syscalls: seccomp_init failed\n");
        return 2;
    }
    for (char *name = strtok(argv[1], ","); name; name = strtok(NULL, ",")) {
        int number = seccomp_syscall_resolve_name(name);
        if (number == __NR_SCMP_ERROR || seccomp_rule_add(filter, action, number, 0) != 0) {
            fprintf(stderr, "deny-syscalls: cannot deny %s\n", name);
            return 2;
        }
    }
    if (seccomp_load(filter) != 0) {
        fprintf(stderr, "deny-syscalls: cannot load the filter\n");
        return 2;
    }
    execv(argv[2], argv + 2);
    perror("deny-syscalls: execv");
    return 127;
}
