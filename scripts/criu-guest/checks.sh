#!/bin/sh
# The checks of `make test-criu` (scripts/criu-guest/run.py; docs/checkpoint.md): crabcan checkpoint/restore
# through Debian's criu 3.17 on Debian's 6.1 kernel. One line a check on fd 3 (the guest's second serial port):
# "PASS <name>: <what it saw>" or "FAIL <name>: <expected and seen>". The containers are counters: a busybox sh
# loop that writes an increasing number to its stdout (a pipe, as containerd and podman give one) and to a bind
# mount, so a restore can be seen to go on from the number it stopped at.
export PATH=/usr/local/bin:/usr/sbin:/usr/bin:/bin
B=/run/bundles
DATA=/run/crdata
mkdir -p $B $DATA
say() { echo "$*" >&3; }
pass() { say "PASS $1: $2"; }
fail() { say "FAIL $1: $2"; }
same() { if [ "$2" = "$3" ]; then pass "$1" "$3"; else fail "$1" "expected [$2], saw [$3]"; fi; }
# cc ARGS: crabcan, bounded; its stderr (one line on failure) lands in $err, its exit status in $rc.
cc() { timeout 120 crabcan "$@" 2>/tmp/cc.err; rc=$?; err=$(tr '\n' ' ' < /tmp/cc.err); return $rc; }
status() { crabcan state "$1" 2>/dev/null | sed -n 's/.*"status": *"\([a-z]*\)".*/\1/p'; }
pid_of() { crabcan state "$1" 2>/dev/null | sed -n 's/.*"pid": *\([0-9]*\).*/\1/p'; }
cgroup_of() { sed -n 's/.*"cgroupPaths":{"":"\([^"]*\)".*/\1/p' /run/crabcan/$1/state.json 2>/dev/null; }
until_true() {
    local tries=$(($1 * 10)); shift
    while [ $tries -gt 0 ]; do "$@" && return 0; tries=$((tries - 1)); sleep 0.1; done
    return 1
}
# The counter renames a new file over count, so a read never sees it empty (a `>` write truncates first: a reader
# between the truncation and the write saw "" and `[ "" -gt N ]` failed the leave-running check once in CI).
count_of() { local n; n=$(cat $DATA/$1/count 2>/dev/null); echo "${n:-0}"; }
count_at_least() { [ "$(count_of $1)" -ge "$2" ] 2>/dev/null; }
is_status() { [ "$(status $1)" = "$2" ]; }
last_line() { tail -n 1 "$1" 2>/dev/null; }

# counter NAME [NET]: a bundle whose process counts on stdout and into /data/count (a bind mount of $DATA/NAME,
# written whole by a rename);
# NET: host (the default here) or none (a network namespace of its own).
counter() {
    mkdir -p $DATA/$1 $B/$1
    crabcan spec --bundle $B/$1 --rootfs /rootfs --hostname "$1" --net "${2:-host}" --bind $DATA/$1:/data -- \
        sh -c 'i=0; while true; do i=$((i + 1)); echo $i; echo $i > /data/count.new; mv /data/count.new /data/count; sleep 0.2; done'
}
# start NAME ID OUT: run -d with stdio pipes (stdin a pipe with no writer, stdout and stderr into OUT via cat).
# Waits for crabcan's exit (its status in /tmp/bg.rc), not for cat's. With DEBUG_LOG set, crabcan's --debug log.
start() {
    rm -f /tmp/bg.rc
    { : | { crabcan ${DEBUG_LOG:+--debug --log $DEBUG_LOG} run -d --bundle $B/$1 "$2" 2>&1; echo $? > /tmp/bg.rc; } | cat > "$3"; } &
    until_true 60 test -e /tmp/bg.rc; [ "$(cat /tmp/bg.rc)" = 0 ]
}
# restore_bg NAME ID IMAGES OUT [flags]: restore -d the same way; its stderr in /tmp/restore.err.
restore_bg() {
    local name=$1 id=$2 images=$3 out=$4; shift 4
    rm -f /tmp/bg.rc
    { : | { crabcan restore -d --bundle $B/$name --image-path "$images" "$@" "$id" 2>/tmp/restore.err; echo $? > /tmp/bg.rc; } | cat > "$out"; } &
    until_true 120 test -e /tmp/bg.rc; [ "$(cat /tmp/bg.rc)" = 0 ]
}

