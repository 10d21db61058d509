#!/bin/sh
# mkrootfs.sh DIR — build a minimal busybox root filesystem into DIR.
#
# Uses Debian's busybox-static (/bin/busybox, no shared libraries, so nothing
# else has to be copied).  Idempotent: re-running only refreshes files, so the
# Makefile can call it unconditionally.
set -eu

if [ $# -ne 1 ]; then
    echo "usage: $0 DIR" >&2
    exit 2
fi
dir=$1

if [ ! -x /bin/busybox ] || ! /bin/busybox --list >/dev/null 2>&1; then
    apt-get install -y busybox-static >&2
fi
# A dynamically linked busybox (Debian's "busybox" package) would need its
# libraries inside the rootfs; refuse it rather than build a broken rootfs.
if ldd /bin/busybox >/dev/null 2>&1; then
    echo "$0: /bin/busybox is dynamically linked; install busybox-static" >&2
    exit 1
fi

mkdir -p "$dir/bin" "$dir/etc" "$dir/root" "$dir/home/user" \
         "$dir/proc" "$dir/dev" "$dir/sys"
mkdir -p -m 1777 "$dir/tmp"
chmod 1777 "$dir/tmp"
chmod 0700 "$dir/root"
chown 1000:1000 "$dir/home/user"

# Copy only when changed so an unchanged rootfs keeps its mtimes.
if ! cmp -s /bin/busybox "$dir/bin/busybox"; then
    install -m 0755 /bin/busybox "$dir/bin/busybox"
fi

# One symlink per applet, all in /bin (PATH in the bundles includes /bin).
# Relative targets so the links also resolve from the host side.
for applet in $("$dir/bin/busybox" --list); do
    [ "$applet" = busybox ] && continue
    ln -sfn busybox "$dir/bin/$applet"
done
# Some tools expect /sbin and /usr/bin; point them at /bin (relative links,
# so they never resolve to the host's /bin when followed from outside).
mkdir -p "$dir/usr"
for link in sbin:bin usr/bin:../bin usr/sbin:../bin; do
    [ -e "$dir/${link%%:*}" ] || ln -sfn "${link#*:}" "$dir/${link%%:*}"
done

cat > "$dir/etc/passwd" <<'PASSWD'
root:x:0:0:root:/root:/bin/sh
user:x:1000:1000:user:/home/user:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
PASSWD
cat > "$dir/etc/group" <<'GROUP'
root:x:0:
tty:x:5:
user:x:1000:
nogroup:x:65534:
GROUP
