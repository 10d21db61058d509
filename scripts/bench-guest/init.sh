#!/bin/busybox sh
# PID 1 of the bench guest (run.py): a pure cgroup v2 host (scripts/guest-base.sh), then bench.sh, then power off.
/bin/busybox --install -s /bin
export PATH=/bin
GUEST_NAME=bench-guest
. /guest-base.sh
echo "INFO guest: kernel $(uname -r), $(nproc) cpus, controllers: $(cat /sys/fs/cgroup/cgroup.subtree_control)" >&3

runs=$(sed -n 's/.*bench\.runs=\([^ ]*\).*/\1/p' /proc/cmdline)
paths=$(sed -n 's/.*bench\.paths=\([^ ]*\).*/\1/p' /proc/cmdline)
sh /bench.sh "${runs:-20}" "${paths:-run}" 2>&1 | sed 's/^/driver: /' > /dev/ttyS0
echo "INFO guest: uptime $(cut -d' ' -f1 /proc/uptime) s" >&3
sync
poweroff -f
