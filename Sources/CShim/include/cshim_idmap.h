#pragma once
#include <stdint.h>

/* mount_setattr(MOUNT_ATTR_IDMAP) on a detached mount (open_tree OPEN_TREE_CLONE), with the user namespace whose
   mappings it takes; with `recursive`, every mount of the copied tree (runtime-spec `ridmap`). */
int cshim_mount_setattr_idmap(int fd, int userns_fd, int recursive);
/* 1 when this kernel has mount_setattr (Linux 5.12, which brought MOUNT_ATTR_IDMAP with it), else 0. */
int cshim_idmap_supported(void);
