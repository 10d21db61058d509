/* The classic chroot escape, run inside a container that has CAP_SYS_CHROOT: chroot into a new directory while
   the working directory stays outside it, walk ".." far up, chroot to where that lands. Prints "escaped" when the
   host's path argv[1] is then reachable, else "contained", then the names in "/" one a line, sorted: what a
   container whose root is a template namespace's copy or a pivot_root'ed copy must show is its own rootfs. */
#define _GNU_SOURCE
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int by_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

int main(int argc, char **argv) {
    if (argc < 2) return 2;
    mkdir("/escape-dir", 0755);
    if (chroot("/escape-dir") != 0) { perror("chroot /escape-dir"); return 1; }
    for (int i = 0; i < 64; i++) (void)chdir("..");
    if (chroot(".") != 0) { perror("chroot ."); return 1; }
    printf("%s\n", access(argv[1], F_OK) == 0 ? "escaped" : "contained");
    DIR *dir = opendir("/");
    if (!dir) { perror("opendir /"); return 1; }
    char *names[4096];
    int count = 0;
    for (struct dirent *entry; (entry = readdir(dir)) && count < 4096;)
        if (strcmp(entry->d_name, ".") && strcmp(entry->d_name, "..")) names[count++] = strdup(entry->d_name);
    qsort(names, count, sizeof names[0], by_name);
    for (int i = 0; i < count; i++) printf("%s\n", names[i]);
    return 0;
}
