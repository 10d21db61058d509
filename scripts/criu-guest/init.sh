#!/bin/busybox sh
# PID 1 of the criu guest (run.py): a pure cgroup v2 host (scripts/guest-base.sh) with the modules criu's dumps
# ask for, then checks.sh, then power off.
/bin/busybox --install -s /bin
export PATH=/usr/local/bin:/usr/sbin:/usr/bin:/bin
GUEST_NAME=criu-guest
. /guest-base.sh
# criu probes TCP repair over a loopback connection whenever it starts.
ip link set lo up
for m in crc32c_generic libcrc32c nfnetlink nf_tables unix_diag inet_diag tcp_diag udp_diag raw_diag af_packet_diag \
        netlink_diag nf_defrag_ipv4 nf_defrag_ipv6 nf_conntrack nf_conntrack_netlink; do
    insmod /modules/$m.ko
done
echo "INFO guest: kernel $(uname -r), $(nproc) cpus, $(criu --version | head -1)" >&3

sh /checks.sh 2>&1 | sed 's/^/driver: /' > /dev/ttyS0
echo "INFO guest: uptime $(cut -d' ' -f1 /proc/uptime) s" >&3
sync
poweroff -f
