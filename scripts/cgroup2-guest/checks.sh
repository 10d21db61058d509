#!/bin/sh
# The checks of `make test-cgroup2`, run by guest-init.sh in a guest that is a pure cgroup v2 host. Each check prints
# one line to fd 3 (the guest's second serial port): "PASS <name>: <what it saw>", "FAIL <name>: <expected and
# seen>", "SKIP <name>: <why>"; "DIFF" lines say where runc (when present) wrote something else. Arguments: the
# check groups to run (default: all). Values are what runc writes on v2 (its fs2 driver and update command).
CG=/sys/fs/cgroup
B=/run/bundles
RUNC_ROOT=/run/runc
export PATH=/bin
mkdir -p $B

say() { echo "$*" >&3; }
pass() { say "PASS $1: $2"; }
fail() { say "FAIL $1: $2"; }
skip() { say "SKIP $1: $2"; }
# same NAME EXPECTED SEEN
same() { if [ "$2" = "$3" ]; then pass "$1" "$3"; else fail "$1" "expected [$2], saw [$3]"; fi; }
# A control file on one line ("default 500;252:0 300" for two lines); "<missing>" when there is none.
val() { if [ -e "$1" ]; then tr '\n' ';' < "$1" | sed 's/;$//'; else echo "<missing>"; fi; }
# crabcan, bounded; its stderr (one line on failure) lands in $err.
cc() { timeout 60 crabcan "$@" 2>/tmp/cc.err; rc=$?; err=$(tr '\n' ' ' < /tmp/cc.err); return $rc; }
status() { crabcan state "$1" 2>/dev/null | sed -n 's/.*"status": *"\([a-z]*\)".*/\1/p'; }
# until SECONDS COMMAND...: polls every 0.1 s.
until_true() {
    local tries=$(($1 * 10)); shift
    while [ $tries -gt 0 ]; do "$@" && return 0; tries=$((tries - 1)); sleep 0.1; done
    return 1
}
# has_procs N DIR: N processes listed in DIR/cgroup.procs (pids.current also counts a child still in fork).
has_procs() { [ "$(wc -l < $2/cgroup.procs)" = "$1" ]; }
is_empty() { [ -z "$(cat "$1" 2>/dev/null)" ]; }
is_stopped() { [ "$(status "$1")" = stopped ]; }

DENY='"devices": [{"allow": false, "access": "rwm"}]'
# mkb NAME RESOURCES [crabcan spec flags...] [-- ARGS...]: a bundle in $B/NAME from `crabcan spec` with its
# linux.resources replaced by { RESOURCES } (keep $DENY in it for the default deny-all).
mkb() {
    local name=$1 resources=$2
    shift 2
    rm -rf "$B/$name" && mkdir -p "$B/$name"
    if ! crabcan spec --bundle "$B/$name" --rootfs /rootfs --hostname "$name" "$@" 2>/tmp/spec.err; then
        fail "$name" "crabcan spec: $(cat /tmp/spec.err)"
        return 1
    fi
    sed -i "/^    \"resources\": {\$/,/^    },\$/c\\    \"resources\": { $resources }," "$B/$name/config.json"
    # A cgroup namespace of its own, so the container sees its cgroup as / (runc's `spec`, which crabcan's now
    # matches, has none).
    sed -i 's|^    "namespaces": \[$|&\n      { "type": "cgroup" },|' "$B/$name/config.json"
}
# started ID BUNDLE: create + start, stdio away from our pipes.
started() {
    cc create --bundle "$B/$2" "$1" </dev/null >/dev/null && cc start "$1" </dev/null >/dev/null && return 0
    fail "$1" "create/start: $err"
    return 1
}
gone() { cc delete --force "$1" || fail "$1/delete" "$err"; }

# rcheck NAME RESOURCES EXPECTED: a created container with RESOURCES; each "file=value" line of EXPECTED is
# compared with the file in its cgroup. With runc in the guest the same config goes to runc too, and every file
# where the two wrote different values gets a DIFF line.
rcheck() {
    local name=$1 expected=$3
    mkb "$name" "$2" -- sleep 1000 || return
    if ! cc create --bundle "$B/$name" "$name" </dev/null >/dev/null; then
        fail "$name" "create: $err"
        return
    fi
    echo "$expected" | while IFS='=' read -r file want; do
        [ -n "$file" ] && same "$name $file" "$want" "$(val $CG/crabcan/$name/$file)"
    done
    if [ -x /bin/runc ]; then
        mkdir -p "$B/$name-runc"
        sed 's|^  "linux": {$|  "linux": { "cgroupsPath": "/runc/'"$name"'",|' "$B/$name/config.json" > "$B/$name-runc/config.json"
        if timeout 60 runc --root $RUNC_ROOT create --bundle "$B/$name-runc" "$name" </dev/null >/dev/null 2>/tmp/runc.err; then
            echo "$expected" | while IFS='=' read -r file want; do
                [ -n "$file" ] || continue
                mine=$(val $CG/crabcan/$name/$file) theirs=$(val $CG/runc/$name/$file)
                [ "$mine" = "$theirs" ] || say "DIFF $name $file: crabcan [$mine], runc 1.1.5 [$theirs]"
            done
            timeout 60 runc --root $RUNC_ROOT delete --force "$name" 2>/dev/null
        else
            say "DIFF $name: runc refused the config: $(tr '\n' ' ' < /tmp/runc.err)"
        fi
    fi
    gone "$name"
}

# --- groups ---------------------------------------------------------------------------------------------------

