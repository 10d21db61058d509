# Sourced by the init.sh of the busybox guests (cgroup2-guest, criu-guest), packed as /guest-base.sh; the caller
# sets GUEST_NAME. Stage 1 copies the initramfs into a tmpfs and switches to it: pivot_root(2) refuses the initial
# rootfs, and the containers (and criu's restore of their mount namespaces) need it. Stage 2 makes a pure cgroup
# v2 host the way systemd does (every controller enabled, / rshared, the driver in a cgroup of its own) and opens
# fd 3 on the second serial line, where the INFO lines go.
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
hostname "$GUEST_NAME"
echo 4 > /proc/sys/kernel/printk

exec 3>/dev/ttyS1
for controller in $(cat /sys/fs/cgroup/cgroup.controllers); do
    echo "+$controller" > /sys/fs/cgroup/cgroup.subtree_control || echo "INFO init: cannot enable $controller" >&3
done
mkdir -p /sys/fs/cgroup/driver
echo $$ > /sys/fs/cgroup/driver/cgroup.procs
