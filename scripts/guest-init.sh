#!/bin/busybox sh
# PID 1 of the busybox guests that have no init.sh of their own (guestlib.busybox_guest: cgroup2, bench, order and
# conformance): a pure cgroup v2 host (guest-base.sh), then the guest's driver script (/guest-driver names it) with
# the words of the kernel command line's guest.args= (commas between them), then power off.
/bin/busybox --install -s /bin
export PATH=/bin
GUEST_NAME=$(cat /guest-name)
. /guest-base.sh
echo "INFO guest: kernel $(uname -r), $(nproc) cpus, controllers: $(cat /sys/fs/cgroup/cgroup.subtree_control)" >&3

args=$(sed -n 's/.*guest\.args=\([^ ]*\).*/\1/p' /proc/cmdline | tr ',' ' ')
sh "/$(cat /guest-driver)" $args 2>&1 | sed 's/^/driver: /' > /dev/ttyS0
echo "INFO guest: uptime $(cut -d' ' -f1 /proc/uptime) s" >&3
sync
poweroff -f