group_features() {
    local f
    f=$(crabcan features)
    echo "$f" | grep -q '"v2": true' && pass features/v2 '"v2": true' || fail features/v2 "no \"v2\": true in features"
    # The systemd driver is built in (features says so, as runc's does); this guest has no systemd, so a container
    # asked of it is refused in one line, before anything exists (the driver itself runs in make test-systemd).
    echo "$f" | grep -q '"systemd": true' && pass features/systemd '"systemd": true (driver built in)' \
        || fail features/systemd "features does not say systemd true"
    mkb chk "$DENY" -- true || return
    if cc --systemd-cgroup create --bundle $B/chk sd </dev/null >/dev/null; then
        fail features/systemd-cgroup-refused "create --systemd-cgroup succeeded without systemd"; gone sd
    else
        [ ! -e /run/crabcan/sd ] && [ ! -e $CG/crabcan/sd ] && echo "$err" | grep -q 'cannot reach systemd' \
            && pass features/systemd-cgroup-refused "exit $rc: $err" \
            || fail features/systemd-cgroup-refused "left a state dir or cgroup, or another error: $err"
    fi
    same check/default-bundle "$B/chk/config.json: ok" "$(crabcan check --bundle $B/chk 2>&1)"
}

group_devices() {
    local out probe
    probe='head -c1 /dev/zero | wc -c; echo x > /dev/null && echo null=ok; (echo x > /dev/full) 2>&1 | grep -q "No space" && echo full=ENOSPC
(: < /dev/kmsg) 2>&1 | sed "s/.*: //"; (: > /dev/kmsg) 2>&1 | sed "s/.*: //"; echo end'
    # /dev/kmsg (c 1:11) is bound in but not allowed by the default rules: the device program must refuse it
    # (CAP_SYSLOG, which reading it also needs, is given so that only the device rules decide).
    mkb dev "$DENY" --bind /dev/kmsg:/dev/kmsg --cap-add CAP_SYSLOG -- sh -c "$probe" || return
    out=$(cc run --bundle $B/dev dev </dev/null) || fail devices/default "run: $err"
    same devices/default-rules "1 null=ok full=ENOSPC Operation not permitted Operation not permitted end" "$(echo $out)"
    mkb dev-r "\"devices\": [{\"allow\": false, \"access\": \"rwm\"}, {\"allow\": true, \"type\": \"c\", \"major\": 1, \"minor\": 11, \"access\": \"r\"}]" \
        --bind /dev/kmsg:/dev/kmsg --cap-add CAP_SYSLOG -- sh -c "$probe" || return
    # An allow for reading only: the open for reading works, the one for writing is refused.
    out=$(cc run --bundle $B/dev-r dev-r </dev/null) || fail devices/allow-read "run: $err"
    same devices/allow-read-only "1 null=ok full=ENOSPC Operation not permitted end" "$(echo $out)"
    # A deny after an allow wins for what it names (the last matching rule decides, as in v1's lists).
    mkb dev-deny "\"devices\": [{\"allow\": false, \"access\": \"rwm\"}, {\"allow\": true, \"type\": \"c\", \"major\": 1, \"minor\": 11, \"access\": \"rw\"}, {\"allow\": false, \"type\": \"c\", \"major\": 1, \"minor\": 11, \"access\": \"w\"}]" \
        --bind /dev/kmsg:/dev/kmsg --cap-add CAP_SYSLOG -- sh -c "$probe" || return
    out=$(cc run --bundle $B/dev-deny dev-deny </dev/null) || fail devices/deny-after-allow "run: $err"
    same devices/deny-after-allow "1 null=ok full=ENOSPC Operation not permitted end" "$(echo $out)"
}

group_memory() {
    rcheck memory "$DENY, \"memory\": {\"limit\": 67108864, \"reservation\": 33554432, \"swap\": 100663296}" \
"memory.max=67108864
memory.low=33554432
memory.swap.max=33554432"
    rcheck memory-noswap "$DENY, \"memory\": {\"limit\": 67108864, \"swap\": 67108864}" \
"memory.max=67108864
memory.swap.max=0"
    rcheck memory-unlimited "$DENY, \"memory\": {\"limit\": -1}" \
"memory.max=max
memory.swap.max=max"
    # Fields v2 has no file for are ignored, as runc ignores them there: the container is still created.
    rcheck memory-v1-only "$DENY, \"memory\": {\"limit\": 67108864, \"kernel\": 33554432, \"kernelTCP\": 16777216, \"swappiness\": 10, \"disableOOMKiller\": true}" \
"memory.max=67108864
memory.oom.group=0"
}

group_cpu() {
    rcheck cpu "$DENY, \"cpu\": {\"shares\": 1024, \"quota\": 50000, \"period\": 100000, \"burst\": 10000}" \
"cpu.weight=39
cpu.max=50000 100000
cpu.max.burst=10000"
    rcheck cpu-quota-only "$DENY, \"cpu\": {\"quota\": 25000}" "cpu.max=25000 100000"
    rcheck cpu-period-only "$DENY, \"cpu\": {\"period\": 50000}" "cpu.max=max 50000"
    rcheck cpu-shares-bounds "$DENY, \"cpu\": {\"shares\": 262144}" "cpu.weight=10000"
    rcheck cpu-idle "$DENY, \"cpu\": {\"idle\": 1}" "cpu.idle=1"
    # The quota is enforced: a busy loop at 10% of a CPU gets throttled.
    mkb cpu-busy "$DENY, \"cpu\": {\"quota\": 10000, \"period\": 100000}" -- sh -c 'while :; do :; done' || return
    started cpu-busy cpu-busy || return
    sleep 1
    local throttled
    throttled=$(sed -n 's/^nr_throttled //p' $CG/crabcan/cpu-busy/cpu.stat)
    [ "${throttled:-0}" -gt 0 ] && pass cpu/quota-enforced "cpu.stat nr_throttled $throttled after 1 s of a busy loop" \
        || fail cpu/quota-enforced "cpu.stat: $(val $CG/crabcan/cpu-busy/cpu.stat)"
    gone cpu-busy
}

group_cpuset() {
    rcheck cpuset "$DENY, \"cpu\": {\"cpus\": \"1\", \"mems\": \"0\"}" \
"cpuset.cpus=1
cpuset.mems=0"
    mkb cpuset-seen "$DENY, \"cpu\": {\"cpus\": \"1\"}" -- sh -c 'grep Cpus_allowed_list /proc/self/status' || return
    same cpuset/seen-inside "Cpus_allowed_list: 1" "$(cc run --bundle $B/cpuset-seen cpuset-seen </dev/null | tr '\t' ' ')"
}

