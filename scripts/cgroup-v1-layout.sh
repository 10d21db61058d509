#!/bin/sh
# cgroup-v1-layout.sh — give a cgroup v1 (hybrid) host the hierarchies systemd's v1 layout mounts, when the
# kernel has the controller but nothing mounted it: hugetlb at /sys/fs/cgroup/hugetlb and net_cls,net_prio at
# /sys/fs/cgroup/net_cls,net_prio (with the net_cls and net_prio links systemd makes).
#
# Why: on this kind of host (v1 controllers, an empty cgroup2 at /sys/fs/cgroup/unified) a controller that no
# v1 hierarchy holds stays bound to the cgroup2 mount. The validation suite's hugetlb and network files then
# cannot run (crabcan and runc refuse the limits with their JSON path), and crun 1.8.1 refuses the whole host
# ("cgroups in hybrid mode not supported") while cgroup2 lists a controller. A controller moves to a v1
# hierarchy only while no cgroup2 directory enables it, so this does nothing (and says why) in that case.
# Mounts are left in place: they are what a stock systemd v1 host has, and later runs need them too.
# Not for cgroup v2 hosts (nothing to do there). Needs root.
set -u
base=/sys/fs/cgroup
[ "$(id -u)" = 0 ] || { echo "cgroup-v1-layout: not root; host left as it is" >&2; exit 0; }
# A v1 host: at least one "cgroup" (v1) mount under /sys/fs/cgroup.
grep -q ' - cgroup ' /proc/self/mountinfo || exit 0

# has_kernel_controller NAME: the kernel knows it and it is enabled (/proc/cgroups column 4).
has_kernel_controller() { awk -v c="$1" '$1 == c && $4 == 1 { found = 1 } END { exit !found }' /proc/cgroups; }
# mounted_v1 NAME: some v1 hierarchy holds it.
mounted_v1() { grep ' - cgroup ' /proc/self/mountinfo | awk '{print $NF}' | tr ',' '\n' | grep -qx "$1"; }

# mount_hierarchy DIR CONTROLLERS: mount a v1 hierarchy of CONTROLLERS (comma-separated) at DIR.
mount_hierarchy() {
    dir=$1 controllers=$2
    for c in $(echo "$controllers" | tr ',' ' '); do
        has_kernel_controller "$c" || return 0
        mounted_v1 "$c" && return 0
    done
    mkdir -p "$dir" || return 0
    if mount -t cgroup -o "$controllers" cgroup "$dir" 2>/dev/null; then
        echo "cgroup-v1-layout: mounted the $controllers hierarchy at $dir" >&2
    else
        rmdir "$dir" 2>/dev/null
        echo "cgroup-v1-layout: cannot mount $controllers at $dir (a cgroup2 directory may enable it); left as it is" >&2
    fi
}

mount_hierarchy "$base/hugetlb" hugetlb
mount_hierarchy "$base/net_cls,net_prio" net_cls,net_prio
for link in net_cls net_prio; do
    [ -d "$base/net_cls,net_prio" ] && [ ! -e "$base/$link" ] && ln -s net_cls,net_prio "$base/$link"
done
exit 0
