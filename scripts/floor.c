/* floor [--mounts] ROOTFS PROGRAM: the kernel work of `run` with no runtime around it, for `make bench` (issue 14).
   Clones with the bench config's namespaces (mount, uts, ipc, pid, network), makes a cgroup in every hierarchy
   under /sys/fs/cgroup (each v1 controller mount, or the one cgroup2 root) as a runtime must, puts the child
   into it, chroots into ROOTFS and execs PROGRAM; then waits and removes the cgroups. No config, no mounts,
   no state: what is left of a runtime's cost when everything but the namespaces and the cgroups is free.
   With --mounts the child instead makes the file system bundles/true's config asks for, with the fewest
   syscalls that do it (no checks, no fd-relative paths): the root made a slave and bind-mounted, its ten
   mounts, the default device nodes and /dev links, the masked and read-only paths, pivot_root, the old root
   detached and the new one remounted read-only. That is the kernel's price of the config itself, which no
   runtime can go below.
   Exit status: PROGRAM's, or 2 when a step fails (with a line on stderr). */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
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

/* The file system of bundles/true's config, as the child of --mounts makes it (cwd is the rootfs). */
static int make_mounts(const char *rootfs) {
    static const struct { const char *source, *target, *type; unsigned long flags; const char *data; } mounts[] = {
        {"proc", "proc", "proc", 0, NULL},
        {"tmpfs", "dev", "tmpfs", MS_NOSUID | MS_STRICTATIME, "mode=755,size=65536k"},
        {"devpts", "dev/pts", "devpts", MS_NOSUID | MS_NOEXEC, "newinstance,ptmxmode=0666,mode=0620,gid=5"},
        {"shm", "dev/shm", "tmpfs", MS_NOSUID | MS_NOEXEC | MS_NODEV, "mode=1777,size=65536k"},
        {"mqueue", "dev/mqueue", "mqueue", MS_NOSUID | MS_NOEXEC | MS_NODEV, NULL},
        {"sysfs", "sys", "sysfs", MS_NOSUID | MS_NOEXEC | MS_NODEV | MS_RDONLY, NULL},
    };
    static const struct { const char *name; unsigned major, minor; } devices[] = {
        {"dev/null", 1, 3}, {"dev/zero", 1, 5}, {"dev/full", 1, 7}, {"dev/random", 1, 8}, {"dev/urandom", 1, 9}, {"dev/tty", 5, 0},
    };
    static const char *links[][2] = {
        {"/proc/self/fd", "dev/fd"}, {"/proc/self/fd/0", "dev/stdin"}, {"/proc/self/fd/1", "dev/stdout"},
        {"/proc/self/fd/2", "dev/stderr"}, {"pts/ptmx", "dev/ptmx"}, {"/proc/kcore", "dev/core"},
    };
    static const char *masked[] = {"proc/acpi", "proc/asound", "proc/kcore", "proc/keys", "proc/latency_stats",
                                   "proc/timer_list", "proc/timer_stats", "proc/sched_debug", "sys/firmware", "proc/scsi"};
    static const char *readonly[] = {"proc/bus", "proc/fs", "proc/irq", "proc/sys", "proc/sysrq-trigger"};
    if (mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0) return fail("make / a slave");
    if (mount(rootfs, rootfs, NULL, MS_BIND | MS_REC, NULL) < 0) return fail("bind the rootfs");
    if (chdir(rootfs) < 0) return fail("chdir to the rootfs");
    for (size_t i = 0; i < sizeof mounts / sizeof mounts[0]; i++) {
        mkdir(mounts[i].target, 0755);  /* dev/pts, dev/shm, dev/mqueue are made in the new /dev */
        if (mount(mounts[i].source, mounts[i].target, mounts[i].type, mounts[i].flags, mounts[i].data) < 0)
            return fail(mounts[i].target);
    }
    mode_t mask = umask(0);
    for (size_t i = 0; i < sizeof devices / sizeof devices[0]; i++)
        if (mknod(devices[i].name, S_IFCHR | 0666, makedev(devices[i].major, devices[i].minor)) < 0) return fail(devices[i].name);
    umask(mask);
    for (size_t i = 0; i < sizeof links / sizeof links[0]; i++)
        if (symlink(links[i][0], links[i][1]) < 0) return fail(links[i][1]);
    const char *empty = NULL;  /* one read-only tmpfs for every masked directory, bound on the later ones */
    for (size_t i = 0; i < sizeof masked / sizeof masked[0]; i++) {
        struct stat st;
        if (lstat(masked[i], &st) < 0) continue;  /* absent on this kernel: nothing to hide */
        int failed = !S_ISDIR(st.st_mode) ? mount("dev/null", masked[i], NULL, MS_BIND, NULL)
                     : empty ? mount(empty, masked[i], NULL, MS_BIND, NULL)
                     : mount("tmpfs", masked[i], "tmpfs", MS_RDONLY, NULL);
        if (failed < 0) return fail(masked[i]);
        if (S_ISDIR(st.st_mode) && !empty) empty = masked[i];
    }
    for (size_t i = 0; i < sizeof readonly / sizeof readonly[0]; i++) {
        if (mount(readonly[i], readonly[i], NULL, MS_BIND | MS_REC, NULL) < 0) {
            if (errno == ENOENT) continue;
            return fail(readonly[i]);
        }
        if (mount(NULL, readonly[i], NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
            return fail(readonly[i]);
    }
    if (syscall(SYS_pivot_root, ".", ".") < 0) return fail("pivot_root");
    if (umount2(".", MNT_DETACH) < 0) return fail("detach the old root");
    if (chdir("/") < 0) return fail("chdir /");
    if (mount(NULL, "/", NULL, MS_BIND | MS_REMOUNT | MS_RDONLY, NULL) < 0) return fail("remount / read-only");
    return 0;
}

static void remove_cgroups(void) {
    for (int i = 0; i < count; i++) rmdir(made[i]);
}

int main(int argc, char **argv) {
    int with_mounts = argc == 4 && strcmp(argv[1], "--mounts") == 0;
    if (with_mounts) argv++, argc--;
    if (argc != 3) {
        fprintf(stderr, "usage: floor [--mounts] ROOTFS PROGRAM\n");
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
        if (with_mounts) {
            if (make_mounts(argv[1]) != 0) _exit(2);
        } else if (chroot(argv[1]) < 0 || chdir("/") < 0) {
            _exit(fail("chroot"));
        }
        execl(argv[2], argv[2], (char *)NULL);
        _exit(fail("exec"));
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
    remove_cgroups();
    return WIFEXITED(status) ? WEXITSTATUS(status) : 2;
}
