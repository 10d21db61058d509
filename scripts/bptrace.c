// bptrace FUNCS OUT -- argv...: a breakpoint on the first byte of every function listed in FUNCS (hex addresses,
// one per line) in argv and every process it clones; writes each function's address to OUT once, when first
// entered, with its first caller's return address. A cloned process (the container's init, exec's child) gets
// every breakpoint again at its first stop, so that what it enters is known whole, the functions its parent had
// entered before the clone included; its lines end in " c", and each function is written once per kind.
// Follows each process until it exits or executes another program; creates OUT.done when argv's own process
// has exited (a `create` returns while its init, still followed, waits for `start`).
// Used by scripts/link-order.py.
#define _GNU_SOURCE
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>
static unsigned long *fn; static unsigned char *orig; static int nfn;
static int find(unsigned long a) { int l = 0, h = nfn - 1; while (l <= h) { int m = (l + h) / 2; if (fn[m] == a) return m; if (fn[m] < a) l = m + 1; else h = m - 1; } return -1; }
static int cmp(const void *a, const void *b) { unsigned long x = *(unsigned long *)a, y = *(unsigned long *)b; return x < y ? -1 : x > y; }
// The first time, the original first bytes are saved; a cloned process gets them back under its breakpoints
// from that copy (its own memory has the breakpoints its parent had not hit yet).
static void arm(pid_t pid, int first) {
    char p[64]; snprintf(p, sizeof p, "/proc/%d/mem", pid);
    int fd = open(p, O_RDWR);
    unsigned long lo = fn[0], hi = fn[nfn - 1] + 1;
    unsigned char *buf = malloc(hi - lo);
    if (pread(fd, buf, hi - lo, lo) != (ssize_t)(hi - lo)) { perror("pread"); exit(1); }
    for (int i = 0; i < nfn; i++) { if (first) orig[i] = buf[fn[i] - lo]; buf[fn[i] - lo] = 0xCC; }
    if (pwrite(fd, buf, hi - lo, lo) != (ssize_t)(hi - lo)) { perror("pwrite"); exit(1); }
    close(fd); free(buf);
}
static void restore(pid_t pid, int i) {
    char p[64]; snprintf(p, sizeof p, "/proc/%d/mem", pid);
    int fd = open(p, O_RDWR); pwrite(fd, &orig[i], 1, fn[i]); close(fd);
}
static FILE *out;
static void done(const char *path) {
    char p[PATH_MAX]; snprintf(p, sizeof p, "%s.done", path);
    fflush(out); fclose(fopen(p, "w"));
}
int main(int argc, char **argv) {
    FILE *in = fopen(argv[1], "r"); unsigned long a; int cap = 1 << 16;
    fn = malloc(cap * sizeof *fn);
    while (fscanf(in, "%lx", &a) == 1) { if (nfn == cap) fn = realloc(fn, (cap *= 2) * sizeof *fn); fn[nfn++] = a; }
    qsort(fn, nfn, sizeof *fn, cmp);
    orig = malloc(nfn); unsigned char *hit = calloc(nfn, 1), *childHit = calloc(nfn, 1);
    // The processes cloned so far (armed again at their first stop), and which of them are armed.
    pid_t cloned[4096]; int ncloned = 0; unsigned char clonedArmed[4096] = {0};
    out = fopen(argv[2], "w");
    char self[PATH_MAX] = {0}; realpath(argv[4], self);
    pid_t child = fork();
    if (child == 0) { ptrace(PTRACE_TRACEME, 0, 0, 0); raise(SIGSTOP); execv(argv[4], argv + 4); _exit(127); }
    int st; waitpid(child, &st, __WALL);
    ptrace(PTRACE_SETOPTIONS, child, 0, PTRACE_O_TRACECLONE | PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK | PTRACE_O_TRACEEXEC | PTRACE_O_EXITKILL);
    ptrace(PTRACE_CONT, child, 0, 0);
    int live = 1, code = 0, armed = 0, hits = 0;
    while (live > 0) {
        pid_t pid = waitpid(-1, &st, __WALL);
        if (pid < 0) break;
        if (WIFEXITED(st) || WIFSIGNALED(st)) { live--; if (pid == child) { code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st); done(argv[2]); } continue; }
        if (!WIFSTOPPED(st)) continue;
        int sig = WSTOPSIG(st), event = st >> 16, deliver = 0;
        if (sig == SIGTRAP && event == PTRACE_EVENT_EXEC) {
            char link[64], exe[PATH_MAX] = {0}; snprintf(link, sizeof link, "/proc/%d/exe", pid);
            readlink(link, exe, sizeof exe - 1);
            if (strcmp(exe, self) != 0) { ptrace(PTRACE_DETACH, pid, 0, 0); live--; continue; }
            if (!armed) { arm(pid, 1); armed = 1; } else { fprintf(stderr, "bptrace: %d re-executes itself, not followed\n", pid); ptrace(PTRACE_DETACH, pid, 0, 0); live--; continue; }
        } else if (sig == SIGTRAP && (event == PTRACE_EVENT_CLONE || event == PTRACE_EVENT_FORK || event == PTRACE_EVENT_VFORK)) {
            live++;
            unsigned long newPid; ptrace(PTRACE_GETEVENTMSG, pid, 0, &newPid);
            int known = 0;
            for (int k = 0; k < ncloned; k++) known |= cloned[k] == (pid_t)newPid;
            if (!known && ncloned < 4096) cloned[ncloned++] = (pid_t)newPid;
        } else if (sig == SIGTRAP && event == 0) {
            struct user_regs_struct r; ptrace(PTRACE_GETREGS, pid, 0, &r);
            int i = find(r.rip - 1);
            int isCloned = 0;
            for (int k = 0; k < ncloned; k++) isCloned |= cloned[k] == pid;
            unsigned char *seen = isCloned ? childHit : hit;
            if (i >= 0) {
                if (!seen[i]) {
                    // With the address, who called it (the return address on top of the stack): for finding out why.
                    long caller = ptrace(PTRACE_PEEKDATA, pid, r.rsp, 0);
                    seen[i] = 1; hits++; fprintf(out, "%lx %lx%s\n", fn[i], (unsigned long)caller, isCloned ? " c" : "");
                }
                restore(pid, i); r.rip -= 1; ptrace(PTRACE_SETREGS, pid, 0, &r);
            } else deliver = SIGTRAP;
        } else if (sig == SIGSTOP && event == 0) {
            // A cloned process's first stop, before it runs: every breakpoint again (the event that names it may
            // come after this stop, so the clone is recorded here too).
            int k = 0;
            while (k < ncloned && cloned[k] != pid) k++;
            if (pid != child && k == ncloned && ncloned < 4096) cloned[ncloned++] = pid;
            if (pid != child && armed && k < 4096 && !clonedArmed[k]) { arm(pid, 0); clonedArmed[k] = 1; }
        } else if (event == 0) {
            deliver = sig;
        }
        ptrace(PTRACE_CONT, pid, 0, deliver);
    }
    fprintf(stderr, "bptrace: %d functions entered, exit %d\n", hits, code);
    fclose(out);
    return code;
}
