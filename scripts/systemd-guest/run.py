#!/usr/bin/env python3
"""make test-systemd: boot Debian 12 with systemd as PID 1 (pure cgroup v2) under qemu (TCG) and run checks.sh.

The root is a minimal Debian made with `debootstrap --variant=minbase --include=systemd,...` into
<cache>/systemd/root and an ext4 image of it (`mke2fs -d`, no mount needed), both cached and rebuilt only when
their inputs (suite, mirror, packages, trimming, image size) change. qemu boots it as a snapshot: what the guest
writes never reaches the cached image. This run's pieces (the static crabcan, Debian's runc, the busybox rootfs,
the scripts, the unit that runs the checks) ride in a small initramfs whose /init puts them into the root before
handing PID 1 to systemd: they are never stale. Kernel and qemu: scripts/guestlib.py, shared with the cgroup2
guest. Exit status as there: 0 when every check passed (or the guest cannot be had: a SKIP line says why).
"""
import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
import guestlib  # noqa: E402
from guestlib import log, run, skip  # noqa: E402

guestlib.SUITE = "test-systemd"

SUITE = "bookworm"
# systemd-sysv: /sbin/init; dbus: the system bus both drivers talk to systemd over; procps: `ps` for `crabcan
# ps`/`runc ps`; libseccomp2: Debian's runc binary links it.
PACKAGES = ["systemd", "systemd-sysv", "dbus", "procps", "libseccomp2"]
# What the checks never read (the image boots and copies faster without it).
TRIM = ["var/cache/apt", "var/lib/apt/lists", "usr/share/doc", "usr/share/man", "usr/share/locale",
        "usr/share/info"]
# Free room in the image beyond the tree (the guest writes to a qemu snapshot, but into this file system).
IMAGE_SPARE_MB = 384
# Loaded by init.sh in this order: the root is ext4 on virtio-blk, all modules in Debian's kernel.
ROOT_MODULES = ["crc32c_generic", "crc16", "mbcache", "jbd2", "ext4", "virtio_ring", "virtio",
                "virtio_pci_modern_dev", "virtio_pci_legacy_dev", "virtio_pci", "virtio_blk"]


def debian_mirror():
    """The Debian mirror the host's apt uses (deb822 or one-line sources), else deb.debian.org."""
    paths = ["/etc/apt/sources.list"]
    d = "/etc/apt/sources.list.d"
    if os.path.isdir(d):
        paths += [os.path.join(d, f) for f in sorted(os.listdir(d))]
    for path in paths:
        try:
            text = open(path).read()
        except OSError:
            continue
        for stanza in re.split(r"\n\s*\n", text):
            uris = re.search(r"^URIs:\s*(\S+)", stanza, re.M)
            suites = re.search(r"^Suites:(.*)$", stanza, re.M)
            if uris and suites and SUITE in suites.group(1).split() and "/debian" in uris.group(1):
                return uris.group(1).rstrip("/")
        for m in re.finditer(r"^deb\s+(?:\[[^]]*\]\s+)?(\S+)\s+(\S+)", text, re.M):
            if m.group(2) == SUITE and "/debian" in m.group(1):
                return m.group(1).rstrip("/")
    return "http://deb.debian.org/debian"


def key_of(inputs):
    return hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()[:16]


def read_key(path):
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError:
        return None


def write_key(path, key):
    with open(path, "w") as f:
        f.write(key + "\n")


def du_mb(path):
    return int(run(["du", "-sm", path]).stdout.split()[0])


def root_image(cache):
    """<cache>/systemd/root.ext4, made (debootstrap, then mke2fs) only when its inputs changed. Returns its path
    and what it cost ("cached" or the seconds of each step)."""
    sdir = os.path.join(cache, "systemd")
    os.makedirs(sdir, exist_ok=True)
    tree, image = os.path.join(sdir, "root"), os.path.join(sdir, "root.ext4")
    mirror = debian_mirror()
    tree_key = key_of({"suite": SUITE, "mirror": mirror, "packages": PACKAGES, "trim": TRIM})
    image_key = key_of({"tree": tree_key, "spare": IMAGE_SPARE_MB, "modules": ROOT_MODULES})
    notes = []
    if read_key(tree + ".key") != tree_key or not os.path.isdir(tree):
        if not shutil.which("debootstrap"):
            skip("debootstrap is not installed (Debian package debootstrap)")
        staging = tree + ".new"
        shutil.rmtree(staging, ignore_errors=True)
        log(f"debootstrap --variant=minbase {SUITE} from {mirror} (cached in {tree})")
        t = time.monotonic()
        got = run(["debootstrap", "--variant=minbase", "--include=" + ",".join(PACKAGES), SUITE, staging, mirror])
        if got.returncode != 0:
            tail = (got.stdout + got.stderr).strip().splitlines()[-3:]
            shutil.rmtree(staging, ignore_errors=True)
            skip(f"debootstrap failed (no reachable Debian mirror?): {' | '.join(tail)}")
        for t_ in TRIM:
            target = os.path.join(staging, t_)
            if os.path.isdir(target):
                for entry in os.listdir(target):
                    p = os.path.join(target, entry)
                    shutil.rmtree(p) if os.path.isdir(p) and not os.path.islink(p) else os.unlink(p)
        shutil.rmtree(tree, ignore_errors=True)
        os.rename(staging, tree)
        write_key(tree + ".key", tree_key)
        notes.append(f"debootstrap {time.monotonic() - t:.1f} s ({du_mb(tree)} MB)")
    if read_key(image + ".key") != image_key or not os.path.exists(image):
        if not shutil.which("mke2fs"):
            skip("mke2fs is not installed (Debian package e2fsprogs)")
        t = time.monotonic()
        size = du_mb(tree) + IMAGE_SPARE_MB
        if os.path.exists(image + ".tmp"):
            os.unlink(image + ".tmp")
        got = run(["mke2fs", "-q", "-F", "-t", "ext4", "-L", "crabcan-systemd", "-d", tree, image + ".tmp", f"{size}M"])
        if got.returncode != 0:
            sys.exit(f"test-systemd: mke2fs -d {tree} failed: {got.stderr.strip()}")
        os.rename(image + ".tmp", image)
        write_key(image + ".key", image_key)
        notes.append(f"mke2fs {time.monotonic() - t:.1f} s ({size} MB)")
    return image, ", ".join(notes) or "cached"