if criu check > /tmp/criu-check 2>&1; then pass criu-check "$(tail -1 /tmp/criu-check)"
else fail criu-check "$(tail -3 /tmp/criu-check | tr '\n' ' ')"; fi

# Flags crabcan refuses, before anything happens.
counter cr-flags
cc checkpoint --lazy-pages cr-nothing; same refuse/lazy-pages "1 crabcan: --lazy-pages is not supported by crabcan " "$rc $err"
cc checkpoint --page-server 10.0.0.1:1234 cr-nothing; same refuse/page-server "1 crabcan: --page-server is not supported by crabcan " "$rc $err"
cc restore --lazy-pages --bundle $B/cr-flags cr-nothing; same refuse/restore-lazy-pages "1 crabcan: --lazy-pages is not supported by crabcan " "$rc $err"
cc checkpoint --empty-ns ipc cr-nothing; same refuse/empty-ns-ipc "1 crabcan: namespace \"ipc\" is not supported " "$rc $err"
cc checkpoint --manage-cgroups-mode bogus cr-nothing; same refuse/cgroups-mode "1 crabcan: invalid manage-cgroups-mode value " "$rc $err"

# A container that is not running cannot be checkpointed: one error, and it is left as it was.
cc create --bundle $B/cr-flags cr-created < /dev/null > /dev/null 2>&1
cc checkpoint --image-path /tmp/img-created cr-created
same not-running/created "1 crabcan: Container cannot be checkpointed in created state  created" "$rc $err $(status cr-created)"
cc delete -f cr-created
cc checkpoint --image-path /tmp/img-none cr-none; same not-running/missing "1 crabcan: container cr-none does not exist " "$rc $err"

# The counter, checkpointed: the checkpoint ends it (runc's default) and the container is deleted.
counter cr-count
DEBUG_LOG=/tmp/count1.log start cr-count cr-count /tmp/count1.out || fail count/run "not running: $(cat /tmp/count1.out)"
# Its mount namespace is a copy of the template (made by cr-created's create above; docs/design.md §2), whose
# empty tmpfs lies under the rootfs: criu must dump and restore that container as it does a pivot_root'ed one.
same count/template-namespace 1 "$(grep -cE 'took.*, clone \((tree|template) namespace' /tmp/count1.log)"
until_true 60 count_at_least cr-count 5
pid1=$(pid_of cr-count) cg=$(cgroup_of cr-count)
t0=$(cut -d' ' -f1 /proc/uptime)
cc checkpoint --image-path /tmp/img1 --work-path /tmp/work1 cr-count
t1=$(cut -d' ' -f1 /proc/uptime)
say "INFO checkpoint took $(awk -v a=$t0 -v b=$t1 'BEGIN { printf "%.1f", b - a }') s"
same checkpoint/exit "0" "$rc${err:+ $err}"
[ $rc = 0 ] || { echo "--- dump.log"; grep -B12 "Error" /tmp/work1/dump.log | head -40; }
sleep 0.5
last=$(last_line /tmp/count1.out)
same checkpoint/init-gone "gone" "$([ -d /proc/$pid1 ] && echo "alive $pid1" || echo gone)"
same checkpoint/state-gone "no state dir" "$([ -d /run/crabcan/cr-count ] && echo "state dir left" || echo "no state dir")"
same checkpoint/cgroup-gone "no cgroup" "$([ -n "$cg" ] && [ -d "$cg" ] && echo "cgroup $cg left" || echo "no cgroup")"
same checkpoint/images "inventory.img pages" "$(ls /tmp/img1 | grep -o '^inventory.img$') $(ls /tmp/img1 | grep -q '^pages-' && echo pages)"
say "INFO counter stopped at $last (count file $(count_of cr-count))"

