#!/bin/busybox sh
# /init of the systemd guest's initramfs (run.py): mounts the cached Debian image (/dev/vda, a qemu snapshot:
# nothing written here reaches the cache), puts this run's crabcan, runc, rootfs and checks into it, masks what
# would only slow the boot, and hands PID 1 to systemd.
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev

fatal() {
    echo "FAIL boot: $*" > /dev/ttyS1
    echo "DONE" > /dev/ttyS1
    poweroff -f
}

for m in crc32c_generic crc16 mbcache jbd2 ext4 virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev \
        virtio_pci virtio_blk; do
    insmod /modules/$m.ko || fatal "insmod $m"
done
i=0
while [ ! -b /dev/vda ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
mount -t ext4 /dev/vda /newroot || fatal "mount /dev/vda (the root image)"

R=/newroot
G=$R/opt/crabcan-guest
rm -rf $G && mkdir -p $G && cp -a /payload/. $G/ || fatal "copy the payload"
cp /payload/crabcan $R/usr/local/bin/crabcan || fatal "copy crabcan"
[ ! -e /payload/runc ] || cp /payload/runc $R/usr/local/sbin/runc || fatal "copy runc"
U=$R/etc/systemd/system
cp /payload/guest-checks.service $U/
mkdir -p $U/multi-user.target.wants
ln -sf ../guest-checks.service $U/multi-user.target.wants/guest-checks.service
# Nothing logs in, nothing is on a network, no timer has time to fire, the first-boot updates are pointless on a
# snapshot, and there is no udev (minbase): each of these only costs boot time under TCG.
for unit in getty.target getty@tty1.service serial-getty@ttyS0.service console-getty.service \
        timers.target apt-daily.timer apt-daily-upgrade.timer dpkg-db-backup.timer e2scrub_all.timer fstrim.timer \
        systemd-tmpfiles-clean.timer e2scrub_reap.service remote-fs.target systemd-pstore.service \
        ldconfig.service systemd-journal-catalog-update.service systemd-hwdb-update.service \
        systemd-update-done.service systemd-journal-flush.service systemd-update-utmp.service \
        systemd-update-utmp-runlevel.service systemd-random-seed.service systemd-firstboot.service \
        systemd-machine-id-commit.service systemd-user-sessions.service \
        proc-sys-fs-binfmt_misc.automount systemd-binfmt.service sys-kernel-debug.mount sys-kernel-tracing.mount \
        sys-fs-fuse-connections.mount sys-kernel-config.mount; do
    ln -sf /dev/null $U/$unit
done
# An ordinary user (uid 1000) for the rootless checks: its manager (user@1000.service) is started by checks.sh,
# with a session bus (what Debian's dbus-user-session ships, written here so the cached image stays as it is):
# runc's rootless systemd driver talks to the user manager only through that bus.
grep -q '^crab:' $R/etc/passwd || {
    echo 'crab:x:1000:1000:crabcan rootless checks:/home/crab:/bin/sh' >> $R/etc/passwd
    echo 'crab:x:1000:' >> $R/etc/group
    echo 'crab:*:19000:0:99999:7:::' >> $R/etc/shadow
}
mkdir -p $R/home/crab && chown 1000:1000 $R/home/crab
# pam_systemd (libpam-systemd, not in the image) is what sets XDG_RUNTIME_DIR for a user manager elsewhere.
mkdir -p $U/user@1000.service.d
printf '[Service]\nEnvironment=XDG_RUNTIME_DIR=/run/user/%%i\n' > $U/user@1000.service.d/runtime-dir.conf
UU=$R/etc/systemd/user
mkdir -p $UU/sockets.target.wants
printf '[Unit]\nDescription=D-Bus User Message Bus Socket\n[Socket]\nListenStream=%%t/bus\nExecStartPost=-/usr/bin/systemctl --user set-environment DBUS_SESSION_BUS_ADDRESS=unix:path=%%t/bus\n[Install]\nWantedBy=sockets.target\n' > $UU/dbus.socket
printf '[Unit]\nDescription=D-Bus User Message Bus\nRequires=dbus.socket\n[Service]\nExecStart=/usr/bin/dbus-daemon --session --address=systemd: --nofork --nopidfile --systemd-activation --syslog-only\n' > $UU/dbus.service
ln -sf ../dbus.socket $UU/sockets.target.wants/dbus.socket
mkdir -p $R/etc/systemd/journald.conf.d
printf '[Journal]\nStorage=volatile\n' > $R/etc/systemd/journald.conf.d/volatile.conf

for m in proc sys dev; do mount --move /$m $R/$m; done
exec switch_root /newroot /sbin/init
