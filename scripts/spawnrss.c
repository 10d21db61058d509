/* spawnrss ARGV...: runs ARGV with stdio on /dev/null and prints "wall_ns cpu_us maxrss_kib status".
   A separate small process so the child's peak RSS is its own: ru_maxrss survives execve, and a child
   forked from the (large) Python benchmark would carry Python's resident size into the figure.
   spawnrss --batches WIDTH: runs the commands on stdin (one a line, arguments separated by tabs) WIDTH at a
   time, each batch waited for before the next, and prints the same four fields for all of them (cpu and RSS
   are the commands' own: RUSAGE_CHILDREN; status is the first that was not 0). For the parallel path: a
   Python launcher spends ~0.5 ms of CPU per command on the same two cores the runtimes compete for. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
static pid_t start(char **argv) {
    pid_t pid = fork();
    if (pid == 0) {
        int fd = open("/dev/null", O_RDWR);
        dup2(fd, 0); dup2(fd, 1); dup2(fd, 2);
        execv(argv[0], argv);
        _exit(127);
    }
    return pid;
}

/* The exit status as a shell reports it: 128+N for a death by signal N. */
static int exit_code(int status) { return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status); }

/* The one output line: wall time between a and b, the rusage's CPU and peak RSS, and the status. */
static void report(struct timespec a, struct timespec b, const struct rusage *ru, int code) {
    long long wall = (b.tv_sec - a.tv_sec) * 1000000000LL + (b.tv_nsec - a.tv_nsec);
    long long cpu = (ru->ru_utime.tv_sec + ru->ru_stime.tv_sec) * 1000000LL + ru->ru_utime.tv_usec + ru->ru_stime.tv_usec;
    printf("%lld %lld %ld %d\n", wall, cpu, ru->ru_maxrss, code);
}

static int batches(int width) {
    static char text[1 << 20];
    size_t length = fread(text, 1, sizeof text - 1, stdin);
    text[length] = 0;
    char *commands[4096];
    int count = 0;
    for (char *line = strtok(text, "\n"); line && count < 4096; line = strtok(NULL, "\n")) commands[count++] = line;
    char **argvs[4096];
    for (int i = 0; i < count; i++) {
        argvs[i] = calloc(64, sizeof(char *));
        int n = 0;
        for (char *s = commands[i], *tab; n < 63; s = tab + 1) {
            argvs[i][n++] = s;
            if (!(tab = strchr(s, '\t'))) break;
            *tab = 0;
        }
    }
    struct timespec a, b;
    int first = 0;
    clock_gettime(CLOCK_MONOTONIC, &a);
    for (int k = 0; k < count; k += width) {
        int end = k + width < count ? k + width : count;
        for (int i = k; i < end; i++) if (start(argvs[i]) < 0) return 2;
        for (int i = k; i < end; i++) {
            int status;
            if (wait(&status) < 0) return 2;
            if (exit_code(status) && !first) first = exit_code(status);
        }
    }
    clock_gettime(CLOCK_MONOTONIC, &b);
    struct rusage ru;
    getrusage(RUSAGE_CHILDREN, &ru);
    report(a, b, &ru, first);
    return 0;
}

int main(int argc, char **argv) {
    if (argc == 3 && strcmp(argv[1], "--batches") == 0) return batches(atoi(argv[2]) > 0 ? atoi(argv[2]) : 1);
    if (argc < 2) return 2;
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    pid_t pid = start(argv + 1);
    int status; struct rusage ru;
    if (pid < 0 || wait4(pid, &status, 0, &ru) < 0) return 2;
    clock_gettime(CLOCK_MONOTONIC, &b);
    report(a, b, &ru, exit_code(status));
    return 0;
}