# Booted third, on an older kernel (OLDER_KERNEL_SUITE: Debian 11's 5.10). What the kernel lacks is refused by the
# field that asks for it, and a child is not born in its cgroup where fork would leave it its parent's cpuset
# (before Linux 6.3; the cpuset group checks what the container sees).
group_olderkernel() {
    mkb old-burst "$DENY, \"cpu\": {\"burst\": 10000}" -- true || return
    cc create --bundle $B/old-burst old-burst </dev/null >/dev/null
    same olderkernel/burst-refused-by-name "exit 1: .linux.resources.cpu.burst: this kernel has no cpu.max.burst (Linux 5.14)" \
        "exit $?: $(echo "$err" | grep -o '\.linux\.resources\.cpu\.burst: [^)]*)')"
    same olderkernel/burst-leaves-nothing "" "$(ls -d /run/crabcan/old-burst $CG/crabcan/old-burst 2>/dev/null)"
    mkb old-place "$DENY, \"cpu\": {\"cpus\": \"1\"}" -- true || return
    crabcan --debug --log /tmp/old-place.log run --bundle $B/old-place old-place </dev/null >/dev/null 2>&1
    same olderkernel/placed-through-cgroup-procs "exit 0: 0 1" \
        "exit $?: $(grep -c 'place (born in its cgroup)' /tmp/old-place.log) $(grep -c 'took.*, place [0-9]' /tmp/old-place.log)"
}

group_io() {
    local dev major minor
    if [ ! -e /sys/block/nullb0/dev ]; then
        insmod /modules/configfs.ko 2>/dev/null
        insmod /modules/null_blk.ko nr_devices=1 || { skip io "null_blk did not load"; return; }
    fi
    dev=$(cat /sys/block/nullb0/dev); major=${dev%:*} minor=${dev#*:}
    local throttle="\"throttleReadBpsDevice\": [{\"major\": $major, \"minor\": $minor, \"rate\": 1048576}], \"throttleWriteIOPSDevice\": [{\"major\": $major, \"minor\": $minor, \"rate\": 100}]"
    # Without BFQ: blkio.weight converted to io.weight's range (runc ConvertBlkIOToIOWeightValue).
    if [ ! -e $CG/driver/io.bfq.weight ]; then
        rcheck io-weight "$DENY, \"blockIO\": {\"weight\": 500}" "io.weight=default 4950"
    fi
    rcheck io-max "$DENY, \"blockIO\": {$throttle}" "io.max=$dev rbps=1048576 wbps=max riops=max wiops=100"
    # The read limit is enforced: 2 MiB at 1 MiB/s takes a second or more (unlimited: well under).
    # linux.devices makes the node; only a resources rule lets the container read it (as runc).
    mkb io-slow "\"devices\": [{\"allow\": false, \"access\": \"rwm\"}, {\"allow\": true, \"type\": \"b\", \"major\": $major, \"minor\": $minor, \"access\": \"r\"}], \"blockIO\": {$throttle}" -- sh -c \
        'a=$(cut -d" " -f1 /proc/uptime); dd if=/dev/nullb0 of=/dev/null bs=64k count=32 iflag=direct 2>/dev/null; b=$(cut -d" " -f1 /proc/uptime); echo "$a $b"' || return
    sed -i "s|^  \"linux\": {\$|  \"linux\": { \"devices\": [{\"path\": \"/dev/nullb0\", \"type\": \"b\", \"major\": $major, \"minor\": $minor}],|" $B/io-slow/config.json
    local times
    times=$(cc run --bundle $B/io-slow io-slow </dev/null) || fail io/max-enforced "run: $err"
    if [ -n "$times" ] && awk -v t="$times" 'BEGIN { split(t, x, " "); exit !(x[2] - x[1] >= 0.9) }'; then
        pass io/max-enforced "2 MiB read at rbps=1048576 took $(echo $times | awk '{ printf "%.2f", $2 - $1 }') s"
    else
        fail io/max-enforced "2 MiB read at rbps=1048576: uptime before/after [$times]"
    fi
    # With BFQ (the module loaded, nullb0 scheduled by it): io.bfq.weight takes the weight as is, and weightDevice.
    insmod /modules/bfq.ko 2>/dev/null
    echo bfq > /sys/block/nullb0/queue/scheduler 2>/dev/null
    if [ -e $CG/driver/io.bfq.weight ]; then
        rcheck io-bfq-weight "$DENY, \"blockIO\": {\"weight\": 500, \"weightDevice\": [{\"major\": $major, \"minor\": $minor, \"weight\": 300}]}" \
"io.bfq.weight=default 500;$dev 300
io.weight=default 100"
    else
        skip io-bfq-weight "bfq did not load"
    fi
}

group_hugetlb() {
    if [ ! -d /sys/kernel/mm/hugepages/hugepages-2048kB ]; then skip hugetlb "no 2 MiB huge pages"; return; fi
    rcheck hugetlb "$DENY, \"hugepageLimits\": [{\"pageSize\": \"2MB\", \"limit\": 4194304}]" \
"hugetlb.2MB.max=4194304
hugetlb.2MB.rsvd.max=4194304"
}

group_pids() {
    rcheck pids "$DENY, \"pids\": {\"limit\": 20}" "pids.max=20"
    # The limit is enforced: forks past it fail (ash gives up the subshell at the first "can't fork"), the count
    # stays within it and pids.events counts the refusals.
    mkb pids-full "$DENY, \"pids\": {\"limit\": 5}" -- sh -c \
        '(i=0; while [ $i -lt 10 ]; do sleep 30 & i=$((i+1)); done) 2>/dev/null; cat /sys/fs/cgroup/pids.events; n=$(cat /sys/fs/cgroup/pids.current); [ $n -le 5 ] && echo "current $n"' || return
    local out
    out=$(cc run --bundle $B/pids-full pids-full </dev/null)
    case "$(echo $out)" in
        "max "[1-9]*" current "[1-5]) pass pids/limit-enforced "$(echo $out)" ;;
        *) fail pids/limit-enforced "expected [max <n>0> current <n<=5>], saw [$(echo $out)] $err" ;;
    esac
}

