#!/usr/bin/env python3
"""make test-cgroup2: boot Debian's own kernel with cgroup_no_v1=all under qemu (TCG) and run checks.sh there.

The kernel and the qemu invocation are scripts/guestlib.py's (shared with the systemd guest): the kernel is
cached in the guest dir (.build-guest/ by default) with the last initramfs. The initramfs holds busybox, the
static crabcan, the busybox rootfs the containers run from, runc with its libraries when the host has it (for
comparison), and the two scripts. The guest prints one line a check on its second serial port (a file here); the
kernel console goes to console.log. Exit status: 0 when every check passed (or the guest cannot be had: a SKIP
line says why), 1 when one failed, the guest timed out or never finished.
"""
import argparse
import json
import os
import shutil
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
import guestlib  # noqa: E402
from guestlib import log, skip  # noqa: E402

guestlib.SUITE = "test-cgroup2"


# The configs Docker, podman and containerd wrote (Tests/Golden/foreign/), made runnable in the guest: its rootfs,
# the scrubbed state files and directories as /srv/foreign/{file,dir}, a cgroup under /crabcan (the leftovers
# check sees it), a probe for the program, no terminal.
REPO = os.path.dirname(os.path.dirname(HERE))
FOREIGN = os.path.join(REPO, "Tests", "Golden", "foreign")
FOREIGN_PROBE = "cat /etc/hostname; touch /probe 2>/dev/null && echo rw || echo ro; exit 7"


def foreign_configs(image):
    for name in sorted(f[:-5] for f in os.listdir(FOREIGN) if f.endswith(".json")):
        with open(os.path.join(FOREIGN, name + ".json")) as f:
            text = f.read().replace('"@FILE@"', '"/srv/foreign/file"').replace('"@DIR@"', '"/srv/foreign/dir"')
        config = json.loads(text)
        config["root"]["path"] = "/rootfs"
        config["linux"]["cgroupsPath"] = f"/crabcan/foreign-{name}"
        config["process"]["args"] = ["sh", "-c", FOREIGN_PROBE]
        config["process"]["terminal"] = False
        image.file(f"foreign/{name}/config.json", data=json.dumps(config, indent=2).encode(), mode=0o644)


def build_initramfs(path, kdir, binary, rootfs):
    image = guestlib.busybox_guest(HERE, binary, rootfs)
    image.modules(kdir, {"configfs", "null_blk", "bfq"})
    foreign_configs(image)
    # capdrop: crabcan run by a caller without some capability (checks.sh, treens); deny-syscalls: under a filter
    # that answers ENOSYS to the calls an older kernel lacks (oldercalls).
    for source, libraries in ((os.path.join(HERE, "capdrop.c"), []),
                              (os.path.join(REPO, "Tests", "Programs", "deny-syscalls.c"), ["-lseccomp"])):
        program = os.path.join(os.path.dirname(path), os.path.basename(source)[:-2])
        built = guestlib.run(["gcc", "-static", "-O2", "-o", program, source, *libraries])
        if built.returncode != 0:
            sys.exit(f"test-cgroup2: gcc {os.path.basename(source)}: {built.stderr.strip()}")
        image.file("bin/" + os.path.basename(program), program)
    # runc (Debian's 1.1.5, dynamically linked) runs the same bundles for comparison when the host has it.
    runc = shutil.which("runc")
    if runc:
        image.file("bin/runc", runc)
        for lib in guestlib.shared_libraries(runc):
            image.file(lib.lstrip("/"), os.path.realpath(lib))
    image.write(path)
    return bool(runc)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--binary", required=True, help="the static crabcan release binary")
    parser.add_argument("--rootfs", required=True, help="the busybox rootfs the containers run from")
    parser.add_argument("--cache", default=".build-guest", help="where the kernel and initramfs are kept")
    parser.add_argument("--checks", default=os.environ.get("CGROUP2_CHECKS", ""),
                        help="comma-separated check groups (default: all)")
    parser.add_argument("--timeout", type=int, default=int(os.environ.get("CGROUP2_TIMEOUT", "420")))
    parser.add_argument("--kernel-suite", default="",
                        help="boot the kernel of this Debian suite (trixie-backports) instead of Debian 12's own")
    args = parser.parse_args()

    if not shutil.which("qemu-system-x86_64"):
        skip("qemu-system-x86_64 is not installed (Debian package qemu-system-x86)")
    if not os.path.exists("/bin/busybox"):
        sys.exit("test-cgroup2: /bin/busybox is missing (Debian package busybox-static)")
    guestlib.check_binary(args.binary, args.rootfs)
    cache = os.path.abspath(args.cache)
    os.makedirs(cache, exist_ok=True)
    started = time.monotonic()
    kdir = guestlib.fetch_suite_kernel(cache, args.kernel_suite) if args.kernel_suite else guestlib.fetch_kernel(cache)
    initramfs = os.path.join(cache, "cgroup2.cpio")
    with_runc = build_initramfs(initramfs, kdir, os.path.abspath(args.binary), os.path.abspath(args.rootfs))
    log(f"kernel {guestlib.kernel_version(kdir)}, initramfs {os.path.getsize(initramfs) >> 20} MiB"
        f"{' with runc' if with_runc else ''}, set up in {time.monotonic() - started:.1f} s; booting (TCG)")

    cmdline = ["console=ttyS0", "quiet", "loglevel=4", "panic=-1", "oops=panic", "cgroup_no_v1=all",
               "hugepagesz=2M", "hugepages=4", "rdinit=/init"]
    if args.checks:
        cmdline.append("guest.args=" + args.checks)
    result = guestlib.boot(kdir, initramfs, cache, cmdline, args.timeout, quiet_limit=120)
    guestlib.finish(*result, started)


if __name__ == "__main__":
    main()
