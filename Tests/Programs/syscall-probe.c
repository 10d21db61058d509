/* Makes each syscall named by number on the command line with harmless arguments (-1 everywhere: a bad fd,
   a bad pointer, a size no call takes) and prints "<number> <errno name>" or "<number> OK" for each,
   so a test sees which errno a seccomp filter gave. Built static at test time, copied into the rootfs. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>

int main(int argc, char **argv) {
    for (int i = 1; i < argc; i++) {
        long nr = strtol(argv[i], NULL, 10);
        errno = 0;
        long rc = syscall(nr, -1L, -1L, -1L, -1L, -1L, -1L);
        const char *name = rc == -1 ? strerrorname_np(errno) : NULL;
        printf("%ld %s\n", nr, rc == -1 ? (name ? name : "?") : "OK");
    }
    return 0;
}