# Restored from the images: the same counter goes on from the next number, as an ordinary container.
t0=$(cut -d' ' -f1 /proc/uptime)
restore_bg cr-count cr-count /tmp/img1 /tmp/count2.out --work-path /tmp/work2
t1=$(cut -d' ' -f1 /proc/uptime)
say "INFO restore took $(awk -v a=$t0 -v b=$t1 'BEGIN { printf "%.1f", b - a }') s"
same restore/status "running" "$(status cr-count)$(cat /tmp/restore.err)"
[ "$(status cr-count)" = running ] || { echo "--- restore.log"; tail -40 /tmp/work2/restore.log; }
pid2=$(pid_of cr-count)
until_true 30 count_at_least cr-count $((last + 3))
first=$(head -n 1 /tmp/count2.out)
same restore/continues "$((last + 1))" "$first"
same restore/counts-on "yes" "$([ "$(count_of cr-count)" -gt $((last + 1)) ] && echo yes || echo "no: $(count_of cr-count)")"
same restore/new-pid "new" "$([ -n "$pid2" ] && [ "$pid2" != "$pid1" ] && [ -d /proc/$pid2 ] && echo new || echo "[$pid1] [$pid2]")"
cg2=$(cgroup_of cr-count)
same restore/in-cgroup "yes" "$(grep -qx "$pid2" $cg2/cgroup.procs 2>/dev/null && echo yes || echo "no: $cg2 holds [$(cat $cg2/cgroup.procs 2>/dev/null | tr '\n' ' ')]")"
same restore/state-file "running $pid2" "$(sed -n 's/.*"pid":\([0-9]*\).*/\1/p' /run/crabcan/cr-count/state.json | sed 's/^/running /')"

# exec into the restored container: its namespaces (hostname, pid 1 is the counter's sh) and its files.
cc exec cr-count sh -c 'echo $(hostname) $(cat /proc/1/cmdline | tr "\0" " " | cut -c1-5)'
out=$(crabcan exec cr-count sh -c 'echo $(hostname) $(tr "\0" " " < /proc/1/cmdline | cut -c1-5)' 2>&1)
same restore/exec "cr-count sh -c" "$out"
same restore/exec-count "yes" "$(n=$(crabcan exec cr-count cat /data/count 2>&1); [ "$n" -gt "$last" ] 2>/dev/null && echo yes || echo "no: $n")"

# criu restores into a new time namespace (monotonic clocks go on): exec joins it too.
same restore/exec-timens "$(readlink /proc/$pid2/ns/time)" "$(crabcan exec cr-count readlink /proc/self/ns/time 2>&1)"
say "INFO time namespaces: restored $(readlink /proc/$pid2/ns/time), host $(readlink /proc/self/ns/time)"

# kill and delete as for any container: nothing is left.
cc kill cr-count KILL
until_true 10 is_status cr-count stopped
same restore/kill "stopped" "$(status cr-count)"
cc delete cr-count
same restore/delete "0 no state dir no cgroup" "$rc $([ -d /run/crabcan/cr-count ] && echo "state dir left" || echo "no state dir") $([ -n "$cg2" ] && [ -d "$cg2" ] && echo "cgroup $cg2 left" || echo "no cgroup")"

# --leave-running: the images are written and the original goes on counting.
counter cr-lr
start cr-lr cr-lr /tmp/lr.out
until_true 60 count_at_least cr-lr 3
cc --criu /nowhere/criu checkpoint --leave-running --image-path /tmp/img-lr cr-lr
same criu-flag/missing "1 crabcan: /nowhere/criu: no such executable (--criu) running" "$rc $err$(status cr-lr)"
cc --criu /usr/sbin/criu checkpoint --leave-running --image-path /tmp/img-lr cr-lr
same leave-running/exit "0" "$rc${err:+ $err}"
before=$(count_of cr-lr)
sleep 1
same leave-running/still-running "running yes" "$(status cr-lr) $([ "$(count_of cr-lr)" -gt "$before" ] && echo yes || echo "no: $before then $(count_of cr-lr)")"
cc delete -f cr-lr