group_rdma() {
    if ! grep -qw rdma $CG/cgroup.controllers; then skip rdma "no rdma controller"; return; fi
    if [ -n "$(ls /sys/class/infiniband 2>/dev/null)" ]; then skip rdma "an RDMA device exists; only the refusal is checked"; return; fi
    # No RDMA device in the guest: the kernel refuses rdma.max; create must say so and leave nothing.
    mkb rdma "$DENY, \"rdma\": {\"mlx5_0\": {\"hcaHandles\": 3, \"hcaObjects\": 10000}}" -- true || return
    if cc create --bundle $B/rdma rdma </dev/null >/dev/null; then
        fail rdma/no-device "create succeeded; rdma.max: $(val $CG/crabcan/rdma/rdma.max)"
        gone rdma
    else
        case "$err" in
            *rdma.max*) pass rdma/no-device "create refused: $err" ;;
            *) fail rdma/no-device "create refused without naming rdma.max: $err" ;;
        esac
        [ ! -e $CG/crabcan/rdma ] && [ ! -e /run/crabcan/rdma ] && pass rdma/nothing-left "no cgroup, no state dir" \
            || fail rdma/nothing-left "left: $(ls -d $CG/crabcan/rdma /run/crabcan/rdma 2>/dev/null)"
    fi
}

group_unified() {
    rcheck unified "$DENY, \"pids\": {\"limit\": 20}, \"unified\": {\"pids.max\": \"7\", \"memory.high\": \"67108864\", \"cpu.weight.nice\": \"5\"}" \
"pids.max=7
memory.high=67108864
cpu.weight.nice=5"
}

group_oom() {
    mkb oom "$DENY, \"memory\": {\"limit\": 33554432, \"swap\": 33554432}" -- sh -c 'tail /dev/zero' || return
    cc create --bundle $B/oom oom </dev/null >/dev/null || { fail oom "create: $err"; return; }
    timeout 120 crabcan events --interval 100ms oom > /tmp/oom.events 2>&1 &
    local events=$! kills
    sleep 0.5
    cc start oom || fail oom/start "$err"
    until_true 60 is_stopped oom || fail oom/stopped "status $(status oom) after 60 s"
    kills=$(sed -n 's/^oom_kill //p' $CG/crabcan/oom/memory.events)
    [ "${kills:-0}" -ge 1 ] && pass oom/killed "memory.events: $(val $CG/crabcan/oom/memory.events)" \
        || fail oom/killed "memory.events: $(val $CG/crabcan/oom/memory.events)"
    wait $events
    grep -q '"type":"oom"' /tmp/oom.events && pass oom/event "$(grep -o '{"type":"oom"[^}]*}' /tmp/oom.events | head -1)" \
        || fail oom/event "no oom event in: $(head -c 300 /tmp/oom.events)"
    gone oom
    cc run --bundle $B/oom oom-run </dev/null >/dev/null
    same oom/run-exit-status 137 "$rc"
}

group_freeze() {
    mkb frz "$DENY" -- sh -c 'while :; do :; done' || return
    started frz frz || return
    local d=$CG/crabcan/frz u1 u2 u3
    cc pause frz || fail freeze/pause "$err"
    same freeze/status-paused paused "$(status frz)"
    same freeze/cgroup.freeze 1 "$(val $d/cgroup.freeze)"
    grep -q '^frozen 1$' $d/cgroup.events && pass freeze/cgroup.events "$(val $d/cgroup.events)" \
        || fail freeze/cgroup.events "$(val $d/cgroup.events)"
    u1=$(sed -n 's/^usage_usec //p' $d/cpu.stat); sleep 1; u2=$(sed -n 's/^usage_usec //p' $d/cpu.stat)
    same freeze/no-cpu-while-frozen "$u1" "$u2"
    cc resume frz || fail freeze/resume "$err"
    same freeze/status-running running "$(status frz)"
    grep -q '^frozen 0$' $d/cgroup.events && pass freeze/thawed "$(val $d/cgroup.events)" || fail freeze/thawed "$(val $d/cgroup.events)"
    sleep 1; u3=$(sed -n 's/^usage_usec //p' $d/cpu.stat)
    [ "$u3" -gt "$u2" ] && pass freeze/cpu-after-resume "usage_usec $u2 -> $u3" || fail freeze/cpu-after-resume "usage_usec $u2 -> $u3"
    # A paused container can be deleted by force (cgroup.kill reaches frozen tasks).
    cc pause frz || fail freeze/pause-again "$err"
    cc delete --force frz && pass freeze/delete-force-paused "deleted" || fail freeze/delete-force-paused "$err"
    [ ! -e $d ] && [ ! -e /run/crabcan/frz ] && pass freeze/nothing-left "no cgroup, no state dir" \
        || fail freeze/nothing-left "left: $(ls -d $d /run/crabcan/frz 2>/dev/null)"
}

group_kill() {
    mkb kil "$DENY" -- sh -c 'sleep 1000 & sleep 1000 & wait' || return
    local i=1 bad="" id d
    while [ $i -le 20 ]; do
        id=kil-$i d=$CG/crabcan/kil-$i
        started $id kil || return
        until_true 10 has_procs 3 $d
        if ! cc kill --all $id KILL; then bad="$bad [$id: exit $rc: $err]"; fi
        until_true 10 is_empty $d/cgroup.procs || bad="$bad [$id: still $(val $d/cgroup.procs)]"
        until_true 10 is_stopped $id || bad="$bad [$id: status $(status $id)]"
        cc delete $id || bad="$bad [$id: delete: $err]"
        [ -e $d ] && bad="$bad [$id: cgroup left]"
        i=$((i + 1))
    done
    [ -z "$bad" ] && pass kill/all-KILL "20 times: exit 0, cgroup empty, stopped, deleted" || fail kill/all-KILL "$bad"
    # TERM to every process: the two children die, pid 1 of the namespace (no handler) ignores it and stays.
    mkb kil-term "$DENY" -- sh -c 'sleep 1000 & sleep 1000 & exec sleep 1000' || return
    id=kil-term d=$CG/crabcan/kil-term
    started $id kil-term || return
    until_true 10 has_procs 3 $d
    cc kill --all $id TERM || fail kill/all-TERM "exit $rc: $err"
    # (Its dead children stay zombies, unreaped by sleep, so pids.current still counts them: cgroup.procs does not.)
    until_true 10 has_procs 1 $d
    same kill/all-TERM "1 process, running" "$(wc -l < $d/cgroup.procs) process, $(status $id)"
    gone $id
}

