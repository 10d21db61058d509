#!/usr/bin/env python3
"""bench.py CRABCAN [--runs N] [--paths a,b,...] — crabcan, runc and crun side by side (issue 14).

Every path is timed run by run with the runtimes interleaved (crabcan, runc, crun, then the next round in a
rotated order), so drift on a busy machine hits all three alike. Each runtime process is started and reaped by
scripts/spawnrss.c (compiled here with gcc; a child of Python would carry Python's peak RSS, which survives
execve): wall time from the monotonic clock, CPU as user+sys from wait4's rusage (it includes the runtime's
own waited-for children, as `time` counts them), peak RSS as ru_maxrss.
All runtimes get the same bundle: bundles/true (pid, ipc, uts, mount, network namespaces, read-only busybox
rootfs, default cgroups), with root.path made absolute; the `seccomp` variant adds the default profile that
`crabcan spec` writes. The `docker` variant is the config Docker itself wrote for `docker run busybox`
(Tests/Golden/foreign/docker-run.json): its ten mounts (with the cgroup tree and three bind-mounted files), masked
and read-only paths, device rules, resources and the seccomp profile Docker gives every container (containerd's
RuntimeDefault is the same list), on a copy of the busybox rootfs, without its fixed cgroupsPath so that each
runtime names its own cgroups. Each runtime's --root is on a tmpfs the bench mounts, as /run is on a systemd host
(BENCH_ROOTS_ON_DISK=1 puts them in /tmp instead). BENCH_HOST_MOUNTS=N runs the whole bench in a mount namespace
of its own, every mount private, with N more tmpfs mounts, as on a node whose pods hold many: every runtime's
mount namespace starts as a copy of its caller's (docs/performance.md). Compare N with 0, not with the host's
shared mounts.

Paths:
  run         `run` of /bin/true
  seccomp     the same with the default seccomp profile
  docker      `run` and `exec` of /bin/true with the config Docker wrote
  exec        `exec` of /bin/true into a running container (a `sleep` started with `run -d`)
  lifecycle   `create` + `start` + `delete -f` of /bin/true (three processes, summed)
  parallel    100 `create`s, 20 at a time, then 100 `delete -f`s, 20 at a time: total wall time (started by
              spawnrss --batches, each round once the CPUs are idle again; the `mounts` floor runs 100
              containers in the same batches beside them)
  many        `state` and `list` under a root with 1 created container and under one with BENCH_MANY (default
              200), the two interleaved run by run

Prints medians and crabcan's ratios to each of the others, then each goal of issue 14 with met/not met.
Needs root, runc and crun (installed with apt-get by `make bench`).
"""
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


SPAWNRSS = None  # the small static program (scripts/spawnrss.c) that starts and reaps each runtime process


def spawn(argv):
    """Runs argv to the end; returns (wall seconds, cpu seconds, peak RSS KiB, exit status)."""
    out = subprocess.run([SPAWNRSS, *argv], capture_output=True, text=True, check=True).stdout.split()
    wall_ns, cpu_us, rss, code = (int(x) for x in out)
    return wall_ns / 1e9, cpu_us / 1e6, rss, code


def must(argv):
    r = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)}: exit {r.returncode}: {r.stderr.strip()}")
    return r.stdout


class Runtime:
    def __init__(self, name, binary, tmp):
        self.name, self.binary = name, binary
        self.root = os.path.join(tmp, "root-" + name)
        os.makedirs(self.root, exist_ok=True)

    def cmd(self, *args):
        return [self.binary, "--root", self.root, *args]


class Floor:
    """A floor for `run`: a fixed command doing part of a run's work with no runtime around it, timed in the
    same rounds as the runtimes. `unshare` is issue 14's floor (two dynamically linked programs: namespaces,
    chroot, exec); `kernel` is scripts/floor.c, static, which also makes and joins a cgroup in every hierarchy
    and removes them, as a runtime must: the kernel work of the bench config minus its mounts; `mounts` is the
    same program making the bench config's file system too (its mounts, devices, masked and read-only paths,
    pivot_root), with the fewest syscalls: what the config itself costs the kernel, which no runtime goes below."""
    def __init__(self, name, argv):
        self.name, self.argv = name, argv
        self.binary = argv[0]

    def cmd(self, *args):
        return self.argv