# --pre-dump, then a dump on top of it (--parent-path, relative to the images), then a restore with --pid-file.
counter cr-pd
start cr-pd cr-pd /tmp/pd1.out
until_true 60 count_at_least cr-pd 3
cc checkpoint --pre-dump --image-path /tmp/pd/parent cr-pd
same pre-dump/exit "0 running" "$rc${err:+ $err} $(status cr-pd)"
cc checkpoint --parent-path ../parent --image-path /tmp/pd/final cr-pd
same pre-dump/final "0 linked" "$rc${err:+ $err} $([ -L /tmp/pd/final/parent ] && echo linked || echo "no parent link: $(ls /tmp/pd/final | head -3 | tr '\n' ' ')")"
last=$(last_line /tmp/pd1.out)
restore_bg cr-pd cr-pd /tmp/pd/final /tmp/pd2.out --pid-file /tmp/pd.pid
until_true 30 count_at_least cr-pd $((last + 2))
same pre-dump/restore "$((last + 1)) $(pid_of cr-pd)" "$(head -n 1 /tmp/pd2.out) $(cat /tmp/pd.pid 2>/dev/null)$(cat /tmp/restore.err)"
cc delete -f cr-pd

# A paused container can be checkpointed (criu freezes through the cgroup); the restored one runs.
counter cr-pause
start cr-pause cr-pause /tmp/pause1.out
until_true 60 count_at_least cr-pause 3
cc pause cr-pause
cc checkpoint --image-path /tmp/img-pause cr-pause
same paused/checkpoint "0 no state dir" "$rc${err:+ $err} $([ -d /run/crabcan/cr-pause ] && echo "state dir left" || echo "no state dir")"
last=$(last_line /tmp/pause1.out)
restore_bg cr-pause cr-pause /tmp/img-pause /tmp/pause2.out
until_true 30 count_at_least cr-pause $((last + 2))
same paused/restore "running $((last + 1))" "$(status cr-pause) $(head -n 1 /tmp/pause2.out)$(cat /tmp/restore.err)"

# A restore that fails leaves nothing: an id in use, images that criu rejects (no process tree in them).
cc restore -d --bundle $B/cr-pause --image-path /tmp/img1 cr-pause < /dev/null
same restore-fails/id-in-use "1 running" "$rc $(status cr-pause)"
cc delete -f cr-pause
cc restore -d --bundle $B/cr-pause --image-path /tmp/nowhere cr-bad < /dev/null
same restore-fails/no-images "1 crabcan: restore cr-bad: no checkpoint at /tmp/nowhere " "$rc $err"
cp -a /tmp/img-pause /tmp/img-broken
rm /tmp/img-broken/pstree.img
before=$(ls /sys/fs/cgroup/crabcan 2>/dev/null | tr '\n' ' ')
timeout 60 crabcan restore -d --bundle $B/cr-pause --image-path /tmp/img-broken cr-broken < /dev/null > /dev/null 2>/tmp/broken.err
rc=$?
[ $rc = 1 ] || { echo "--- broken restore: exit $rc"; ps -o pid,ppid,stat,args; tail -20 /tmp/img-broken/restore.log; }
same restore-fails/broken-images "1 failed nothing left" "$rc $(grep -q 'restore cr-broken: criu' /tmp/broken.err && echo failed || cat /tmp/broken.err) $([ -d /run/crabcan/cr-broken ] && echo "state dir left" || { [ -d /sys/fs/cgroup/crabcan/cr-broken ] && echo "cgroup left" || echo "nothing left"; })"
same restore-fails/no-process "none" "$(ps -o pid,args | grep 'while true' | grep -v grep | head -3 | tr '\n' ' ')${none:-none}"

# In the foreground (no --detach) restore stays the parent as run does: the init's exit status, then deleted.
counter cr-fg
start cr-fg cr-fg /tmp/fg1.out
until_true 60 count_at_least cr-fg 3
cc checkpoint --image-path /tmp/img-fg cr-fg
rm -f /tmp/fg.rc
{ : | { crabcan restore --bundle $B/cr-fg --image-path /tmp/img-fg cr-fg 2>/tmp/fg.err; echo $? > /tmp/fg.rc; } | cat > /tmp/fg2.out; } &
until_true 60 is_status cr-fg running
cc kill cr-fg KILL
until_true 30 test -e /tmp/fg.rc
same foreground/exit-status "137 no state dir" "$(cat /tmp/fg.rc 2>/dev/null) $([ -d /run/crabcan/cr-fg ] && echo "state dir left" || echo "no state dir")$(cat /tmp/fg.err)"