group_update() {
    mkb upd "$DENY, \"memory\": {\"limit\": 67108864}, \"cpu\": {\"quota\": 50000, \"period\": 100000}, \"pids\": {\"limit\": 100}" -- sleep 1000 || return
    started upd upd || return
    local d=$CG/crabcan/upd weight_file weight
    # u NAME FLAGS FILE=VALUE...: `crabcan update FLAGS upd`, then each file.
    u() {
        local name=$1 flags=$2 kv
        shift 2
        if ! cc update $flags upd; then fail "update/$name" "crabcan update $flags: $err"; return; fi
        for kv in "$@"; do same "update/$name ${kv%%=*}" "${kv#*=}" "$(val $d/${kv%%=*})"; done
    }
    u memory "--memory 100m" memory.max=104857600
    u memory-reservation "--memory-reservation 50m" memory.low=52428800
    u memory-swap "--memory-swap 200m" memory.swap.max=104857600 memory.max=104857600
    u cpu-shares "--cpu-shares 512" cpu.weight=20
    u cpu-quota "--cpu-quota 30000" "cpu.max=30000 100000"
    u cpu-period "--cpu-period 200000" "cpu.max=30000 200000"
    u cpuset-cpus "--cpuset-cpus 0" cpuset.cpus=0
    u cpuset-mems "--cpuset-mems 0" cpuset.mems=0
    u pids-limit "--pids-limit 50" pids.max=50
    if [ -e $d/io.bfq.weight ]; then weight_file=io.bfq.weight weight="default 300"
    else weight_file=io.weight weight="default $((1 + (300 - 10) * 9999 / 990))"; fi
    u blkio-weight "--blkio-weight 300" "$weight_file=$weight"
    u all-together "--memory 80m --memory-swap 160m --cpu-shares 2048 --cpu-quota 40000 --cpu-period 100000 --cpuset-cpus 1 --pids-limit 30" \
        memory.max=83886080 memory.swap.max=83886080 cpu.weight=$((1 + (2048 - 2) * 9999 / 262142)) "cpu.max=40000 100000" cpuset.cpus=1 pids.max=30
    echo '{"memory": {"limit": 75497472}, "cpu": {"shares": 4096, "cpus": "0-1"}, "pids": {"limit": 40}, "unified": {"memory.high": "70000640"}}' > /tmp/update.json
    u resources-file "-r /tmp/update.json" memory.max=75497472 cpu.weight=$((1 + (4096 - 2) * 9999 / 262142)) cpuset.cpus=0-1 pids.max=40 memory.high=70000640
    cc pause upd || fail update/pause "$err"
    u while-paused "--pids-limit 60" pids.max=60
    cc resume upd || fail update/resume "$err"
    gone upd
}

group_exec() {
    mkb exe "$DENY" -- sleep 1000 || return
    started exe exe || return
    same exec/cgroup-inside "0::/" "$(cc exec exe cat /proc/self/cgroup </dev/null)"
    cc exec --detach exe sleep 999 </dev/null >/dev/null || fail exec/detach "$err"
    local pids p where="" count=0
    pids=$(cc ps --format json exe | tr -d '[] ' | tr ',' ' ')
    for p in $pids; do
        count=$((count + 1))
        where="$where $(cat /proc/$p/cgroup)"
    done
    same exec/ps-count 2 "$count"
    same exec/host-cgroup-of-each "0::/crabcan/exe 0::/crabcan/exe" "$(echo $where)"
    same exec/ps-matches-cgroup.procs "$(echo $(sort -n $CG/crabcan/exe/cgroup.procs))" "$(echo $(for p in $pids; do echo $p; done | sort -n))"
    # On v2 the exec'd process and the init are cloned straight into the container's cgroup (clone3
    # CLONE_INTO_CGROUP): --debug's phase trace says so, and nothing wrote a pid to cgroup.procs.
    local trace
    crabcan --debug --log /tmp/born-exec.log exec exe true </dev/null >/dev/null 2>&1
    same exec/born-in-its-cgroup 1 "$(grep -c 'place (born in its cgroup)' /tmp/born-exec.log)"
    gone exe
    mkb born "$DENY" -- true || return
    # (The init keeps create's stdio: a pipe here would never see its end.)
    crabcan --debug --log /tmp/born-create.log create --bundle "$B/born" born </dev/null >/dev/null 2>&1
    same create/born-in-its-cgroup 1 "$(grep -c 'place (born in its cgroup)' /tmp/born-create.log)"
    # This config's init shares crabcan's memory until its execve (docs/design.md §2), born in its cgroup all the
    # same (clone3 with a stack of its own); it enters a tree namespace (7.x) or the template namespace as well.
    same create/born-sharing-memory 1 "$(grep -cE 'took.*, clone \(((tree|template) namespace, )?shared memory\) [0-9]' /tmp/born-create.log)"
    same create/born-in-its-cgroup-procs "$(cat $CG/crabcan/born/cgroup.procs)" "$(crabcan state born | sed -n 's/.*"pid": *\([0-9]*\).*/\1/p')"
    gone born
}

