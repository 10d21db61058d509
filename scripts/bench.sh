#!/bin/sh
# bench.sh CRABCAN_BINARY — time `run` of bundles/true under crabcan, runc and crun.
#
# Each runtime does the same work: `RT --root TMP/RT run --bundle TMP/bundle bench-RT`
# with one config (pid, ipc, uts, mount, network namespaces; /bin/true; read-only
# busybox rootfs), no shell in between (hyperfine -N).  A foreground `run` deletes
# its container when the process exits (checked below with `RT list`), so the same
# id is reused run after run and a leftover would make the next run fail loudly.
#
# Environment: BENCH_RUNS (default 50), BENCH_WARMUP (default 5),
#              BENCH_ROOTFS (default bundles/true/rootfs).
set -eu

if [ $# -ne 1 ]; then
    echo "usage: $0 CRABCAN_BINARY" >&2
    exit 2
fi
crabcan=$1
repo=$(cd "$(dirname "$0")/.." && pwd)
runs=${BENCH_RUNS:-50}
warmup=${BENCH_WARMUP:-5}
rootfs=${BENCH_ROOTFS:-$repo/bundles/true/rootfs}

need=""
command -v runc >/dev/null || need="$need runc"
command -v crun >/dev/null || need="$need crun"
command -v hyperfine >/dev/null || need="$need hyperfine"
if [ -n "$need" ]; then
    apt-get install -y $need >&2
fi

if [ ! -x "$rootfs/bin/true" ]; then
    echo "$0: no rootfs at $rootfs: run make rootfs first" >&2
    exit 1
fi
rootfs=$(cd "$rootfs" && pwd)

# crun 1.8.1 refuses a hybrid cgroup host ("cgroups in hybrid mode not
# supported, drop all controllers from cgroupv2") as long as the v2 hierarchy at
# /sys/fs/cgroup/unified holds a controller; here it holds hugetlb.  Mounting
# hugetlb as a v1 hierarchy moves the controller out of v2, after which crun
# runs.  runc works either way, and the mount is left in place (it is harmless
# and later runs need it too).  See /work/shared/DESIGN.md section 7.
unified=/sys/fs/cgroup/unified
if [ -r "$unified/cgroup.controllers" ] &&
   grep -qw hugetlb "$unified/cgroup.controllers" &&
   ! mountpoint -q /sys/fs/cgroup/hugetlb; then
    echo "moving the hugetlb controller to a v1 hierarchy so crun can run" >&2
    mkdir -p /sys/fs/cgroup/hugetlb
    mount -t cgroup -o hugetlb cgroup /sys/fs/cgroup/hugetlb
fi

tmp=$(mktemp -d /tmp/crabcan-bench.XXXXXX)
trap 'rm -rf "$tmp"' EXIT INT TERM

# One bundle for all runtimes: bundles/true/config.json with root.path made
# absolute, so BENCH_ROOTFS can point anywhere without touching the repo.
mkdir "$tmp/bundle"
python3 - "$repo/bundles/true/config.json" "$rootfs" "$tmp/bundle/config.json" <<'EOF'
import json, sys
src, rootfs, dst = sys.argv[1:]
config = json.load(open(src))
config["root"]["path"] = rootfs
json.dump(config, open(dst, "w"), indent=2)
EOF

# smoke RT NAME: one run must exit 0 and leave no container behind.
smoke() {
    rt=$1 name=$2
    if ! "$rt" --root "$tmp/$name" run --bundle "$tmp/bundle" "bench-$name" \
            >"$tmp/$name.out" 2>&1; then
        echo "$name: run failed:" >&2
        sed 's/^/    /' "$tmp/$name.out" >&2
        return 1
    fi
    if "$rt" --root "$tmp/$name" list 2>/dev/null | grep -q "bench-$name"; then
        echo "$name: container still listed after run" >&2
        return 1
    fi
}

names=""
cmds=""
for name in crabcan runc crun; do
    case $name in
        crabcan) rt=$crabcan ;;
        *) rt=$(command -v "$name") ;;
    esac
    if [ ! -x "$rt" ]; then
        echo "$name: $rt is not an executable: skipped" >&2
        continue
    fi
    if ! smoke "$rt" "$name"; then
        echo "$name: failed the smoke run: skipped" >&2
        continue
    fi
    # hyperfine stops at the first non-zero exit, e.g. a leftover container.
    if hyperfine -N --warmup "$warmup" --runs "$runs" --style none \
            --export-json "$tmp/$name.json" \
            --command-name "$name" \
            "$rt --root $tmp/$name run --bundle $tmp/bundle bench-$name" >&2; then
        names="$names $name"
    else
        echo "$name: failed during the benchmark: skipped" >&2
    fi
done

if [ -z "$names" ]; then
    echo "$0: no runtime could run the bundle" >&2
    exit 1
fi

echo
echo "run of /bin/true (pid, ipc, uts, mount, network namespaces), $runs runs, $warmup warmup"
python3 - "$tmp" $names <<'EOF'
import json, sys
tmp, names = sys.argv[1], sys.argv[2:]
res = {n: json.load(open(f"{tmp}/{n}.json"))["results"][0] for n in names}
print(f"{'runtime':<10} {'median ms':>10} {'mean ± stddev ms':>20}")
for n in ("crabcan", "runc", "crun"):
    if n not in res:
        print(f"{n:<10} {'failed':>10}")
        continue
    r = res[n]
    mean = f"{r['mean'] * 1e3:.2f} ± {r['stddev'] * 1e3:.2f}"
    print(f"{n:<10} {r['median'] * 1e3:>10.2f} {mean:>20}")
for other in ("runc", "crun"):
    if "crabcan" in res and other in res:
        ratio = res["crabcan"]["median"] / res[other]["median"]
        print(f"crabcan/{other} (median): {ratio:.2f}")
if "crabcan" not in res:
    print("crabcan failed: no ratios")
EOF