# A network namespace of its own (runc spec's default): criu leaves it empty (--empty-ns network, always, as runc)
# and the restored counter has one again, not the host's.
counter cr-net none
start cr-net cr-net /tmp/net1.out
until_true 60 count_at_least cr-net 3
cc checkpoint --image-path /tmp/img-net --work-path /tmp/work-net cr-net
same netns/checkpoint "0" "$rc${err:+ $err}"
[ $rc = 0 ] || { echo "--- netns dump.log"; grep -B12 "Error" /tmp/work-net/dump.log | head -40; }
last=$(last_line /tmp/net1.out)
restore_bg cr-net cr-net /tmp/img-net /tmp/net2.out --work-path /tmp/work-net2
until_true 30 count_at_least cr-net $((last + 2))
same netns/restore "running $((last + 1)) own" "$(status cr-net) $(head -n 1 /tmp/net2.out) $([ "$(readlink /proc/$(pid_of cr-net)/ns/net)" != "$(readlink /proc/self/ns/net)" ] && echo own || echo host)$(cat /tmp/restore.err)"
[ "$(status cr-net)" = running ] || { echo "--- netns restore.log"; grep -B12 "Error" /tmp/work-net2/restore.log | head -40; }
cc delete -f cr-net

# A terminal: the master goes to --console-socket at run; criu brings the pty back (orphan_pts_master) and restore
# hands the new master to restore's --console-socket, where the counter goes on.
if command -v console-recv > /dev/null; then
    mkdir -p $DATA/cr-tty $B/cr-tty
    crabcan spec --bundle $B/cr-tty --rootfs /rootfs --hostname cr-tty --net host --terminal --bind $DATA/cr-tty:/data -- \
        sh -c 'i=0; while true; do i=$((i + 1)); echo $i; echo $i > /data/count.new; mv /data/count.new /data/count; sleep 0.2; done'
    console-recv /tmp/tty1.sock /tmp/tty1.out &
    until_true 10 test -S /tmp/tty1.sock
    cc run -d --console-socket /tmp/tty1.sock --bundle $B/cr-tty cr-tty < /dev/null > /dev/null
    same terminal/run "0 running" "$rc${err:+ $err} $(status cr-tty)"
    until_true 60 count_at_least cr-tty 3
    cc checkpoint --image-path /tmp/img-tty --work-path /tmp/work-tty cr-tty
    same terminal/checkpoint "0" "$rc${err:+ $err}"
    [ $rc = 0 ] || { echo "--- tty dump.log"; grep -B12 "Error" /tmp/work-tty/dump.log | head -40; }
    sleep 0.5
    last=$(tail -n 1 /tmp/tty1.out | tr -d '\r')
    console-recv /tmp/tty2.sock /tmp/tty2.out &
    until_true 10 test -S /tmp/tty2.sock
    cc restore -d --console-socket /tmp/tty2.sock --bundle $B/cr-tty --image-path /tmp/img-tty --work-path /tmp/work-tty2 cr-tty < /dev/null > /dev/null
    [ $rc = 0 ] || { echo "--- tty restore.log"; grep -B12 "Error" /tmp/work-tty2/restore.log | head -40; }
    until_true 30 count_at_least cr-tty $((last + 3))
    same terminal/restore "0 running $((last + 1))" "$rc${err:+ $err} $(status cr-tty) $(head -n 1 /tmp/tty2.out | tr -d '\r')"
    cc delete -f cr-tty
else
    say "SKIP terminal: no console-recv (gcc could not build it)"
fi

# Whatever a failed check left running would keep this script's output open.
for id in $(crabcan list -q 2>/dev/null); do crabcan delete -f "$id"; done
say DONE
