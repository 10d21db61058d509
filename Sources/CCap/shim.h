#ifndef CRABCAN_CCAP_SHIM_H
#define CRABCAN_CCAP_SHIM_H
#include <sys/capability.h>
/* personality(2) and the PER_* values; declared without _GNU_SOURCE, so safe in a module header. */
#include <sys/personality.h>
/* fstatfs: SwiftGlibc does not export <sys/vfs.h>. Returns the filesystem magic, or -1 with errno. */
#include <sys/vfs.h>
static inline long ccap_fs_type(int fd) {
    struct statfs info;
    if (fstatfs(fd, &info) != 0) return -1;
    return (long)info.f_type;
}
#endif
