#!/bin/sh
# Run by guest-checks.service once systemd has the guest up: says how the boot went (on the second serial port,
# like every result line), runs checks.sh for each runtime named on the kernel command line, and exits (the unit
# then powers the guest off).
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
exec 3>/dev/ttyS1
say() { echo "$*" >&3; }
say "INFO boot: guest-checks.service started at uptime $(cut -d' ' -f1 /proc/uptime) s"
state=$(timeout 60 systemctl is-system-running --wait 2>&1)
say "INFO boot: system $state; $(systemd-analyze time 2>&1 | head -1)"
[ "$state" = running ] || say "INFO boot: failed units: $(systemctl --failed --plain --no-legend | cut -d' ' -f1 | tr '\n' ' ')"
say "INFO boot: slowest: $(systemd-analyze blame --no-pager 2>/dev/null | head -4 | sed 's/^ *//' | tr '\n' ';' | tr -s ' ')"
say "INFO guest: kernel $(uname -r), $(systemctl --version | head -1), cgroup $(stat -fc %T /sys/fs/cgroup), controllers: $(cat /sys/fs/cgroup/cgroup.subtree_control)"
CHECK_GROUPS=$(sed -n 's/.*crabcan\.groups=\([^ ]*\).*/\1/p' /proc/cmdline | tr ',' ' ')
export CHECK_GROUPS
runtimes=$(sed -n 's/.*crabcan\.runtimes=\([^ ]*\).*/\1/p' /proc/cmdline)
sh /opt/crabcan-guest/checks.sh $(echo "${runtimes:-runc,crabcan}" | tr ',' ' ')
say "INFO guest: uptime $(cut -d' ' -f1 /proc/uptime) s"
# The unit's SuccessAction powers off too; this is the quickest way out (the root is a throw-away snapshot).
exec 3>&-
systemctl poweroff --force --force
