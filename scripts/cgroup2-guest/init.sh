#!/bin/busybox sh
# PID 1 of the cgroup2 guest (run.py boots it with cgroup_no_v1=all). Stage 1 copies the initramfs into a tmpfs
# and switches to it: pivot_root(2) refuses the initial rootfs, and the containers need it. Stage 2 sets the
# host up as a pure cgroup v2 machine (systemd-like: every controller enabled, / rshared, the driver in its own
# cgroup), runs checks.sh, and powers off.
/bin/busybox --install -s /bin
export PATH=/bin

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
hostname cgroup2-guest
echo 4 > /proc/sys/kernel/printk

exec 3>/dev/ttyS1
for controller in $(cat /sys/fs/cgroup/cgroup.controllers); do
    echo "+$controller" > /sys/fs/cgroup/cgroup.subtree_control || echo "INFO init: cannot enable $controller" >&3
done
mkdir -p /sys/fs/cgroup/driver
echo $$ > /sys/fs/cgroup/driver/cgroup.procs
echo "INFO guest: kernel $(uname -r), $(nproc) cpus, controllers: $(cat /sys/fs/cgroup/cgroup.subtree_control)" >&3

checks=$(sed -n 's/.*crabcan\.checks=\([^ ]*\).*/\1/p' /proc/cmdline)
sh /checks.sh $(echo "$checks" | tr ',' ' ') 2>&1 | sed 's/^/driver: /' > /dev/ttyS0
echo "INFO guest: uptime $(cut -d' ' -f1 /proc/uptime) s" >&3
sync
poweroff -f
