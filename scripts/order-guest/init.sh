#!/bin/busybox sh
# PID 1 of the link-order guest (scripts/link-order.py): a pure cgroup v2 host (scripts/guest-base.sh), then
# trace.sh, then power off.
/bin/busybox --install -s /bin
export PATH=/bin
GUEST_NAME=order-guest
. /guest-base.sh
echo "INFO guest: kernel $(uname -r), $(nproc) cpus" >&3
sh /trace.sh 2>&1 | sed 's/^/driver: /' > /dev/ttyS0
sync
poweroff -f
