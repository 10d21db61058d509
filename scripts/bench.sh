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

# crun 1.8.1 refuses a hybrid cgroup host while the cgroup2 mount at /sys/fs/cgroup/unified holds a
# controller (here hugetlb): give the host the v1 layout systemd mounts (docs/design.md §7).
sh "$repo/scripts/cgroup-v1-layout.sh"

tmp=$(mktemp -d /tmp/crabcan-bench.XXXXXX)
trap 'rm -rf "$tmp"' EXIT INT TERM

# One bundle per scenario, shared by all runtimes: bundles/true/config.json with root.path made absolute
# (BENCH_ROOTFS can point anywhere); the "seccomp" scenario adds the default profile that `crabcan spec`
# writes, so every runtime loads the same filter.
make_bundle() {
    scenario=$1
    mkdir -p "$tmp/$scenario"
    profile=""
    if [ "$scenario" = seccomp ]; then
        mkdir -p "$tmp/spec"
        "$crabcan" spec --bundle "$tmp/spec" || return 1
        profile="$tmp/spec/config.json"
    fi
    python3 - "$repo/bundles/true/config.json" "$rootfs" "$tmp/$scenario/config.json" "$profile" <<'PY'
import json, sys
src, rootfs, dst, profile = sys.argv[1:]
config = json.load(open(src))
config["root"]["path"] = rootfs
if profile:
    config["linux"]["seccomp"] = json.load(open(profile))["linux"]["seccomp"]
json.dump(config, open(dst, "w"), indent=2)
PY
}

# smoke RT NAME BUNDLE: one run must exit 0 and leave no container behind.
smoke() {
    rt=$1 name=$2 bundle=$3
    if ! "$rt" --root "$tmp/$name" run --bundle "$bundle" "bench-$name" >"$tmp/$name.out" 2>&1; then
        echo "$name: run failed:" >&2
        sed 's/^/    /' "$tmp/$name.out" >&2
        return 1
    fi
    if "$rt" --root "$tmp/$name" list 2>/dev/null | grep -q "bench-$name"; then
        echo "$name: container still listed after run" >&2
        return 1
    fi
}

# measure SCENARIO: hyperfine each runtime on the scenario's bundle, then print the table and ratios.
measure() {
    scenario=$1
    bundle="$tmp/$scenario"
    names=""
    for name in crabcan runc crun; do
        case $name in
            crabcan) rt=$crabcan ;;
            *) rt=$(command -v "$name") ;;
        esac
        if [ ! -x "$rt" ]; then
            echo "$name: $rt is not an executable: skipped" >&2
            continue
        fi
        if ! smoke "$rt" "$name" "$bundle"; then
            echo "$name: failed the smoke run: skipped" >&2
            continue
        fi
        # hyperfine stops at the first non-zero exit, e.g. a leftover container.
        if hyperfine -N --warmup "$warmup" --runs "$runs" --style none \
                --export-json "$tmp/$scenario-$name.json" --command-name "$name" \
                "$rt --root $tmp/$name run --bundle $bundle bench-$name" >&2; then
            names="$names $name"
        else
            echo "$name: failed during the benchmark: skipped" >&2
        fi
    done
    echo
    echo "[$scenario] run of /bin/true (pid, ipc, uts, mount, network namespaces), $runs runs, $warmup warmup"
    if [ -z "$names" ]; then
        echo "no runtime could run the bundle"
        return
    fi
    python3 - "$tmp" "$scenario" $names <<'PY'
import json, sys
tmp, scenario, names = sys.argv[1], sys.argv[2], sys.argv[3:]
res = {n: json.load(open(f"{tmp}/{scenario}-{n}.json"))["results"][0] for n in names}
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
        print(f"crabcan/{other} (median): {res['crabcan']['median'] / res[other]['median']:.2f}")
if "crabcan" not in res:
    print("crabcan failed: no ratios")
PY
}

for scenario in ${BENCH_SCENARIOS:-plain seccomp}; do
    make_bundle "$scenario" || { echo "$scenario: could not make the bundle" >&2; continue; }
    measure "$scenario"
done
