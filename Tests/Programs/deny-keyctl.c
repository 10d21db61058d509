/* Runs a command with keyctl(2) answering ENOSYS, as a kernel without keyrings or a seccomp'd parent
 * (Docker's default profile refuses keyctl) would: crabcan's init must then go on without a session
 * keyring and say so in the runtime's log. Usage: deny-keyctl PROGRAM [ARG...] */
#include <errno.h>
#include <seccomp.h>
#include <stdio.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: deny-keyctl PROGRAM [ARG...]\n");
        return 2;
    }
    scmp_filter_ctx filter = seccomp_init(SCMP_ACT_ALLOW);
    if (filter == NULL || seccomp_rule_add(filter, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(keyctl), 0) != 0 ||
        seccomp_load(filter) != 0) {
        fprintf(stderr, "deny-keyctl: cannot load the filter\n");
        return 2;
    }
    execv(argv[1], argv + 1);
    perror("deny-keyctl: execv");
    return 127;
}
