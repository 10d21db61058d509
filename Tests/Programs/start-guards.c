/* start-guards PID: the stack protector's canary and the pointer guard a running x86-64 process holds in its
 * thread control block (%fs:0x28 and %fs:0x30), and the 16 bytes AT_RANDOM points at, from which glibc makes both.
 * Prints "canary C pointer_guard P random R0 R1" in hex. Stops the process briefly (PTRACE_SEIZE + INTERRUPT)
 * to read its fs base. */
#define _GNU_SOURCE
#include <elf.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ptrace.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

static uint64_t at_random(pid_t pid) {
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/auxv", pid);
    int fd = open(path, O_RDONLY);
    Elf64_auxv_t entry;
    while (fd >= 0 && read(fd, &entry, sizeof entry) == sizeof entry && entry.a_type != AT_NULL) {
        if (entry.a_type == AT_RANDOM) return entry.a_un.a_val;
    }
    fprintf(stderr, "no AT_RANDOM in %s\n", path);
    exit(1);
}

static void read_words(int mem, uint64_t address, uint64_t words[2]) {
    if (pread(mem, words, 16, (off_t) address) != 16) { perror("pread /proc/PID/mem"); exit(1); }
}

int main(int argc, char **argv) {
    if (argc != 2) { fprintf(stderr, "usage: start-guards PID\n"); return 2; }
    pid_t pid = (pid_t) atoi(argv[1]);
    if (ptrace(PTRACE_SEIZE, pid, 0, 0) == -1 || ptrace(PTRACE_INTERRUPT, pid, 0, 0) == -1) { perror("ptrace"); return 1; }
    int status;
    if (waitpid(pid, &status, __WALL) != pid) { perror("waitpid"); return 1; }
    struct user_regs_struct regs;
    if (ptrace(PTRACE_GETREGS, pid, 0, &regs) == -1) { perror("PTRACE_GETREGS"); return 1; }
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/mem", pid);
    int mem = open(path, O_RDONLY);
    if (mem < 0) { perror(path); return 1; }
    uint64_t guards[2], random[2];
    read_words(mem, regs.fs_base + 0x28, guards);
    read_words(mem, at_random(pid), random);
    ptrace(PTRACE_DETACH, pid, 0, 0);
    printf("canary %016" PRIx64 " pointer_guard %016" PRIx64 " random %016" PRIx64 " %016" PRIx64 "\n",
           guards[0], guards[1], random[0], random[1]);
    return 0;
}
