/* floor ROOTFS PROGRAM: the kernel work of `run` with no runtime around it, for `make bench` (issue 14).
   Clones with the bench config's namespaces (mount, uts, ipc, pid, network), makes a cgroup in every hierarchy
   under /sys/fs/cgroup (each v1 controller mount, or the one cgroup2 root) as a runtime must, puts the child
   into it, chroots into ROOTFS and execs PROGRAM; then waits and removes the cgroups. No config, no mounts,
   no state: what is left of a runtime's cost when everything but the namespaces and the cgroups is free.
   Exit status: PROGRAM's, or 2 when a step fails (with a line on stderr). */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/magic.h>

#define MAX_HIERARCHIES 32
static char made[MAX_HIERARCHIES][512];
static int count;
static int unified;  /* cgroup v2: one cgroup, joined through cgroup.procs */

static int fail(const char *what) {
    fprintf(stderr, "floor: %s: %s\n", what, strerror(errno));
    return 2;
}

static int write_file(const char *path, const char *text) {
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    ssize_t n = write(fd, text, strlen(text));
    close(fd);
    return n == (ssize_t)strlen(text) ? 0 : -1;
}

/* cpuset starts empty in a new v1 cgroup: it takes its parent's, as a runtime copies them. */
static int inherit_cpuset(const char *dir) {
    const char *files[] = {"cpuset.cpus", "cpuset.mems"};
    for (int i = 0; i < 2; i++) {
        char from[320], to[320], value[256] = {0};
        snprintf(from, sizeof from, "/sys/fs/cgroup/cpuset/%s", files[i]);
        snprintf(to, sizeof to, "%s/%s", dir, files[i]);
        int fd = open(from, O_RDONLY | O_CLOEXEC);
        if (fd < 0) return -1;
        ssize_t n = read(fd, value, sizeof value - 1);
        close(fd);
        if (n <= 0 || write_file(to, value) < 0) return -1;
    }
    return 0;
}

static int make_cgroups(const char *name) {
    struct statfs fs;
    if (statfs("/sys/fs/cgroup", &fs) < 0) return -1;
    if (fs.f_type == CGROUP2_SUPER_MAGIC) {
        snprintf(made[count], sizeof made[0], "/sys/fs/cgroup/%s", name);
        if (mkdir(made[count], 0755) < 0) return -1;
        count++;
        unified = 1;
        return 0;
    }
    DIR *dir = opendir("/sys/fs/cgroup");
    if (!dir) return -1;
    for (struct dirent *e; (e = readdir(dir)) && count < MAX_HIERARCHIES;) {
        char mount[384];
        if (e->d_type != DT_DIR || e->d_name[0] == '.') continue;  /* cpu -> cpu,cpuacct links are one hierarchy */
        snprintf(mount, sizeof mount, "/sys/fs/cgroup/%s", e->d_name);
        if (statfs(mount, &fs) < 0 || fs.f_type != CGROUP_SUPER_MAGIC) continue;  /* a hybrid's empty cgroup2 */
        snprintf(made[count], sizeof made[0], "%s/%s", mount, name);
        if (mkdir(made[count], 0755) < 0) { closedir(dir); return -1; }
        count++;
        if (strcmp(e->d_name, "cpuset") == 0 && inherit_cpuset(made[count - 1]) < 0) { closedir(dir); return -1; }
    }
    closedir(dir);
    return 0;
}

static void remove_cgroups(void) {
    for (int i = 0; i < count; i++) rmdir(made[i]);
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: floor ROOTFS PROGRAM\n");
        return 2;
    }
    char name[64];
    snprintf(name, sizeof name, "crabcan-bench-floor-%d", getpid());
    if (make_cgroups(name) < 0) {
        int status = fail("cgroup");
        remove_cgroups();
        return status;
    }
    pid_t pid = (pid_t)syscall(SYS_clone, CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWPID | CLONE_NEWNET | SIGCHLD,
                               NULL, NULL, NULL, NULL);
    if (pid < 0) {
        int status = fail("clone");
        remove_cgroups();
        return status;
    }
    if (pid == 0) {
        for (int i = 0; i < count; i++) {
            char path[sizeof made[0] + 16];
            snprintf(path, sizeof path, "%s/%s", made[i], unified ? "cgroup.procs" : "tasks");
            if (write_file(path, "0") < 0) _exit(fail(path));
        }
        if (chroot(argv[1]) < 0 || chdir("/") < 0) _exit(fail("chroot"));
        execl(argv[2], argv[2], (char *)NULL);
        _exit(fail("exec"));
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
    remove_cgroups();
    return WIFEXITED(status) ? WEXITSTATUS(status) : 2;
}
