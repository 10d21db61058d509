#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <sys/mount.h>
#include "cshim_idmap.h"

int cshim_mount_setattr_idmap(int fd, int userns_fd, int recursive) {
    struct mount_attr attr = { .attr_set = MOUNT_ATTR_IDMAP, .userns_fd = (uint64_t)userns_fd };
    return (int)syscall(SYS_mount_setattr, fd, "", AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0), &attr, sizeof attr);
}

int cshim_idmap_supported(void) {
    /* An fd that cannot exist: EBADF from a kernel that has the call, ENOSYS from one that does not. */
    struct mount_attr attr = { .attr_set = MOUNT_ATTR_IDMAP, .userns_fd = (uint64_t)-1 };
    long r = syscall(SYS_mount_setattr, -1, "", AT_EMPTY_PATH, &attr, sizeof attr);
    return r == -1 && errno == ENOSYS ? 0 : 1;
}