def warm_page_cache(runtimes):
    """Drops each runtime's binary and shared libraries from the page cache and reads them back whole before the
    first round, so that all start from the same state. Peak RSS counts the pages each fault maps: the cached
    pages around it (the kernel's fault-around), and how many depends on how the file came into the cache (read
    back by exec's readahead, by read(), or written by cp or the linker): the same crabcan binary measured from
    3.3 to 3.7 MB across those states, run to run within one state within 0.05 MB."""
    for rt in runtimes:
        files = [rt.binary]
        ldd = subprocess.run(["ldd", rt.binary], capture_output=True, text=True).stdout
        files += [w for line in ldd.splitlines() for w in line.split() if w.startswith("/")]
        for path in files:
            try:
                # Dropped first, then read back: how many pages one fault maps also depends on the size of the
                # folios the page cache holds (a file just written by cp or the linker is held in larger ones),
                # so every file starts from the same state.
                fd = os.open(path, os.O_RDONLY)
                try:
                    os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
                    while os.read(fd, 1 << 20):
                        pass
                finally:
                    os.close(fd)
            except OSError:
                pass


def make_bundles(crabcan, rootfs, tmp):
    base = json.load(open(os.path.join(REPO, "bundles/true/config.json")))
    base["root"]["path"] = rootfs
    spec_dir = os.path.join(tmp, "spec")
    os.makedirs(spec_dir)
    must([crabcan, "spec", "--bundle", spec_dir])
    profile = json.load(open(os.path.join(spec_dir, "config.json")))["linux"]["seccomp"]
    sleep = lambda c: c["process"].__setitem__("args", ["/bin/sleep", "100000"])
    bundles = {}
    for name, change in {
        "true": lambda c: None,
        "seccomp": lambda c: c["linux"].__setitem__("seccomp", profile),
        "sleep": sleep,
    }.items():
        config = json.loads(json.dumps(base))
        change(config)
        path = os.path.join(tmp, "bundle-" + name)
        os.makedirs(path)
        json.dump(config, open(os.path.join(path, "config.json"), "w"))
        bundles[name] = path
    bundles.update(docker_bundles(tmp))
    return bundles


def make_guest_bundles(crabcan, tmp, guest_dir):
    """make_bundles' bundles for a qemu guest (scripts/bench-guest, the link-order guest), made under tmp with
    every host path in them rewritten to guest_dir, where the guest has them; the rootfs is the guest's /rootfs."""
    made = os.path.join(tmp, "guest-bundles")
    os.makedirs(made)
    bundles = make_bundles(crabcan, "/rootfs", made)
    for path in bundles.values():
        config_path = os.path.join(path, "config.json")
        with open(config_path) as f:
            config = json.loads(f.read().replace(made, guest_dir))
        with open(config_path, "w") as f:
            json.dump(config, f)
    shutil.rmtree(os.path.join(made, "spec"), ignore_errors=True)
    return made


def docker_bundles(tmp):
    """The config Docker wrote (scrubbed into Tests/Golden/foreign/), made runnable here: a copy of the busybox
    rootfs (the bind mounts' targets are made in it), its placeholder files, no cgroupsPath, /bin/true."""
    rootfs = os.path.join(tmp, "docker-rootfs")
    must(["cp", "-a", os.path.join(REPO, "bundles/busybox/rootfs"), rootfs])
    docker = json.load(open(os.path.join(REPO, "Tests/Golden/foreign/docker-run.json")))
    docker["root"]["path"] = rootfs
    docker["process"]["terminal"] = False
    docker["linux"].pop("cgroupsPath", None)
    for index, mount in enumerate(docker["mounts"]):
        if mount.get("source") == "@FILE@":
            mount["source"] = os.path.join(tmp, f"docker-file{index}")
            open(mount["source"], "w").write("127.0.0.1 localhost\n")
    bundles = {}
    for name, args in (("docker", ["/bin/true"]), ("docker-sleep", ["/bin/sleep", "100000"])):
        config = json.loads(json.dumps(docker))
        config["process"]["args"] = args
        path = os.path.join(tmp, "bundle-" + name)
        os.makedirs(path)
        json.dump(config, open(os.path.join(path, "config.json"), "w"))
        bundles[name] = path
    return bundles


