#!/usr/bin/env python3
"""make test-conformance-guest: runtime-tools' validation files (the suite `make conformance` runs here) in the
cgroup2 guest on NEWER_KERNEL_SUITE's 7.x kernel, where every root container's mount namespace comes from
open_tree(OPEN_TREE_NAMESPACE) and cgroups are v2: the spec's own tests on the path that kernel takes, which this
host (6.18, cgroup v1) never does.

Runs the files Tests/Conformance/expected.txt lists as PASS here, less those that read cgroup v1 files
(linux_cgroups_*: the suite checks v1 paths) and LEFT_OUT's; each must pass in the guest too. The suite is the one validate.sh
builds (CONFORMANCE_DIR, default /tmp/oci-conformance), built first when missing. Exit status 0 when every file
passed (or the guest or the suite cannot be had: a SKIP line says why).
"""
import argparse
import os
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.dirname(HERE))
import conformance  # noqa: E402
import guestlib  # noqa: E402
from guestlib import log, skip  # noqa: E402

guestlib.SUITE = "conformance-guest"


# Files left out in the guest, and why.
LEFT_OUT = {
    "delete_only_create_resources": "reads /sys/fs/cgroup/pids/cgrouptest/tasks, a cgroup v1 path",
    # HostRoot: the container's mounts go on a bind under its state dir, which on a shared mount would be copied
    # into the peers' namespaces and outlive delete. The guest's / is rshared, as on a systemd host.
    "linux_ns_itype": "a container without a mount namespace is refused where the state dir's mount is shared",
}


# Files whose failure is a race in the suite, which emulation makes easy to lose: reported SKIP, not FAIL, when
# they fail. killsig sends its signal once `state` says running, which can come before the shell in the container
# has set its trap; a signal with no handler is not delivered to a pid namespace's init from outside
# (pid_namespaces(7)), so the container runs on and the suite's delete finds it running (runc's the same).
RACY = {"killsig": "the signal came before the container's trap was set; the init of a pid namespace gets no "
                   "signal it has no handler for from outside"}


def files_to_run(expected):
    """The files listed PASS on this host (read as scripts/conformance.py reads the list) that do not read cgroup v1
    paths."""
    with open(expected) as f:
        listed = conformance.parse(f.readlines())
    return sorted(name for name, (verdict, _) in listed.items()
                  if verdict == "PASS" and not name.startswith("linux_cgroups_") and name not in LEFT_OUT)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--binary", required=True)
    parser.add_argument("--rootfs", required=True)
    parser.add_argument("--cache", default=".build-guest")
    parser.add_argument("--kernel-suite", default=os.environ.get("NEWER_KERNEL_SUITE", "trixie-backports"))
    parser.add_argument("--suite", default=os.path.join(REPO, "..", "shared", "conformance"))
    args = parser.parse_args()
    if os.geteuid() != 0:
        skip("needs root")
    validate = os.path.join(os.path.abspath(args.suite), "validate.sh")
    if not os.path.exists(validate):
        skip(f"{validate} is absent")
    if not shutil.which("qemu-system-x86_64"):
        skip("qemu-system-x86_64 is not installed")
    source = os.path.join(os.environ.get("CONFORMANCE_DIR", "/tmp/oci-conformance"), "runtime-tools")
    if not os.path.exists(os.path.join(source, ".built")):
        # validate.sh builds the suite before it runs the files its filter matches: here none.
        subprocess.run([validate, os.path.abspath(args.binary), "^$"], stdout=subprocess.DEVNULL)
    if not os.path.exists(os.path.join(source, ".built")):
        skip(f"the suite is not built in {source} (see its build.log)")
    started = time.monotonic()
    cache = os.path.abspath(args.cache)
    kdir = guestlib.fetch_suite_kernel(cache, args.kernel_suite)
    image = guestlib.busybox_guest(HERE, os.path.abspath(args.binary), os.path.abspath(args.rootfs), driver="suite.sh")
    image.file("suite/runtimetest", os.path.join(source, "runtimetest"))
    image.file("suite/rootfs-amd64.tar.gz", os.path.join(source, "rootfs-amd64.tar.gz"), mode=0o644)
    names = files_to_run(os.path.join(REPO, "Tests", "Conformance", "expected.txt"))
    # GNU tar: the suite unpacks its rootfs with `tar -xf rootfs-amd64.tar.gz`, which busybox's tar does not take.
    tar = shutil.which("tar")
    image.file("usr/local/bin/tar", tar)
    libraries = set()
    for lib in guestlib.shared_libraries(tar):
        image.file(lib.lstrip("/"), os.path.realpath(lib))
        libraries.add(lib)
    for name in names:
        program = os.path.join(source, "validation", name, name + ".t")
        image.file(f"suite/validation/{name}/{name}.t", program)
        # The test programs are Go with cgo: libc and its loader (runtimetest is static).
        for lib in set(guestlib.shared_libraries(program)) - libraries:
            image.file(lib.lstrip("/"), os.path.realpath(lib))
            libraries.add(lib)
    image.file("suite/racy", data="".join(f"{name}: {why}\n" for name, why in RACY.items()).encode(), mode=0o644)
    initramfs = os.path.join(cache, "conformance.cpio")
    image.write(initramfs)
    log(f"kernel {guestlib.kernel_version(kdir)}, {len(names)} files, initramfs "
        f"{os.path.getsize(initramfs) >> 20} MiB; booting (TCG)")
    cmdline = ["console=ttyS0", "quiet", "loglevel=4", "panic=-1", "oops=panic", "cgroup_no_v1=all", "rdinit=/init"]
    result = guestlib.boot(kdir, initramfs, cache, cmdline, 1500, quiet_limit=400, memory=2048)
    guestlib.finish(*result, started)


if __name__ == "__main__":
    main()
