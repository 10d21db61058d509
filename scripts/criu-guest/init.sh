#!/bin/busybox sh
# PID 1 of the criu guest (run.py). Stage 1 copies the initramfs into a tmpfs and switches to it: pivot_root(2)
# refuses the initial rootfs, and both the containers and criu's restore of their mount namespace need it. Stage 2
# sets up a pure cgroup v2 host (every controller enabled, / rshared like systemd's), runs checks.sh, powers off.
/bin/busybox --install -s /bin
export PATH=/usr/local/bin:/usr/sbin:/usr/bin:/bin

if [ ! -e /stage2 ]; then
    mkdir -p /newroot
    mount -t tmpfs -o size=700m,mode=755 root /newroot
    for entry in /*; do
        case "$entry" in /newroot|/proc|/sys|/dev) continue ;; esac
        cp -a "$entry" /newroot/
    done
    mkdir -p /newroot/proc /newroot/sys /newroot/dev
    : > /newroot/stage2
    exec switch_root /newroot /init
fi

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs -o mode=755 tmpfs /run
mount -t tmpfs -o mode=1777 tmpfs /tmp
mount -t cgroup2 -o nsdelegate cgroup2 /sys/fs/cgroup
mount --make-rshared /
hostname criu-guest
# criu probes TCP repair over a loopback connection whenever it starts.
ip link set lo up
for m in crc32c_generic libcrc32c nfnetlink nf_tables unix_diag inet_diag tcp_diag udp_diag raw_diag af_packet_diag \
        netlink_diag nf_defrag_ipv4 nf_defrag_ipv6 nf_conntrack nf_conntrack_netlink; do
    insmod /modules/$m.ko
done
echo 4 > /proc/sys/kernel/printk

exec 3>/dev/ttyS1
for controller in $(cat /sys/fs/cgroup/cgroup.controllers); do
    echo "+$controller" > /sys/fs/cgroup/cgroup.subtree_control || echo "INFO init: cannot enable $controller" >&3
done
mkdir -p /sys/fs/cgroup/driver
echo $$ > /sys/fs/cgroup/driver/cgroup.procs
echo "INFO guest: kernel $(uname -r), $(nproc) cpus, $(criu --version | head -1)" >&3

sh /checks.sh 2>&1 | sed 's/^/driver: /' > /dev/ttyS0
echo "INFO guest: uptime $(cut -d' ' -f1 /proc/uptime) s" >&3
sync
poweroff -f