# The container's mount namespace. On a kernel with open_tree(OPEN_TREE_NAMESPACE) (Linux 7.0) crabcan makes it
# of the rootfs alone (`clone (tree namespace, shared memory)` in --debug's trace) instead of copying the host's.
# On an older one the first create that succeeds copies, as before, and makes the template namespace
# (/run/crabcan/@mount-template/mnt, an empty read-only tmpfs), which every later init copies and covers with the
# rootfs (`clone (template namespace, shared memory)`). Either way the container must see the same mounts, none
# of the host's, and nothing it mounts may reach the host.
group_treens() {
    # How the init was made, as --debug's trace names the step (an ERE).
    local major=$(uname -r | cut -d. -f1) want='clone \(template namespace, shared memory\)' out hostmounts templates=1
    [ "$major" -ge 7 ] && want='clone \(tree namespace, shared memory\)' templates=0
    # A first container, which makes the template where it is used (the groups may run alone).
    mkb tnt "$DENY" -- true || return
    cc run --bundle "$B/tnt" tnt </dev/null >/dev/null
    same treens/template-made $templates "$(grep -c ' /run/crabcan/@mount-template/mnt .* - nsfs ' /proc/self/mountinfo)"
    mkdir -p /srv/share /srv/ro /tmp/host-only
    echo shared > /srv/share/file; echo ro > /srv/ro/file; echo hostname-of-host > /srv/hostname
    # A host mount the container must not see: never in a tree or template namespace (a copy's pivot_root detaches it).
    mount -t tmpfs host-only-marker /tmp/host-only
    # A mount inside the rootfs, which the container gets too: a tree namespace's copy starts in the host's peer
    # group, where an unmount inside would unmount the host's (seen in a probe): the container's must not.
    mkdir -p /rootfs/sub && mount -t tmpfs sub-marker /rootfs/sub
    mkb tns "$DENY" -- sleep 1000 || return
    sed -i 's|^  "mounts": \[$|&\n    { "destination": "/share", "type": "bind", "source": "/srv/share", "options": ["rbind", "rprivate"] },\n    { "destination": "/share/nested", "type": "tmpfs", "source": "nested-marker" },\n    { "destination": "/ro", "type": "bind", "source": "/srv/ro", "options": ["bind", "ro"] },\n    { "destination": "/etc/hostname", "type": "bind", "source": "/srv/hostname", "options": ["bind", "ro"] },|' "$B/tns/config.json"
    hostmounts=$(wc -l < /proc/self/mountinfo)
    crabcan --debug --log /tmp/tns.log create --bundle "$B/tns" tns </dev/null >/dev/null 2>&1
    cc start tns </dev/null >/dev/null || { fail treens/start "$err"; gone tns; umount /tmp/host-only /rootfs/sub; return; }
    same treens/how-made 1 "$(grep -cE "took.*, $want [0-9]" /tmp/tns.log)"
    # A mount the config puts under a bind (made before the container's mounts go private) stays in the container:
    # a copied bind source starts in its source's peer group.
    same treens/nested-mount-not-on-host 0 "$(grep -c nested-marker /proc/self/mountinfo)"
    same treens/nested-mount-inside 1 "$(cc exec tns grep -c nested-marker /proc/self/mountinfo </dev/null)"
    out=$(cc exec tns cat /share/file /ro/file /etc/hostname </dev/null | tr '\n' ';')
    same treens/binds-seen "shared;ro;hostname-of-host;" "$out"
    out=$(cc exec tns sh -c 'touch /ro/x 2>&1 | sed "s/.*: //"; touch /share/y && echo written' </dev/null | tr '\n' ';')
    same treens/ro-bind-and-rw-bind "Read-only file system;written;" "$out"
    same treens/written-through-to-host yes "$([ -e /srv/share/y ] && echo yes)"
    # (A bind's root field names its source's path in the file system: the mount point, field 5, is what counts.)
    out=$(cc exec tns cat /proc/self/mountinfo </dev/null | awk '$5 ~ "^/(srv|run|tmp)" || /host-only-marker/' | wc -l)
    same treens/no-host-mounts-inside 0 "$out"
    same treens/root-is-the-rootfs "bin;dev;etc;proc;ro;share;sys;" "$(cc exec tns ls / </dev/null | grep -x -e bin -e dev -e etc -e proc -e ro -e share -e sys | tr '\n' ';')"
    same treens/dotdot-stays-at-root "$(cc exec tns ls / </dev/null | tr '\n' ' ')" "$(cc exec tns ls /../.. </dev/null | tr '\n' ' ')"
    # A mount made in the container (CAP_SYS_ADMIN for this exec) stays in it; one the host makes under a bind's
    # source after create does not come in (the container's mounts are private, as after a copy's rprivate).
    out=$(cc exec --cap CAP_SYS_ADMIN tns sh -c 'mount -t tmpfs inside-marker /share && mount -t tmpfs inside-marker /tmp && echo mounted' </dev/null)
    same treens/mount-inside mounted "$out"
    same treens/inside-mount-not-on-host 0 "$(grep -c inside-marker /proc/self/mountinfo)"
    same treens/host-file-not-hidden shared "$(cat /srv/share/file)"
    same treens/unmount-inside "unmounted" "$(cc exec --cap CAP_SYS_ADMIN tns sh -c 'umount /sub && echo unmounted' </dev/null)"
    same treens/unmount-inside-not-on-host 1 "$(grep -c sub-marker /proc/self/mountinfo)"
    mkdir -p /srv/ro/late && mount -t tmpfs late-marker /srv/ro/late
    same treens/host-mount-not-inside 0 "$(cc exec tns grep -c late-marker /proc/self/mountinfo </dev/null)"
    umount /srv/ro/late
    same treens/host-mount-count "$hostmounts" "$(wc -l < /proc/self/mountinfo)"
    gone tns
    same treens/host-mount-count-after-delete "$hostmounts" "$(wc -l < /proc/self/mountinfo)"
    # A mount the kernel refuses half-way through the set-up: create fails, and the host is as it was.
    mkb tnf "$DENY" -- true || return
    sed -i 's|^  "mounts": \[$|&\n    { "destination": "/share", "type": "bind", "source": "/srv/share", "options": ["rbind"] },\n    { "destination": "/bad", "type": "nosuchfs", "source": "none" },|' "$B/tnf/config.json"
    cc create --bundle "$B/tnf" tnf </dev/null >/dev/null
    same treens/refused-mount-fails "exit 1, names /bad" "exit $?, $(echo "$err" | grep -q '/bad' && echo names /bad)"
    same treens/refused-mount-leaves-nothing "$hostmounts;;" \
        "$(wc -l < /proc/self/mountinfo);$(ls -d /run/crabcan/tnf $CG/crabcan/tnf 2>/dev/null);$(pgrep -f 'crabcan.*tnf')"
    # A caller without CAP_SYS_CHROOT (18), which setns into the tree namespace and its chroots need and the copy's
    # pivot_root does not, keeps the copy, and runs.
    mkb tnc "$DENY" -- echo ran || return
    capdrop 18 /bin/crabcan --debug --log /tmp/tnc.log run --bundle "$B/tnc" tnc </dev/null >/tmp/tnc.out 2>&1
    same treens/without-sys-chroot "exit 0: ran 1" "exit $?: $(tr '\n' ' ' < /tmp/tnc.out)$(grep -cE 'took.*, clone( \(shared memory\))? [0-9]' /tmp/tnc.log)"
    # Where the namespace must be a copy (a createContainer hook runs against the rootfs's host path), it is one.
    mkb tnh "$DENY" -- true || return
    sed -i 's|^  "mounts": \[$|  "hooks": { "createContainer": [ { "path": "/bin/sh", "args": ["sh", "-c", "test -d /rootfs/bin"] } ] },\n&|' "$B/tnh/config.json"
    crabcan --debug --log /tmp/tnh.log run --bundle "$B/tnh" tnh </dev/null >/dev/null 2>&1
    local rc=$?
    same treens/hook-keeps-the-copy "0 exit 0" "$(grep -cE '(tree|template) namespace' /tmp/tnh.log) exit $rc"
    umount /tmp/host-only /rootfs/sub && rmdir /rootfs/sub
    # In a user namespace bind sources are copies too (the container's root may not reach them): a mount the config
    # nests under one stays in the container there as well.
    mkdir -p $B/tnu && crabcan spec --rootless --bundle $B/tnu --rootfs /rootfs -- sh -c 'grep -c userns-nested /proc/self/mountinfo'
    sed -i 's|^  "mounts": \[$|&\n    { "destination": "/share", "type": "bind", "source": "/srv/share", "options": ["rbind"] },\n    { "destination": "/share/nested", "type": "tmpfs", "source": "userns-nested" },|' "$B/tnu/config.json"
    out=$(cc run --bundle $B/tnu tnu </dev/null)
    same treens/userns-nested-mount-inside "1 exit 0" "$out exit $?"
    same treens/userns-nested-mount-not-on-host 0 "$(grep -c userns-nested /proc/self/mountinfo)"
}