def interleave(runtimes, runs, one):
    """one(rt, i) -> (wall, cpu, rss); returns {name: [samples]} with the order rotated each round."""
    samples = {rt.name: [] for rt in runtimes}
    for i in range(runs):
        k = i % len(runtimes)
        for rt in runtimes[k:] + runtimes[:k]:
            samples[rt.name].append(one(rt, i))
    return samples


def checked(result, what):
    wall, cpu, rss, code = result
    if code != 0:
        raise RuntimeError(f"{what}: exit {code}")
    return wall, cpu, rss


def path_run(runtimes, runs, bundle):
    return interleave(runtimes, runs, lambda rt, i: checked(
        spawn(rt.cmd("run", "--bundle", bundle, f"b-run-{i}")), f"{rt.name} run"))


def path_exec(runtimes, runs, sleeper):
    for rt in runtimes:
        # stdio on /dev/null: the detached container keeps what it was given open.
        subprocess.run(rt.cmd("run", "-d", "--bundle", sleeper, "b-exec"), stdin=subprocess.DEVNULL,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    try:
        return interleave(runtimes, runs, lambda rt, i: checked(
            spawn(rt.cmd("exec", "b-exec", "/bin/true")), f"{rt.name} exec"))
    finally:
        for rt in runtimes:
            subprocess.run(rt.cmd("delete", "-f", "b-exec"), capture_output=True)


def path_lifecycle(runtimes, runs, bundle):
    def one(rt, i):
        cid = f"b-life-{i}"
        steps = [checked(spawn(rt.cmd("create", "--bundle", bundle, cid)), f"{rt.name} create"),
                 checked(spawn(rt.cmd("start", cid)), f"{rt.name} start"),
                 checked(spawn(rt.cmd("delete", "-f", cid)), f"{rt.name} delete")]
        return (sum(s[0] for s in steps), sum(s[1] for s in steps), steps[0][2])  # RSS: create's
    return interleave(runtimes, runs, one)


def settle(idle=0.9, window=0.1, limit=3.0):
    """Waits (up to `limit` s) until the CPUs are `idle` idle over a `window`. The kernel tears down a deleted
    container's network namespace and cgroups in its workqueues after `delete` returns (~0.5 ms of CPU each
    here); without the wait, 100 containers' worth of one runtime's teardown lands in the next one's round
    (crabcan/crun 0.54 and 0.54 without it, 0.49 and 0.50 with it, four benches alternating)."""
    def busy_idle():
        values = [int(v) for v in open("/proc/stat").readline().split()[1:]]
        return sum(values) - values[3] - values[4], values[3] + values[4]
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        b0, i0 = busy_idle()
        time.sleep(window)
        b1, i1 = busy_idle()
        if (i1 - i0) >= idle * max(1, (b1 - b0) + (i1 - i0)):
            return


def path_parallel(runtimes, runs, bundle, count=100, width=20):
    """100 creates then 100 deletes, each `width` at a time, started by spawnrss --batches: a Python launcher
    spent ~0.5 ms of CPU per command on the same two cores. A floor runs its whole container (clone, cgroups,
    mounts, exec, teardown) once per id, in the same batches."""
    def batch(rt, argvs):
        text = "\n".join("\t".join(a) for a in argvs) + "\n"
        out = subprocess.run([SPAWNRSS, "--batches", str(width)], input=text, capture_output=True, text=True,
                             check=True).stdout.split()
        wall_ns, cpu_us, _, code = (int(x) for x in out)
        if code != 0:
            raise RuntimeError(f"{rt.name}: a parallel {argvs[0][3] if len(argvs[0]) > 3 else 'run'} failed: {code}")
        return wall_ns / 1e9, cpu_us / 1e6

    def one(rt, i):
        settle()
        ids = [f"b-par-{i}-{n}" for n in range(count)]
        if isinstance(rt, Floor):
            wall, cpu = batch(rt, [rt.cmd() for _ in ids])
            return wall, cpu, 0
        created = batch(rt, [rt.cmd("create", "--bundle", bundle, c) for c in ids])
        deleted = batch(rt, [rt.cmd("delete", "-f", c) for c in ids])
        return created[0] + deleted[0], created[1] + deleted[1], 0
    # At least 3 rounds, 5 with BENCH_RUNS=20: with 2, the median ratio moved from 0.51 to 0.60 between two
    # benches of the same binary (docs/performance.md).
    return interleave(runtimes, max(3, runs // 4), one)


def path_many(runtimes, runs, bundle, many):
    """state and list with 1 container under one root and with `many` under another, the two roots' commands
    interleaved run by run (so that drift cancels, as in the other paths): the ratio many/1 per runtime (flat is
    ~1). The ids have the same length in both roots and differ, as each container's default cgroup is named by its
    id."""
    out = {}
    for rt in runtimes:
        roots = os.path.dirname(rt.root)
        one, crowd = Runtime(rt.name + "-one", rt.binary, roots), Runtime(rt.name + "-many", rt.binary, roots)
        lone = ["b-one-0"]
        ids = [f"b-mny-{n}" for n in range(many)]
        try:
            for root, names in ((one, lone), (crowd, ids)):
                for c in names:
                    checked(spawn(root.cmd("create", "--bundle", bundle, c)), "create")  # stdio on /dev/null
            samples = {key: [] for key in ("s1", "sn", "l1", "ln")}
            for i in range(runs):
                pairs = [("s1", one, ("state", lone[0])), ("sn", crowd, ("state", ids[0])),
                         ("l1", one, ("list",)), ("ln", crowd, ("list",))]
                for key, root, args in (pairs if i % 2 == 0 else pairs[::-1]):
                    samples[key].append(checked(spawn(root.cmd(*args)), " ".join(args))[0])
            out[rt.name] = tuple(statistics.median(samples[key]) for key in ("s1", "sn", "l1", "ln"))
        finally:
            for root, names in ((one, lone), (crowd, ids)):
                for c in names:
                    subprocess.run(root.cmd("delete", "-f", c), capture_output=True)
    return out


def med(samples, k):
    return statistics.median(s[k] for s in samples)


# Each timed path's heading and its goals (issue 14): (label, sample field: 0 wall, 1 cpu, 2 peak RSS, the
# runtime compared with, the greatest ratio that meets the goal). The guest bench (scripts/bench-guest) reports
# with the same table.
HALF = 0.5
PATH_REPORTS = {
    "run": ("run /bin/true",
            [("cpu vs crun", 1, "crun", HALF), ("wall vs crun", 0, "crun", HALF), ("peak RSS vs crun", 2, "crun", 1.0),
             ("cpu vs floor (unshare)", 1, "unshare", 2.0), ("wall vs floor (unshare)", 0, "unshare", 2.0)]),
    "seccomp": ("run /bin/true, default seccomp profile", [("cpu vs crun", 1, "crun", HALF)]),
    "docker": ("run /bin/true, the config Docker wrote",
               [("cpu vs crun", 1, "crun", HALF), ("wall vs crun", 0, "crun", HALF)]),
    "docker-exec": ("exec /bin/true, the config Docker wrote",
                    [("cpu vs crun", 1, "crun", HALF), ("wall vs crun", 0, "crun", HALF)]),
    "exec": ("exec /bin/true",
             [("cpu vs crun", 1, "crun", HALF), ("wall vs crun", 0, "crun", HALF), ("peak RSS vs crun", 2, "crun", 1.0)]),
    "lifecycle": ("create + start + delete -f",
                  [("cpu vs crun", 1, "crun", HALF), ("create peak RSS vs crun", 2, "crun", 1.0)]),
    "parallel": ("100 creates and deletes, 20 at a time (wall of all; cpu: the runtime's own processes)",
                 [("total wall vs crun", 0, "crun", HALF)]),
}


def report_path(path, samples, rows):
    title, goals = PATH_REPORTS[path]
    report(title, samples, goals, rows)


def run_budget(samples):
    """What the 0.5x goal leaves a runtime beyond what the kernel charges for the config itself."""
    if not all(k in samples for k in ("crun", "kernel", "mounts", "crabcan")):
        return
    goal, kernel, mounts = (med(samples[k], 1) for k in ("crun", "kernel", "mounts"))
    goal /= 2
    print(f"  0.5x crun's cpu is {goal * 1e3:.2f} ms; the kernel floor takes {kernel * 1e3:.2f} ms, "
          f"{mounts * 1e3:.2f} ms with the config's mounts, leaving {(goal - mounts) * 1e3:.2f} ms for a "
          f"runtime's own start-up, config, state and teardown (crabcan takes "
          f"{(med(samples['crabcan'], 1) - mounts) * 1e3:.2f} ms, crun {(goal * 2 - mounts) * 1e3:.2f})")


def print_goals(rows):
    print("\n[goals of issue 14] crabcan's ratio beside its goal")
    for label, ratio, limit in rows:
        print(f"  {'met    ' if ratio <= limit else 'NOT met'}  {label:<52} {ratio:>5.2f}  (goal <= {limit})")


def report(title, samples, goals, rows):
    names = list(samples)
    print(f"\n[{title}] {len(samples[names[0]])} interleaved runs each; medians")
    print(f"  {'runtime':<8} {'wall ms':>9} {'cpu ms':>8} {'peak RSS KiB':>13}")
    for n in names:
        s = samples[n]
        print(f"  {n:<8} {med(s, 0) * 1e3:>9.2f} {med(s, 1) * 1e3:>8.2f} {med(s, 2):>13.0f}")
    if "crabcan" not in samples:
        return
    for other in names:
        if other == "crabcan":
            continue
        ratios = [f"{label} {med(samples['crabcan'], k) / med(samples[other], k):.2f}"
                  for label, k in (("wall", 0), ("cpu", 1), ("rss", 2)) if med(samples[other], k) > 0]
        print(f"  crabcan/{other}: " + ", ".join(ratios))
    for label, k, other, limit in goals:
        if other in samples and med(samples[other], k) > 0:
            ratio = med(samples["crabcan"], k) / med(samples[other], k)
            rows.append((f"{title}: {label}", ratio, limit))


def main():
    sys.stdout.reconfigure(line_buffering=True)
    args = sys.argv[1:]
    if not args or os.geteuid() != 0:
        print(__doc__ if not args else "bench: needs root", file=sys.stderr)
        sys.exit(2)
    crabcan = os.path.abspath(args[0])
    host_mounts = int(os.environ.get("BENCH_HOST_MOUNTS", "-1"))
    if host_mounts >= 0 and os.environ.get("BENCH_IN_PRIVATE_MOUNTS") != "1":
        # Again in a mount namespace of its own, where the extra mounts vanish with the last process in it.
        os.environ["BENCH_IN_PRIVATE_MOUNTS"] = "1"
        unshare = shutil.which("unshare")
        os.execv(unshare, [unshare, "-m", "--propagation", "private", sys.executable, os.path.abspath(__file__)] + args)
    runs = int(os.environ.get("BENCH_RUNS", "30"))
    paths = os.environ.get("BENCH_PATHS", "run,seccomp,docker,exec,lifecycle,parallel,many").split(",")
    rootfs = os.path.abspath(os.environ.get("BENCH_ROOTFS", os.path.join(REPO, "bundles/true/rootfs")))
    tmp = tempfile.mkdtemp(prefix="crabcan-bench.")
    global SPAWNRSS
    SPAWNRSS = os.path.join(tmp, "spawnrss")
    must(["gcc", "-O2", "-static", "-o", SPAWNRSS, os.path.join(REPO, "scripts/spawnrss.c")])
    kernel_floor = os.path.join(tmp, "floor")
    must(["gcc", "-O2", "-static", "-o", kernel_floor, os.path.join(REPO, "scripts/floor.c")])
    # The state roots go on a tmpfs, as /run is on any systemd host (runc's, crun's and crabcan's default roots
    # are under /run). This machine's /tmp and /run are on an ext4 without a journal, where every new inode
    # first skips the inodes deleted in the last 5-10 s: in the parallel path that was 2.5 ms per container
    # for crabcan and 1.7 for crun (docs/performance.md). BENCH_ROOTS_ON_DISK=1 keeps them in /tmp.
    roots = os.path.join(tmp, "roots")
    os.makedirs(roots)
    on_tmpfs = os.environ.get("BENCH_ROOTS_ON_DISK") != "1"
    if on_tmpfs:
        must(["mount", "-t", "tmpfs", "-o", "mode=0700", "crabcan-bench", roots])
    print(f"state roots: {'a tmpfs' if on_tmpfs else 'the disk'} at {roots}")
    extras = []
    try:
        for n in range(host_mounts):
            extras.append(os.path.join(tmp, "host-mounts", str(n)))
            os.makedirs(extras[-1])
            must(["mount", "-t", "tmpfs", "-o", "size=4k", "bench-host-mount", extras[-1]])
        with open("/proc/self/mountinfo") as mountinfo:
            print(f"host mounts: {sum(1 for _ in mountinfo)}")
        runtimes = [Runtime("crabcan", crabcan, roots)]
        for name in ("runc", "crun"):
            binary = shutil.which(name)
            if binary:
                runtimes.append(Runtime(name, binary, roots))
            else:
                print(f"bench: {name} not installed: left out", file=sys.stderr)
        bundles = make_bundles(crabcan, rootfs, tmp)
        floors = [Floor("unshare", [shutil.which("unshare"), "-m", "-u", "-i", "-n", "-p", "-f",
                                    shutil.which("chroot"), rootfs, "/bin/true"]),
                  Floor("kernel", [kernel_floor, rootfs, "/bin/true"]),
                  Floor("mounts", [kernel_floor, "--mounts", rootfs, "/bin/true"])]
        warm_page_cache(runtimes + floors)
        rows = []
        if "run" in paths:
            samples = path_run(runtimes + floors, runs, bundles["true"])
            report_path("run", samples, rows)
            run_budget(samples)
        if "seccomp" in paths:
            report_path("seccomp", path_run(runtimes, runs, bundles["seccomp"]), rows)
        if "docker" in paths:
            report_path("docker", path_run(runtimes, runs, bundles["docker"]), rows)
            report_path("docker-exec", path_exec(runtimes, runs, bundles["docker-sleep"]), rows)
        if "exec" in paths:
            report_path("exec", path_exec(runtimes, runs, bundles["sleep"]), rows)
        if "lifecycle" in paths:
            report_path("lifecycle", path_lifecycle(runtimes, runs, bundles["true"]), rows)
        if "parallel" in paths:
            samples = path_parallel(runtimes + [f for f in floors if f.name == "mounts"], runs, bundles["true"])
            report_path("parallel", samples, rows)
        if "many" in paths:
            many = int(os.environ.get("BENCH_MANY", "200"))
            print(f"\n[state and list with 1 and {many} containers] median wall ms (ratio {many}/1; flat is ~1)")
            for name, (s1, sn, l1, ln) in path_many(runtimes, runs, bundles["sleep"], many).items():
                print(f"  {name:<8} state {s1 * 1e3:.2f} -> {sn * 1e3:.2f} ({sn / s1:.2f})   "
                      f"list {l1 * 1e3:.2f} -> {ln * 1e3:.2f} ({ln / l1:.2f})")
                if name == "crabcan":
                    rows.append((f"state with {many} containers vs 1", sn / s1, 1.5))
        print_goals(rows)
    finally:
        for rt in locals().get("runtimes", []):
            out = subprocess.run(rt.cmd("list", "-q"), capture_output=True, text=True).stdout.split()
            for cid in out:
                subprocess.run(rt.cmd("delete", "-f", cid), capture_output=True)
        for extra in extras:
            subprocess.run(["umount", extra], capture_output=True)
        if on_tmpfs:
            subprocess.run(["umount", roots], capture_output=True)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
