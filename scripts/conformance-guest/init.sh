#!/bin/busybox sh
# PID 1 of the conformance guest (run.py): a pure cgroup v2 host (scripts/guest-base.sh), then suite.sh, then power
# off.
/bin/busybox --install -s /bin
export PATH=/bin
GUEST_NAME=conformance-guest
. /guest-base.sh
echo "INFO guest: kernel $(uname -r), $(nproc) cpus" >&3
sh /suite.sh 2>&1 | sed 's/^/driver: /' > /dev/ttyS0
sync
poweroff -f