# The configs Docker, podman and containerd wrote (run.py put them in /foreign), run to the end: the mount namespace
# made as the kernel allows (see treens), the client's binds seen, a read-only root where asked, nothing left.
group_foreign() { run_foreign foreign; }

# The same configs with every system call after Linux 5.4 answering ENOSYS, as on Ubuntu 20.04's kernel or under a
# caller's seccomp profile that predates them (Tests/Programs/deny-syscalls.c; OlderKernelTests on the host): the
# rootfs lookups walk instead of openat2, fds are closed one by one without close_range. clone3 (5.3) still
# gives CLONE_INTO_CGROUP here, and open_tree and move_mount (5.2) the tree or template namespace.
NEWER_THAN_54=openat2,close_range,mount_setattr,pidfd_getfd,faccessat2,epoll_pwait2,process_madvise,landlock_create_ruleset,memfd_secret,quotactl_fd,futex_waitv,fchmodat2
group_oldercalls() { run_foreign oldercalls deny-syscalls $NEWER_THAN_54; }

# run_foreign GROUP [WRAPPER ARGS...]: each foreign config run by crabcan (under WRAPPER when given).
run_foreign() {
    local group=$1 major=$(uname -r | cut -d. -f1) want='clone \(template namespace, shared memory\)' d name rc ro host
    shift
    [ "$major" -ge 7 ] && want='clone \(tree namespace, shared memory\)'
    # (Made by an earlier create: treens's first, or the first one here when the group runs alone.)
    mkdir -p /srv/foreign/dir && echo foreign-hostname > /srv/foreign/file
    # An image's /etc/hostname, which containerd's configs (binding none) show: an earlier bind's target or this.
    touch /rootfs/etc/hostname
    for d in /foreign/*; do
        name=${d##*/}
        "$@" /bin/crabcan --debug --log /tmp/foreign.log run --bundle "$d" "f-$name" </dev/null >/tmp/foreign.out 2>&1
        rc=$?
        ro=rw; grep -q '"readonly": true' "$d/config.json" && ro=ro
        # containerd binds no /etc/hostname: the rootfs's own (empty) one shows.
        host=""; grep -q '"destination": "/etc/hostname"' "$d/config.json" && host="foreign-hostname;"
        same "$group/$name/ran" "exit 7: $host$ro;" "exit $rc: $(tr '\n' ';' < /tmp/foreign.out)"
        same "$group/$name/how-made" 1 "$(grep -cE "took.*, $want [0-9]" /tmp/foreign.log)"
        same "$group/$name/nothing-left" "" "$(ls -d /run/crabcan/f-$name $CG/crabcan/foreign-$name 2>/dev/null)"
        rm -f /tmp/foreign.log
    done
}

group_cgroupns() {
    mkb cns "$DENY, \"pids\": {\"limit\": 42}" -- sh -c \
        'cat /proc/self/cgroup; cat /sys/fs/cgroup/pids.max; (echo 1 > /sys/fs/cgroup/pids.max) 2>&1 | sed "s/.*: //"; ls /sys/fs/cgroup/crabcan 2>&1 | sed "s/.*: //"' || return
    local out
    out=$(cc run --bundle $B/cns cns </dev/null | tr '\n' ';')
    same cgroupns/view "0::/;42;Read-only file system;No such file or directory;" "$out"
}

