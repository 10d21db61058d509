#!/bin/sh
# bench.sh RUNS PATH...: `make bench`'s paths (scripts/bench.py) inside the bench guest, a pure cgroup v2 host. The
# runtimes present (crabcan, runc, crun) take turns run by run, the order rotated each round; every runtime
# process is started and reaped by spawnrss (wall time, CPU of it and what it waited for, peak RSS). One line per
# sample on fd 3: "B PATH ROUND RUNTIME WALL_NS CPU_US RSS_KIB"; run.py takes the medians and ratios. A process
# that fails prints "FAIL PATH RUNTIME: exit N" and the path stops. Bundles are run.py's, in /b.
export PATH=/bin
RUNS=${1:-20}
shift
PATHS=${*:-run}
B=/b
WIDTH=20
COUNT=100
RUNTIMES=crabcan
for rt in runc crun; do [ -x /bin/$rt ] && RUNTIMES="$RUNTIMES $rt"; done
FLOORS="kernel mounts"

say() { echo "$*" >&3; }
# argv RUNTIME ARGS...: the command line of one runtime (a floor takes no arguments: it runs /bin/true in /rootfs).
argv() {
    local rt=$1; shift
    case $rt in
        kernel) echo /bin/floor /rootfs /bin/true ;;
        mounts) echo /bin/floor --mounts /rootfs /bin/true ;;
        *) echo /bin/$rt --root /run/root-$rt "$@" ;;
    esac
}
# rotated ROUND NAMES...: the names rotated left by ROUND modulo their count, as bench.py's interleave().
rotated() {
    local k=$(($1 % ($# - 1))) i=0 head="" tail=""
    shift
    for name in "$@"; do
        if [ $i -lt $k ]; then tail="$tail $name"; else head="$head $name"; fi
        i=$((i + 1))
    done
    echo $head $tail
}
# timed PATH RUNTIME ARGV...: sets WALL CPU RSS from one spawnrss run; false (and a FAIL line) when it failed,
# with what the same command says on stderr when run again (spawnrss gives it /dev/null).
timed() {
    local path=$1 rt=$2; shift 2
    local command="$*"
    set -- $(/bin/spawnrss "$@")
    WALL=$1 CPU=$2 RSS=$3
    [ "$4" = 0 ] && return 0
    say "FAIL $path $rt: exit $4: $($command 2>&1 </dev/null >/dev/null | head -n1)"
    return 1
}
sample() { say "B $1 $2 $3 $WALL $CPU $RSS"; }

# settle: until the CPUs are 90% idle over 0.1 s (at most 3 s), as bench.py's settle(): a deleted container's
# network namespace and cgroups are torn down by kernel workers after `delete` returns.
settle() {
    local tries=30
    while [ $tries -gt 0 ]; do
        set -- $(head -n1 /proc/stat); local busy0=$(($2 + $3 + $4 + $7 + $8 + $9)) idle0=$(($5 + $6))
        sleep 0.1
        set -- $(head -n1 /proc/stat); local busy1=$(($2 + $3 + $4 + $7 + $8 + $9)) idle1=$(($5 + $6))
        [ $(((idle1 - idle0) * 10)) -ge $((((busy1 - busy0) + (idle1 - idle0)) * 9)) ] && return 0
        tries=$((tries - 1))
    done
}

# Runs of one bundle (run, seccomp, docker); the floors join the plain run.
path_run() {
    local path=$1 bundle=$2 names=$RUNTIMES round=0
    [ "$path" = run ] && names="$RUNTIMES $FLOORS"
    while [ $round -lt $RUNS ]; do
        for rt in $(rotated $round $names); do
            timed $path $rt $(argv $rt run --bundle $B/bundle-$bundle b-run-$round) || return
            sample $path $round $rt
        done
        round=$((round + 1))
    done
}

# exec of /bin/true into a detached sleeper of each runtime.
path_exec() {
    local path=$1 bundle=$2 round=0
    for rt in $RUNTIMES; do
        $(argv $rt run -d --bundle $B/bundle-$bundle b-exec) </dev/null >/dev/null 2>&1 || { say "FAIL $path $rt: run -d"; return; }
    done
    while [ $round -lt $RUNS ]; do
        for rt in $(rotated $round $RUNTIMES); do
            timed $path $rt $(argv $rt exec b-exec /bin/true) || break 2
            sample $path $round $rt
        done
        round=$((round + 1))
    done
    for rt in $RUNTIMES; do $(argv $rt delete -f b-exec) >/dev/null 2>&1; done
}

# create + start + delete -f, summed (peak RSS: create's).
path_lifecycle() {
    local round=0
    while [ $round -lt $RUNS ]; do
        for rt in $(rotated $round $RUNTIMES); do
            local id=b-life-$round
            timed lifecycle $rt $(argv $rt create --bundle $B/bundle-true $id) || return
            local wall=$WALL cpu=$CPU rss=$RSS
            timed lifecycle $rt $(argv $rt start $id) || return
            wall=$((wall + WALL)) cpu=$((cpu + CPU))
            timed lifecycle $rt $(argv $rt delete -f $id) || return
            WALL=$((wall + WALL)) CPU=$((cpu + CPU)) RSS=$rss
            sample lifecycle $round $rt
        done
        round=$((round + 1))
    done
}

# batch FILE: the commands in FILE (one a line, arguments separated by tabs), WIDTH at a time; sets WALL CPU.
batch() {
    set -- $(/bin/spawnrss --batches $WIDTH < "$1")
    WALL=$1 CPU=$2
    [ "$4" = 0 ]
}
# tabbed ARGS...: one command line for spawnrss --batches.
tabbed() { echo "$*" | tr ' ' '\t'; }

# 100 creates, WIDTH at a time, then 100 deletes; the `mounts` floor runs 100 containers in the same batches.
path_parallel() {
    local round=0 rounds=$((RUNS / 4))
    [ $rounds -lt 3 ] && rounds=3
    while [ $round -lt $rounds ]; do
        for rt in $(rotated $round $RUNTIMES mounts); do
            settle
            local n=0
            : > /tmp/create; : > /tmp/delete
            while [ $n -lt $COUNT ]; do
                if [ $rt = mounts ]; then
                    tabbed $(argv mounts) >> /tmp/create
                else
                    tabbed $(argv $rt create --bundle $B/bundle-true b-par-$round-$n) >> /tmp/create
                    tabbed $(argv $rt delete -f b-par-$round-$n) >> /tmp/delete
                fi
                n=$((n + 1))
            done
            batch /tmp/create || { say "FAIL parallel $rt: a create failed"; return; }
            local wall=$WALL cpu=$CPU
            if [ $rt != mounts ]; then
                batch /tmp/delete || { say "FAIL parallel $rt: a delete failed"; return; }
                wall=$((wall + WALL)) cpu=$((cpu + CPU))
            fi
            WALL=$wall CPU=$cpu RSS=0
            sample parallel $round $rt
        done
        round=$((round + 1))
    done
}

say "INFO bench: runtimes $RUNTIMES; $RUNS runs; paths $PATHS"
for path in $PATHS; do
    started=$(cut -d' ' -f1 /proc/uptime)
    case $path in
        run) path_run run true ;;
        seccomp) path_run seccomp seccomp ;;
        docker) path_run docker docker; path_exec docker-exec docker-sleep ;;
        exec) path_exec exec sleep ;;
        lifecycle) path_lifecycle ;;
        parallel) path_parallel ;;
        *) say "FAIL $path: no such path" ;;
    esac
    say "INFO bench: $path took $(echo "$(cut -d' ' -f1 /proc/uptime) $started" | awk '{printf "%.0f", $1 - $2}') s"
done
for rt in $RUNTIMES; do
    for id in $($(argv $rt list -q) 2>/dev/null); do $(argv $rt delete -f $id) >/dev/null 2>&1; done
done
say "DONE"