def build_initramfs(path, kdir, binary, rootfs, runc):
    image = guestlib.Cpio()
    for d in ["proc", "sys", "dev", "newroot"]:
        image.dir(d)
    image.file("bin/busybox", "/bin/busybox")
    image.file("init", os.path.join(HERE, "init.sh"))
    image.modules(kdir, set(ROOT_MODULES))
    # The payload init.sh copies into the root: /opt/crabcan-guest there.
    image.file("payload/crabcan", binary)
    if runc:
        image.file("payload/runc", runc)
    for name in ("guest.sh", "checks.sh", "guest-checks.service"):
        image.file(f"payload/{name}", os.path.join(HERE, name), mode=0o644)
    image.tree("payload/rootfs", rootfs)
    image.write(path)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--binary", required=True, help="the static crabcan release binary")
    parser.add_argument("--rootfs", required=True, help="the busybox rootfs the containers run from")
    parser.add_argument("--cache", default=".build-guest", help="where the kernel, the Debian tree and image are kept")
    parser.add_argument("--runtimes", default=os.environ.get("SYSTEMD_RUNTIMES", "runc,crabcan"),
                        help="which runtimes' checks run, in order (default: runc,crabcan)")
    parser.add_argument("--groups", default=os.environ.get("SYSTEMD_GROUPS", ""),
                        help="which groups of checks.sh run (default: all), comma-separated")
    parser.add_argument("--timeout", type=int, default=int(os.environ.get("SYSTEMD_TIMEOUT", "480")))
    args = parser.parse_args()

    if os.geteuid() != 0:
        skip("needs root (debootstrap)")
    if not shutil.which("qemu-system-x86_64"):
        skip("qemu-system-x86_64 is not installed (Debian package qemu-system-x86)")
    if not os.path.exists("/bin/busybox"):
        sys.exit("test-systemd: /bin/busybox is missing (Debian package busybox-static)")
    guestlib.check_binary(args.binary, args.rootfs)
    # Debian's runc 1.1.5: the same distribution as the image, so its libraries (libc, libseccomp) are there.
    runc = shutil.which("runc")
    if not runc and "runc" in args.runtimes:
        log("no runc on this host (Debian package runc): its checks are skipped")
    cache = os.path.abspath(args.cache)
    os.makedirs(cache, exist_ok=True)
    started = time.monotonic()
    kdir = guestlib.fetch_kernel(cache)
    image, image_cost = root_image(cache)
    sdir = os.path.dirname(image)
    initramfs = os.path.join(sdir, "payload.cpio")
    build_initramfs(initramfs, kdir, os.path.abspath(args.binary), os.path.abspath(args.rootfs), runc)
    setup = time.monotonic() - started
    log(f"kernel {guestlib.kernel_version(kdir)}, root image {os.path.getsize(image) >> 20} MiB ({image_cost}), "
        f"initramfs {os.path.getsize(initramfs) >> 20} MiB, set up in {setup:.1f} s; booting systemd (TCG)")

    cmdline = ["console=ttyS0", "loglevel=4", "panic=-1", "oops=panic", "cgroup_no_v1=all",
               "systemd.unified_cgroup_hierarchy=1", "rdinit=/init", "crabcan.runtimes=" + args.runtimes]
    if args.groups:
        cmdline.append("crabcan.groups=" + args.groups)
    # snapshot=on: the guest's writes go to a temporary overlay, never into the cached image.
    drive = ["-drive", f"file={image},format=raw,if=virtio,snapshot=on"]
    result = guestlib.boot(kdir, initramfs, sdir, cmdline, args.timeout, quiet_limit=90, extra_qemu=drive)
    booted = [m.group(1) for l in result[0] for m in [re.search(r"checks\.service started at uptime (\S+) s", l)] if m]
    guestlib.finish(*result, started, extra=f"set-up {setup:.1f} s, boot {booted[0] + ' s' if booted else '?'}, ")


if __name__ == "__main__":
    main()
