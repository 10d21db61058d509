#!/usr/bin/env python3
"""make bench-guest: `make bench`'s paths in a qemu guest (TCG) that is a pure cgroup v2 host, on Debian 12's 6.1
kernel or (--kernel-suite) a newer Debian kernel such as trixie-backports' 7.3, where crabcan's init takes its
mount namespace from open_tree(OPEN_TREE_NAMESPACE) (docs/performance.md).

This machine is cgroup v1 on 6.18, so `make bench` cannot show the cgroup v2 paths (the init born in its cgroup
by clone3, one cgroup instead of eleven) nor the tree namespace. The guest runs crabcan and crun (Debian's, copied
in with the libraries ldd lists; runc too when asked) on the same bundles as scripts/bench.py, interleaved run by
run, each process started and reaped by scripts/spawnrss.c, and the `kernel` and `mounts` floors of
scripts/floor.c.
Under software emulation the milliseconds are not a host's; the ratios are what to read, with that caveat (TCG
emulates every instruction, so user-space work weighs more against kernel work than on hardware).
Prints the same tables and goal lines as `make bench`. Exit status 0 when every path ran; 1 when one failed.
"""
import argparse
import os
import shutil
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPTS = os.path.dirname(HERE)
sys.path.insert(0, SCRIPTS)
import bench  # noqa: E402
import guestlib  # noqa: E402
from guestlib import log, skip  # noqa: E402

guestlib.SUITE = "bench-guest"
GUEST_BUNDLES = "/b"  # where the bundles are in the guest
PATHS = ("run", "seccomp", "docker", "exec", "lifecycle", "parallel")


def static_program(source, out):
    built = guestlib.run(["gcc", "-static", "-O2", "-o", out, source])
    if built.returncode != 0:
        sys.exit(f"bench-guest: gcc {os.path.basename(source)}: {built.stderr.strip()}")
    return out


def build_initramfs(path, kdir, binary, rootfs, tmp, runtimes):
    image = guestlib.busybox_guest(HERE, binary, rootfs, driver="bench.sh")
    image.file("bin/spawnrss", static_program(os.path.join(SCRIPTS, "spawnrss.c"), os.path.join(tmp, "spawnrss")))
    image.file("bin/floor", static_program(os.path.join(SCRIPTS, "floor.c"), os.path.join(tmp, "floor")))
    image.tree(GUEST_BUNDLES.lstrip("/"), bench.make_guest_bundles(binary, tmp, GUEST_BUNDLES))
    present, libraries = [], set()
    for name in runtimes:
        found = shutil.which(name)
        if not found:
            log(f"{name} is not installed: left out")
            continue
        present.append(name)
        image.file(f"bin/{name}", found)
        for lib in set(guestlib.shared_libraries(found)) - libraries:
            image.file(lib.lstrip("/"), os.path.realpath(lib))
            libraries.add(lib)
    image.write(path)
    return present


def samples_of(lines):
    """{path: {runtime: [(wall s, cpu s, rss KiB)]}} from the guest's B lines, in the order they came."""
    out = {}
    for line in lines:
        fields = line.split()
        if len(fields) == 7 and fields[0] == "B":
            _, path, _, runtime, wall, cpu, rss = fields
            out.setdefault(path, {}).setdefault(runtime, []).append((int(wall) / 1e9, int(cpu) / 1e6, int(rss)))
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--binary", required=True, help="the static crabcan release binary")
    parser.add_argument("--rootfs", required=True, help="the busybox rootfs the containers run from")
    parser.add_argument("--cache", default=".build-guest", help="where the kernels are kept")
    parser.add_argument("--kernel-suite", default="", help="a newer Debian suite's kernel (trixie-backports)")
    parser.add_argument("--runs", type=int, default=int(os.environ.get("BENCH_RUNS", "20")))
    parser.add_argument("--paths", default=os.environ.get("BENCH_PATHS", ",".join(PATHS)))
    # runc (Go) takes about a second a command under emulation, twenty times crun: BENCH_GUEST_RUNTIMES=runc,crun
    # adds it for the record; the goals are against crun.
    parser.add_argument("--runtimes", default=os.environ.get("BENCH_GUEST_RUNTIMES", "crun"),
                        help="the other runtimes copied in beside crabcan (runc, crun)")
    parser.add_argument("--timeout", type=int, default=int(os.environ.get("BENCH_GUEST_TIMEOUT", "3600")))
    args = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)
    if os.geteuid() != 0:
        skip("needs root")
    if not shutil.which("qemu-system-x86_64"):
        skip("qemu-system-x86_64 is not installed (Debian package qemu-system-x86)")
    unknown = [p for p in args.paths.split(",") if p not in PATHS]
    if unknown:
        sys.exit(f"bench-guest: no such path: {', '.join(unknown)} (paths: {', '.join(PATHS)})")
    guestlib.check_binary(args.binary, args.rootfs)
    cache = os.path.abspath(args.cache)
    os.makedirs(cache, exist_ok=True)
    started = time.monotonic()
    kdir = guestlib.fetch_suite_kernel(cache, args.kernel_suite) if args.kernel_suite else guestlib.fetch_kernel(cache)
    with tempfile.TemporaryDirectory(prefix="crabcan-bench-guest.") as tmp:
        initramfs = os.path.join(cache, "bench.cpio")
        present = build_initramfs(initramfs, kdir, os.path.abspath(args.binary), os.path.abspath(args.rootfs), tmp,
                                  [r for r in args.runtimes.split(",") if r])
    log(f"kernel {guestlib.kernel_version(kdir)}, crabcan beside {', '.join(present) or 'nothing'}; "
        f"{args.runs} runs of {args.paths}; booting (TCG, 2 vCPUs)")
    cmdline = ["console=ttyS0", "quiet", "loglevel=4", "panic=-1", "oops=panic", "cgroup_no_v1=all",
               "rdinit=/init", f"guest.args={args.runs},{args.paths}"]
    lines, failed_reason, seconds, qemu_out, console = guestlib.boot(
        kdir, initramfs, cache, cmdline, args.timeout, quiet_limit=600, memory=2048,
        echo=lambda line: not line.startswith("B "))
    rows = []
    for path, samples in samples_of(lines).items():
        bench.report_path(path, samples, rows)
        if path == "run":
            bench.run_budget(samples)
    bench.print_goals(rows)
    print(f"(measured in a TCG guest on Linux {guestlib.kernel_version(kdir)}, cgroup v2: ratios, not a host's times)")
    guestlib.finish(lines, failed_reason, seconds, qemu_out, console, started)


if __name__ == "__main__":
    main()
