#!/bin/busybox sh
# PID 1 of the cgroup2 guest (run.py boots it with cgroup_no_v1=all): a pure cgroup v2 host (scripts/guest-base.sh),
# then checks.sh, then power off.
/bin/busybox --install -s /bin
export PATH=/bin
GUEST_NAME=cgroup2-guest
. /guest-base.sh
echo "INFO guest: kernel $(uname -r), $(nproc) cpus, controllers: $(cat /sys/fs/cgroup/cgroup.subtree_control)" >&3

checks=$(sed -n 's/.*crabcan\.checks=\([^ ]*\).*/\1/p' /proc/cmdline)
sh /checks.sh $(echo "$checks" | tr ',' ' ') 2>&1 | sed 's/^/driver: /' > /dev/ttyS0
echo "INFO guest: uptime $(cut -d' ' -f1 /proc/uptime) s" >&3
sync
poweroff -f
