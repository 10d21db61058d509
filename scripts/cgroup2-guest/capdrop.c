/* capdrop N[,N...] PROG ARGS...: runs PROG with capabilities N dropped from the bounding set. For root, execve
   gives permitted and effective the bounding set, so PROG runs without them (busybox's setpriv cannot drop from
   the bounding set). The cgroup2 guest runs crabcan so: a caller without CAP_SYS_CHROOT. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: capdrop N[,N...] PROG ARGS...\n");
        return 2;
    }
    for (char *cap = strtok(argv[1], ","); cap; cap = strtok(NULL, ",")) {
        if (prctl(PR_CAPBSET_DROP, atoi(cap), 0, 0, 0) != 0) {
            perror("capdrop: PR_CAPBSET_DROP");
            return 1;
        }
    }
    execv(argv[2], argv + 2);
    perror("capdrop: execv");
    return 127;
}