group_events() {
    mkb evs "$DENY, \"pids\": {\"limit\": 9}, \"memory\": {\"limit\": 67108864}" -- sleep 1000 || return
    started evs evs || return
    local out
    out=$(cc events --stats evs)
    echo "$out" | grep -q '"pids":{"current":1,"limit":9}' && pass events/pids '"pids":{"current":1,"limit":9}' \
        || fail events/pids "$(echo "$out" | head -c 400)"
    echo "$out" | grep -q '"usage":{"limit":67108864,"usage":[1-9]' && pass events/memory "$(echo "$out" | grep -o '"usage":{"limit":67108864[^}]*}')" \
        || fail events/memory "$(echo "$out" | head -c 400)"
    gone evs
}

group_cycles() {
    mkb cyc "$DENY" -- sleep 1000 || return
    local i=1 bad=""
    while [ $i -le 25 ]; do
        cc create --bundle $B/cyc cyc-$i </dev/null >/dev/null || bad="$bad [cyc-$i create: $err]"
        cc start cyc-$i || bad="$bad [cyc-$i start: $err]"
        cc delete --force cyc-$i || bad="$bad [cyc-$i delete: $err]"
        [ -e $CG/crabcan/cyc-$i ] && bad="$bad [cyc-$i: cgroup left]"
        [ -e /run/crabcan/cyc-$i ] && bad="$bad [cyc-$i: state left]"
        i=$((i + 1))
    done
    [ -z "$bad" ] && pass cycles/create-start-delete-force "25 cycles, each exit 0, no cgroup or state left" \
        || fail cycles/create-start-delete-force "$bad"
    # `run` deletes the container once its process has exited (as runc run does).
    mkb cyc-true "$DENY" -- true || return
    i=1 bad=""
    while [ $i -le 10 ]; do
        cc run --bundle $B/cyc-true cyt-$i </dev/null >/dev/null || bad="$bad [cyt-$i run: exit $rc $err]"
        [ -e $CG/crabcan/cyt-$i ] && bad="$bad [cyt-$i: cgroup left]"
        [ -e /run/crabcan/cyt-$i ] && bad="$bad [cyt-$i: state left]"
        i=$((i + 1))
    done
    [ -z "$bad" ] && pass cycles/run "10 runs, each exit 0, no cgroup or state left" || fail cycles/run "$bad"
}

group_rootless() {
    local d=$CG/user-1000 out
    # An ordinary user (uid 1000) whose session has a delegated cgroup, as systemd makes one: the directory and its
    # cgroup.procs/subtree_control/threads are the user's, and the user's shell runs in a child of it.
    grep -q '^user:' /etc/passwd 2>/dev/null || { printf 'root:x:0:0::/root:/bin/sh\nuser:x:1000:1000::/tmp:/bin/sh\n' > /etc/passwd
        printf 'root:x:0:\nuser:x:1000:\n' > /etc/group; }
    mkdir -p $d/shell /tmp/rl /tmp/user-1000
    chown 1000:1000 $d $d/cgroup.procs $d/cgroup.subtree_control $d/cgroup.threads /tmp/rl /tmp/user-1000
    chown -R 1000:1000 $d/shell
    chmod 700 /tmp/user-1000
    cat > /tmp/rl/run.sh <<'SCRIPT'
export XDG_RUNTIME_DIR=/tmp/user-1000 PATH=/bin
cd /tmp/rl && mkdir -p b
crabcan spec --rootless --bundle b --rootfs /rootfs -- sh -c 'cat /proc/self/cgroup; cat /sys/fs/cgroup/pids.max; cat /sys/fs/cgroup/memory.max; id -u'
sed -i 's|^  "linux": {$|  "linux": { "cgroupsPath": "/user-1000/rl", "resources": {"pids": {"limit": 8}, "memory": {"limit": 67108864}, "devices": [{"allow": false, "access": "rwm"}]},|' b/config.json
timeout 60 crabcan --log /tmp/rl/log run --bundle b rl 2>/tmp/rl/stderr
echo "exit $?"
SCRIPT
    out=$(timeout 90 sh -c "echo \$\$ > $d/shell/cgroup.procs && exec su user -s /bin/sh /tmp/rl/run.sh" </dev/null 2>&1 | tr '\n' ';')
    # runc spec --rootless (and so crabcan spec) asks for no cgroup namespace: the process sees its full path.
    same rootless/delegated-limits-inside "0::/user-1000/rl;8;67108864;0;exit 0;" "$out"
    grep -q 'devices skipped' /tmp/rl/log && [ ! -s /tmp/rl/stderr ] && pass rootless/devices-skipped "$(cat /tmp/rl/log | tr '\n' ' ')" \
        || fail rootless/devices-skipped "log: $(cat /tmp/rl/log 2>/dev/null | tr '\n' ' '); stderr: $(cat /tmp/rl/stderr | tr '\n' ' ')"
    [ ! -e $d/rl ] && [ ! -e /tmp/user-1000/crabcan/rl ] && pass rootless/nothing-left "no cgroup, no state dir" \
        || fail rootless/nothing-left "left: $(ls -d $d/rl /tmp/user-1000/crabcan/rl 2>/dev/null)"
}

# Last: whatever the checks above left.
group_leftovers() {
    same leftovers/cgroups "" "$(find $CG/crabcan -mindepth 1 -maxdepth 1 -type d 2>/dev/null)"
    # @seccomp, @cgroup-host and @mount-template: the compiled seccomp filters, the detected cgroup mounts and the
    # template mount namespace crabcan keeps for the next container (docs/seccomp.md, docs/performance.md,
    # docs/design.md §2).
    same leftovers/state "" "$(ls /run/crabcan 2>/dev/null | grep -vx -e '@seccomp' -e '@cgroup-host' -e '@mount-template')"
}

all="features devices memory cpu cpuset io hugetlb pids rdma unified oom freeze kill update exec cgroupns treens foreign oldercalls events rootless cycles"
groups=${*:-$all}
say "INFO checks: $groups$([ -x /bin/runc ] && echo ' (runc 1.1.5 alongside)')"
for group in $groups; do
    start=$(cut -d' ' -f1 /proc/uptime)
    group_$group
    say "INFO time $group: $(awk -v a=$start -v b=$(cut -d' ' -f1 /proc/uptime) 'BEGIN { printf "%.1f s", b - a }')"
done
group_leftovers
say "DONE"
