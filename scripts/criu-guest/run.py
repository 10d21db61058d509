#!/usr/bin/env python3
"""make test-criu: checkpoint/restore through CRIU (issue 17.1) in a qemu guest on Debian's 6.1 kernel.

Debian 12's criu 3.17 fails its own `criu check` on newer kernels (the rt vDSO bounds changed), so the checks run
where it works: the cgroup2 guest's kernel (scripts/guestlib.py), booted (TCG) into an initramfs that holds
busybox, the static crabcan, the busybox rootfs, and the host's criu binary with the shared libraries `ldd` lists
for it (the host's Debian package: the same distribution as the kernel, so no image to debootstrap). checks.sh
prints one line a check on the second serial port. Exit status: 0 when every check passed (or the guest cannot be
had: a SKIP line says why), 1 when one failed, the guest timed out or never finished.
"""
import argparse
import os
import shutil
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
import guestlib  # noqa: E402
from guestlib import log, skip  # noqa: E402

guestlib.SUITE = "test-criu"
# What criu needs of Debian's modular kernel, loaded by init.sh in this order: nf_tables (criu probes it whenever
# it starts, and locks the network with it), the sock_diag modules (a dump lists the sockets through them) and
# conntrack's netlink (a dump of a network namespace asks for its connections; a full system loads it on demand).
# Added to the shared list, so the kernel cache is unpacked once more with them (the other guests' checks of the
# cache still pass).
CRIU_MODULES = ["kernel/crypto/crc32c_generic.ko", "kernel/lib/libcrc32c.ko", "kernel/net/netfilter/nfnetlink.ko",
                "kernel/net/netfilter/nf_tables.ko", "kernel/net/unix/unix_diag.ko", "kernel/net/ipv4/inet_diag.ko",
                "kernel/net/ipv4/tcp_diag.ko", "kernel/net/ipv4/udp_diag.ko", "kernel/net/ipv4/raw_diag.ko",
                "kernel/net/packet/af_packet_diag.ko", "kernel/net/netlink/netlink_diag.ko",
                "kernel/net/ipv4/netfilter/nf_defrag_ipv4.ko", "kernel/net/ipv6/netfilter/nf_defrag_ipv6.ko",
                "kernel/net/netfilter/nf_conntrack.ko", "kernel/net/netfilter/nf_conntrack_netlink.ko"]
guestlib.MODULES += [m for m in CRIU_MODULES if m not in guestlib.MODULES]


def build_console_receiver(outdir):
    """console-recv.c, static (the guest has no libc of its own but criu's); None without gcc."""
    target = os.path.join(outdir, "console-recv")
    if not shutil.which("gcc"):
        return None
    got = guestlib.run(["gcc", "-static", "-O2", "-o", target, os.path.join(HERE, "console-recv.c")])
    return target if got.returncode == 0 else None


def build_initramfs(path, kdir, binary, rootfs, criu, receiver):
    image = guestlib.busybox_guest(HERE, binary, rootfs)
    if receiver:
        image.file("usr/local/bin/console-recv", receiver)
    image.modules(kdir, {os.path.basename(m)[:-3] for m in CRIU_MODULES})
    # criu is dynamically linked (libprotobuf-c, libnl, libnet, gnutls...): it and what ldd lists for it; and
    # GNU tar, which criu runs to save and restore tmpfs contents (/dev, /dev/shm) with options busybox's tar
    # lacks (its --gzip runs busybox's gzip); in /usr/local/bin, where busybox --install puts no link.
    libraries = set()
    for member, program in [("usr/sbin/criu", criu), ("usr/local/bin/tar", shutil.which("tar"))]:
        image.file(member, os.path.realpath(program))
        libraries.update(guestlib.shared_libraries(program))
    for lib in sorted(libraries):
        image.file(lib.lstrip("/"), os.path.realpath(lib))
    assert path.endswith(".cpio"), path
    image.write(path)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--binary", required=True, help="the static crabcan release binary")
    parser.add_argument("--rootfs", required=True, help="the busybox rootfs the containers run from")
    parser.add_argument("--cache", default=".build-guest", help="where the kernel and initramfs are kept")
    parser.add_argument("--timeout", type=int, default=int(os.environ.get("CRIU_TIMEOUT", "300")))
    args = parser.parse_args()

    if not shutil.which("qemu-system-x86_64"):
        skip("qemu-system-x86_64 is not installed (Debian package qemu-system-x86)")
    if not os.path.exists("/bin/busybox"):
        sys.exit("test-criu: /bin/busybox is missing (Debian package busybox-static)")
    criu = shutil.which("criu") or next((p for p in ("/usr/sbin/criu", "/sbin/criu") if os.path.exists(p)), None)
    if not criu:
        skip("criu is not installed (Debian package criu)")
    if not shutil.which("tar"):
        skip("GNU tar is needed (criu runs it)")
    guestlib.check_binary(args.binary, args.rootfs)
    cache = os.path.abspath(args.cache)
    os.makedirs(cache, exist_ok=True)
    started = time.monotonic()
    kdir = guestlib.fetch_kernel(cache)
    outdir = os.path.join(cache, "criu")
    os.makedirs(outdir, exist_ok=True)
    initramfs = os.path.join(outdir, "criu.cpio")
    receiver = build_console_receiver(outdir)
    if not receiver:
        log("gcc cannot build console-recv.c: the terminal checks are skipped")
    build_initramfs(initramfs, kdir, os.path.abspath(args.binary), os.path.abspath(args.rootfs), os.path.realpath(criu),
                    receiver)
    setup = time.monotonic() - started
    log(f"kernel {guestlib.kernel_version(kdir)}, initramfs {os.path.getsize(initramfs) >> 20} MiB with {criu}, "
        f"set up in {setup:.1f} s; booting (TCG)")
    cmdline = ["console=ttyS0", "quiet", "loglevel=4", "panic=-1", "oops=panic", "cgroup_no_v1=all", "rdinit=/init"]
    result = guestlib.boot(kdir, initramfs, outdir, cmdline, args.timeout, quiet_limit=120)
    guestlib.finish(*result, started, extra=f"set-up {setup:.1f} s, ")


if __name__ == "__main__":
    main()
