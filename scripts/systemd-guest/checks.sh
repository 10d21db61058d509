#!/bin/sh
# The checks of `make test-systemd`, run by guest.sh on a Debian 12 guest whose PID 1 is systemd (pure cgroup v2).
# Arguments: the runtimes to check, in order (default: runc crabcan); each is driven with --systemd-cgroup. runc
# 1.1.5 goes first: it is the known-good driver the checks are validated against. Each check prints one line to fd
# 3 (the guest's second serial port): "PASS <runtime>/<name>: <what it saw>", "FAIL <runtime>/<name>: <expected
# and seen>", "SKIP ..."; for crabcan, a "DIFF <name>: crabcan [...], runc 1.1.5 [...]" line wherever runc saw
# another value for the same check.
CG=/sys/fs/cgroup
B=/run/bundles
ROOTFS=/opt/crabcan-guest/rootfs
VALS=/run/check-values
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
mkdir -p $B $VALS

say() { echo "$*" >&3; }
# What runc saw for a check, kept so that crabcan's pass can say where it differs. Where a value names the runtime
# by design (the default scope "runc-<id>.scope"), NORM="$RT-" has it compared as "<runtime>-".
record() { printf '%s\n' "$(norm "$2")" > "$VALS/$RT.$(echo "$1" | tr '/ ' '__')"; }
norm() { if [ -n "$NORM" ]; then printf '%s' "$1" | sed "s/$NORM/<runtime>-/g"; else printf '%s' "$1"; fi; }
diffline() {
    local mine theirs f="$VALS/runc.$(echo "$1" | tr '/ ' '__')"
    [ "$RT" = crabcan ] && [ -f "$f" ] || return 0
    theirs=$(cat "$f") mine=$(norm "$2")
    [ "$theirs" = "$mine" ] || say "DIFF $1: crabcan [$mine], runc 1.1.5 [$theirs]"
}
pass() { say "PASS $RT/$1: $2"; }
fail() { say "FAIL $RT/$1: $2"; }
skip() { say "SKIP $RT/$1: $2"; }
# same NAME EXPECTED SEEN
same() {
    record "$1" "$3"; diffline "$1" "$3"
    if [ "$2" = "$3" ]; then pass "$1" "$3"; else fail "$1" "expected [$2], saw [$3]"; fi
}
# same_here NAME EXPECTED SEEN: as same, for values that differ between runs anyway (pids): no DIFF.
same_here() { if [ "$2" = "$3" ]; then pass "$1" "$3"; else fail "$1" "expected [$2], saw [$3]"; fi; }
# compare NAME SEEN: no expectation, only a DIFF line where crabcan and runc saw different things.
compare() { record "$1" "$2"; diffline "$1" "$2"; }
# as_runc NAME SEEN: crabcan must see what runc 1.1.5 saw for the same check (runc's own pass only records it).
as_runc() {
    local f="$VALS/runc.$(echo "$1" | tr '/ ' '__')" mine
    mine=$(norm "$2")
    if [ "$RT" = runc ]; then record "$1" "$2"; pass "$1" "$mine (the reference)"
    elif [ ! -f "$f" ]; then skip "$1" "no runc value to compare with: $mine"
    elif [ "$(cat "$f")" = "$mine" ]; then pass "$1" "as runc 1.1.5: $mine"
    else fail "$1" "runc 1.1.5 [$(cat "$f")], crabcan [$mine]"; fi
}
val() { if [ -e "$1" ]; then tr '\n' ';' < "$1" | sed 's/;$//'; else echo "<missing>"; fi; }
# The runtime under test with the systemd driver, bounded; its stderr (one line on failure) lands in $err.
# A command slower than 3 s (a D-Bus job waited for in vain, say) gets an INFO line: it is what makes a run slow.
rt() {
    local t0 t1
    t0=$(cut -d' ' -f1 /proc/uptime)
    if [ "$RT" = runc ]; then $AS timeout -k 5 $LIMIT runc --root $RUNC_ROOT --systemd-cgroup "$@" 2>/tmp/rt.err
    else $AS timeout -k 5 $LIMIT crabcan --systemd-cgroup "$@" 2>/tmp/rt.err; fi
    rc=$?; err=$(tr '\n' ' ' < /tmp/rt.err)
    t1=$(cut -d' ' -f1 /proc/uptime)
    awk -v a=$t0 -v b=$t1 'BEGIN { exit !(b - a > 3) }' && say "INFO slow: $RT $* took $(awk -v a=$t0 -v b=$t1 'BEGIN { printf "%.1f", b - a }') s (exit $rc)"
    return $rc
}
# AS=as_user: rt runs the runtime as uid 1000 (rootless) with its user manager's environment; LIMIT bounds it.
LIMIT=60
RUNC_ROOT=/run/runc
UR=/run/user/1000
as_user() {
    setpriv --reuid=1000 --regid=1000 --clear-groups env HOME=/home/crab USER=crab XDG_RUNTIME_DIR=$UR \
        DBUS_SESSION_BUS_ADDRESS=unix:path=$UR/bus "$@"
}
status() { rt state "$1" 2>/dev/null | sed -n 's/.*"status": *"\([a-z]*\)".*/\1/p'; }
pid_of() { rt state "$1" 2>/dev/null | sed -n 's/.*"pid": *\([0-9]*\).*/\1/p'; }
# prop UNIT PROPERTY: the unit's property as systemctl shows it.
prop() { systemctl show -P "$2" "$1" 2>&1 | tr "\n" "," | sed "s/,$//"; }
# The unit systemd attributes a pid to (its D-Bus object path).
unit_of_pid() { busctl call org.freedesktop.systemd1 /org/freedesktop/systemd1 org.freedesktop.systemd1.Manager GetUnitByPID u "$1" 2>&1 | sed 's/^o //'; }
unit_path() { busctl call org.freedesktop.systemd1 /org/freedesktop/systemd1 org.freedesktop.systemd1.Manager LoadUnit s "$1" 2>&1 | sed 's/^o //'; }
until_true() {
    local tries=$(($1 * 10)); shift
    while [ $tries -gt 0 ]; do "$@" && return 0; tries=$((tries - 1)); sleep 0.1; done
    return 1
}
has_procs() { [ "$(wc -l < $2/cgroup.procs)" = "$1" ]; }
no_procs() { [ -z "$(cat "$1/cgroup.procs" 2>/dev/null)" ]; }
is_stopped() { [ "$(status "$1")" = stopped ]; }
# The unit is gone: systemd no longer knows it (or keeps it only inactive) and its cgroup is removed.
unit_gone() { [ "$(prop $1 ActiveState)" = inactive ] && [ ! -e "$2" ]; }

DENY='"devices": [{"allow": false, "access": "rwm"}]'
# mkb NAME CGROUPSPATH RESOURCES [-- ARGS...]: a bundle in $B/NAME from `crabcan spec` (the bundle generator, the
# same for both runtimes) with its own cgroup namespace, linux.cgroupsPath (none when empty) and linux.resources
# replaced by { RESOURCES }.
mkb() {
    local name=$1 path=$2 resources=$3
    shift 3
    rm -rf "$B/$name" && mkdir -p "$B/$name"
    if ! crabcan spec --bundle "$B/$name" --rootfs $ROOTFS --hostname "$name" "$@" 2>/tmp/spec.err; then
        fail "$name" "crabcan spec: $(cat /tmp/spec.err)"
        return 1
    fi
    sed -i "/^    \"resources\": {\$/,/^    },\$/c\\    \"resources\": { $resources }," "$B/$name/config.json"
    sed -i 's|^    "namespaces": \[$|&\n      { "type": "cgroup" },|' "$B/$name/config.json"
    [ -z "$path" ] || sed -i 's|^  "linux": {$|  "linux": { "cgroupsPath": "'"$path"'",|' "$B/$name/config.json"
}
created() { rt create --bundle "$B/$2" "$1" </dev/null >/dev/null && return 0; fail "$3" "create: $err"; return 1; }
started() { created "$@" && { rt start "$1" </dev/null >/dev/null && return 0; fail "$3" "start: $err"; return 1; }; }

# --- groups: each runs for the runtime in $RT ---------------------------------------------------------------

# What a runtime root holds besides @seccomp, @cgroup-host and @mount-template, the compiled seccomp filters, the
# detected cgroup mounts and the template mount namespace crabcan keeps for the next container (docs/seccomp.md,
# docs/performance.md, docs/design.md §2): containers' state dirs, which must be gone.
state_entries() { ls "$1" 2>/dev/null | grep -vx -e '@seccomp' -e '@cgroup-host' -e '@mount-template' | tr '\n' ' '; }

group_features() {
    # runc's `features` and crabcan's both list linux.cgroup.systemd.
    local f
    f=$(rt features 2>&1 | tr -d ' \n')
    case "$f" in
        *'"systemd":true'*) pass features/systemd '"systemd": true' ;;
        *) fail features/systemd "no \"systemd\": true in: $(echo "$f" | grep -o '"cgroup":{[^}]*}')" ;;
    esac
}

# The main container: created in system.slice:crabcan:sd with limits, then started, updated, paused, exec'd into,
# deleted; what systemd says of its unit and what the cgroup files hold, at each step.
group_scope() {
    local id=sd u=crabcan-sd.scope d=$CG/system.slice/crabcan-sd.scope pid
    mkb sd system.slice:crabcan:sd "$DENY, \"memory\": {\"limit\": 67108864}, \"cpu\": {\"shares\": 1024, \"quota\": 50000, \"period\": 100000}, \"pids\": {\"limit\": 20}" -- sleep 1000 || return
    created $id sd scope/create || return
    same scope/active active "$(prop $u ActiveState)"
    same scope/delegate yes "$(prop $u Delegate)"
    same scope/slice system.slice "$(prop $u Slice)"
    same scope/control-group /system.slice/crabcan-sd.scope "$(prop $u ControlGroup)"
    pid=$(pid_of $id)
    same scope/init-cgroup "0::/system.slice/crabcan-sd.scope" "$(cat /proc/$pid/cgroup 2>&1)"
    same scope/init-in-cgroup.procs yes "$(grep -qx "$pid" $d/cgroup.procs && echo yes || echo "no: pid $pid, cgroup.procs [$(val $d/cgroup.procs)]")"
    same scope/unit-of-init "$(unit_path $u)" "$(unit_of_pid $pid)"
    same limits/MemoryMax 67108864 "$(prop $u MemoryMax)"
    same limits/CPUQuotaPerSecUSec 500ms "$(prop $u CPUQuotaPerSecUSec)"
    same limits/CPUQuotaPeriodUSec 100ms "$(prop $u CPUQuotaPeriodUSec)"
    same limits/TasksMax 20 "$(prop $u TasksMax)"
    same limits/CPUWeight 39 "$(prop $u CPUWeight)"
    same limits/memory.max 67108864 "$(val $d/memory.max)"
    same limits/cpu.max "50000 100000" "$(val $d/cpu.max)"
    same limits/pids.max 20 "$(val $d/pids.max)"
    same limits/cpu.weight 39 "$(val $d/cpu.weight)"
    # The other properties a driver may set: no expectation, one INFO line, and DIFF lines against runc.
    local p all=""
    for p in MemoryLow MemoryHigh MemorySwapMax AllowedCPUs AllowedMemoryNodes IOWeight DevicePolicy DeviceAllow \
            MemoryAccounting CPUAccounting TasksAccounting IOAccounting CollectMode; do
        compare "properties/$p" "$(prop $u $p)"
        all="$all $p=$(prop $u $p);"
    done
    say "INFO $RT/properties:$all"
    # The unit's device list, entry by entry and in order, as runc 1.1.5's for the same config.
    as_runc properties/DevicePolicy-as-runc "$(prop $u DevicePolicy)"
    as_runc properties/DeviceAllow-as-runc "$(prop $u DeviceAllow)"
    rt start $id </dev/null >/dev/null || { fail scope/start "$err"; rt delete --force $id; return; }
    same scope/running running "$(status $id)"

    # update: systemd's properties and the files both change (crabcan writes what a unit cannot carry itself).
    if rt update --memory 134217728 --cpu-quota 25000 --pids-limit 30 --cpu-share 2048 $id; then
        same update/MemoryMax 134217728 "$(prop $u MemoryMax)"
        same update/CPUQuotaPerSecUSec 250ms "$(prop $u CPUQuotaPerSecUSec)"
        same update/TasksMax 30 "$(prop $u TasksMax)"
        same update/CPUWeight 79 "$(prop $u CPUWeight)"
        same update/memory.max 134217728 "$(val $d/memory.max)"
        same update/cpu.max "25000 100000" "$(val $d/cpu.max)"
        same update/pids.max 30 "$(val $d/pids.max)"
        same update/cpu.weight 79 "$(val $d/cpu.weight)"
    else
        fail update "update: $err"
    fi

    # events --stats reads the scope's cgroup.
    local stats
    stats=$(rt events --stats $id | tr -d ' \n')
    same events/pids '"pids":{"current":1,"limit":30}' "$(echo "$stats" | grep -o '"pids":{[^}]*}')"

    # pause/resume freeze the unit's cgroup; the unit stays active.
    if rt pause $id; then
        same pause/status paused "$(status $id)"
        same pause/cgroup.freeze 1 "$(val $d/cgroup.freeze)"
        same pause/frozen "frozen 1" "$(grep '^frozen' $d/cgroup.events)"
        same pause/unit-active active "$(prop $u ActiveState)"
    else
        fail pause "pause: $err"
    fi
    if rt resume $id; then
        same resume/status running "$(status $id)"
        same resume/frozen "frozen 0" "$(grep '^frozen' $d/cgroup.events)"
    else
        fail resume "resume: $err"
    fi

    # exec: the new process joins the container's cgroup (and namespace), the unit systemd knows it by.
    same exec/cgroup-inside "0::/" "$(rt exec $id cat /proc/self/cgroup </dev/null)"
    same exec/limit-inside 30 "$(rt exec $id cat /sys/fs/cgroup/pids.max </dev/null)"
    if rt exec --detach $id sleep 999 </dev/null >/dev/null; then
        until_true 5 has_procs 2 $d
        local other
        other=$(grep -vx "$pid" $d/cgroup.procs | head -1)
        same exec/procs-in-cgroup 2 "$(wc -l < $d/cgroup.procs)"
        same exec/host-cgroup "0::/system.slice/crabcan-sd.scope" "$(cat /proc/$other/cgroup 2>&1)"
        same exec/unit-of-process "$(unit_path $u)" "$(unit_of_pid $other)"
        same_here exec/ps-is-cgroup.procs "$(sort -n $d/cgroup.procs | tr '\n' ' ')" \
            "$(rt ps --format json $id | tr -d '[] \n' | tr ',' '\n' | sort -n | tr '\n' ' ')"
    else
        fail exec/detach "$err"
    fi

    rt delete --force $id && pass delete/exit "exit 0" || fail delete/exit "$err"
    until_true 5 unit_gone $u $d
    same delete/unit-gone "inactive" "$(prop $u ActiveState)"
    same delete/cgroup-gone "" "$(ls -d $d 2>/dev/null)"
}

# The cgroup namespace: the container sees its own cgroup as the root, with its limit, and nothing above.
group_cgroupns() {
    mkb sd-ns system.slice:crabcan:sd-ns "$DENY, \"pids\": {\"limit\": 42}" -- sh -c \
        'cat /proc/self/cgroup; cat /sys/fs/cgroup/pids.max; ls /sys/fs/cgroup/system.slice 2>&1 | sed "s/.*: //"' || return
    same cgroupns/view "0::/;42;No such file or directory;" "$(rt run --bundle $B/sd-ns sd-ns </dev/null | tr '\n' ';')"
    until_true 5 unit_gone crabcan-sd-ns.scope $CG/system.slice/crabcan-sd-ns.scope
    same cgroupns/run-leaves-no-unit inactive "$(prop crabcan-sd-ns.scope ActiveState)"
}

# kill --all reaches every process of the scope; then delete removes the unit.
group_kill() {
    local id=sd-kill u=crabcan-sd-kill.scope d=$CG/system.slice/crabcan-sd-kill.scope
    mkb sd-kill system.slice:crabcan:sd-kill "$DENY" -- sh -c 'sleep 1000 & sleep 1000 & wait' || return
    started $id sd-kill kill/start || return
    until_true 10 has_procs 3 $d
    same kill/procs-before 3 "$(wc -l < $d/cgroup.procs)"
    rt kill --all $id KILL || fail kill/all "exit $rc: $err"
    # Nothing left in the scope: systemd then stops it and removes its cgroup by itself (runc 1.1.5 leaves that to
    # systemd), so an empty cgroup.procs or no cgroup at all are the same here.
    until_true 10 no_procs $d
    same kill/no-process-left "" "$(cat $d/cgroup.procs 2>/dev/null)"
    until_true 10 is_stopped $id
    same kill/stopped stopped "$(status $id)"
    compare kill/unit-before-delete "$(prop $u ActiveState)"
    rt delete $id || fail kill/delete "$err"
    until_true 5 unit_gone $u $d
    same kill/unit-gone inactive "$(prop $u ActiveState)"
    same kill/cgroup-gone "" "$(ls -d $d 2>/dev/null)"
}

# A slice of one's own: my-test.slice nests under my.slice, as systemd names slices.
group_slice() {
    local id=sd-slice u=crabcan-sd-slice.scope d=$CG/my.slice/my-test.slice/crabcan-sd-slice.scope pid
    mkb sd-slice my-test.slice:crabcan:sd-slice "$DENY" -- sleep 1000 || return
    created $id sd-slice slice/create || return
    same slice/slice my-test.slice "$(prop $u Slice)"
    same slice/control-group /my.slice/my-test.slice/crabcan-sd-slice.scope "$(prop $u ControlGroup)"
    pid=$(pid_of $id)
    same slice/init-cgroup "0::/my.slice/my-test.slice/crabcan-sd-slice.scope" "$(cat /proc/$pid/cgroup 2>&1)"
    same slice/slice-active active "$(prop my-test.slice ActiveState)"
    rt delete --force $id || fail slice/delete "$err"
    until_true 5 unit_gone $u $d
    same slice/unit-gone inactive "$(prop $u ActiveState)"
    same slice/cgroup-gone "" "$(ls -d $d 2>/dev/null)"
}

# Without linux.cgroupsPath: system.slice and a scope named after the runtime and the id (runc: runc-<id>.scope).
group_default() {
    local id=sd-default u=$RT-sd-default.scope d=$CG/system.slice/$RT-sd-default.scope pid NORM="$RT-"
    mkb sd-default "" "$DENY, \"cpu\": {\"idle\": 1}" -- sleep 1000 || return
    created $id sd-default default/create || return
    same default/active active "$(prop $u ActiveState)"
    # cpu.idle=1: the file, and CPUWeight=0 for systemd >= 252 (shown "idle"; runc 1.2's rule, runc 1.1.5 sets neither).
    compare default/cpu.idle "$(val $d/cpu.idle)"
    compare default/idle-CPUWeight "$(prop $u CPUWeight)"
    if [ "$RT" = crabcan ]; then
        same_here default/idle-file 1 "$(val $d/cpu.idle)"
        same_here default/idle-CPUWeight idle "$(prop $u CPUWeight)"
    fi
    same default/control-group "/system.slice/$RT-sd-default.scope" "$(prop $u ControlGroup)"
    pid=$(pid_of $id)
    same default/init-cgroup "0::/system.slice/$RT-sd-default.scope" "$(cat /proc/$pid/cgroup 2>&1)"
    rt delete --force $id || fail default/delete "$err"
    until_true 5 unit_gone $u $d
    same default/unit-gone inactive "$(prop $u ActiveState)"
}

# Refusals and failures leave no unit, cgroup or state: a cgroupsPath that is not "slice:prefix:name", and a
# create that fails after the scope exists (mount(2) refuses a tmpfs of size=bogus in the container's setup).
group_failed() {
    local u=crabcan-sd-bad.scope
    mkb sd-bad /bad/path "$DENY" -- true || return
    if rt create --bundle $B/sd-bad sd-bad </dev/null >/dev/null; then
        fail failed/bad-path "create with cgroupsPath /bad/path succeeded"; rt delete --force sd-bad
    else
        pass failed/bad-path "refused, exit $rc: $err"
    fi
    same failed/bad-path-nothing-left "inactive, no state" "$(prop $u ActiveState), $(ls /run/$RT/sd-bad 2>/dev/null || echo no state)"
    mkb sd-bad system.slice:crabcan:sd-bad "$DENY" -- true || return
    sed -i 's|^  "mounts": \[$|&\n    { "destination": "/bad", "type": "tmpfs", "source": "tmpfs", "options": ["size=bogus"] },|' $B/sd-bad/config.json
    if rt create --bundle $B/sd-bad sd-bad </dev/null >/dev/null; then
        fail failed/create "create with a tmpfs of size=bogus succeeded"; rt delete --force sd-bad
    else
        pass failed/create "refused, exit $rc: $err"
    fi
    until_true 5 unit_gone $u $CG/system.slice/$u
    same failed/nothing-left "inactive, no cgroup, no state" \
        "$(prop $u ActiveState), $(ls -d $CG/system.slice/$u 2>/dev/null || echo no cgroup), $(ls /run/$RT/sd-bad 2>/dev/null || echo no state)"
}

# Rootless through the user manager: uid 1000's `systemd --user` (user@1000.service, started here once; Debian's
# unit delegates memory, pids and cpu to it) gets the container as a transient scope in its own user.slice, when the
# runtime runs as uid 1000 with --systemd-cgroup and a config from `spec --rootless` (a user namespace).
USER_MGR=$CG/user.slice/user-1000.slice/user@1000.service
user_manager_up() { [ -S $UR/systemd/private ] && [ -S $UR/bus ] && [ "$(systemctl show -P ActiveState user@1000.service)" = active ]; }
start_user_manager() {
    user_manager_up && return 0
    timeout 60 systemctl start user@1000.service 2>/tmp/um.err || return 1
    until_true 20 user_manager_up
}
uprop() { as_user systemctl --user show -P "$2" "$1" 2>&1 | tr "\n" "," | sed "s/,$//"; }
uunit_gone() { [ "$(uprop $1 ActiveState)" = inactive ] && [ ! -e "$2" ]; }
# mkb_user NAME CGROUPSPATH RESOURCES [-- ARGS...]: as mkb, from `spec --rootless` written by uid 1000.
mkb_user() {
    local name=$1 path=$2 resources=$3
    shift 3
    rm -rf "$B/$name" && mkdir -p "$B/$name" && chown 1000:1000 "$B/$name"
    if ! as_user crabcan spec --rootless --bundle "$B/$name" --rootfs $ROOTFS --hostname "$name" "$@" 2>/tmp/spec.err; then
        fail "$name" "crabcan spec --rootless: $(cat /tmp/spec.err)"
        return 1
    fi
    sed -i 's|^  "linux": {$|&\n    "cgroupsPath": "'"$path"'",\n    "resources": { '"$resources"' },|' "$B/$name/config.json"
    sed -i 's|^    "namespaces": \[$|&\n      { "type": "cgroup" },|' "$B/$name/config.json"
}
group_user() {
    local id=su-user u=crabcan-su-user.scope AS=as_user RUNC_ROOT=$UR/runc LIMIT=30 pid f
    local rel=/user.slice/user-1000.slice/user@1000.service/user.slice/crabcan-su-user.scope
    local d=$CG$rel
    if ! start_user_manager; then
        fail user/manager "user@1000.service not up: $(systemctl show -P ActiveState user@1000.service) $(head -1 /tmp/um.err); $(ls $UR 2>&1 | tr '\n' ' ')"
        say "INFO $RT/user: journal: $(journalctl -b -q --no-pager -n 12 -u user@1000.service -u user-runtime-dir@1000.service -u systemd-logind.service 2>&1 | cut -c1-200 | tr '\n' ';')"
        return
    fi
    pass user/manager "user@1000.service active, $UR/systemd/private and $UR/bus; delegated: $(val $USER_MGR/cgroup.controllers)"
    f=$(rt features 2>&1 | tr -d ' \n')
    case "$f" in
        *'"systemdUser":true'*) pass user/features '"systemdUser": true' ;;
        *) fail user/features "no \"systemdUser\": true in: $(echo "$f" | grep -o '"cgroup":{[^}]*}')" ;;
    esac
    mkb_user su-user user.slice:crabcan:su-user "$DENY, \"memory\": {\"limit\": 67108864}, \"cpu\": {\"quota\": 50000, \"period\": 100000}, \"pids\": {\"limit\": 20}" -- sleep 1000 || return
    created $id su-user user/create || { say "INFO $RT/user: $(journalctl -q -n 5 --no-pager _UID=1000 2>/dev/null | tr '\n' ';')"; return; }
    [ -z "$err" ] || say "INFO $RT/user: create said: $err"
    same user/active active "$(uprop $u ActiveState)"
    same user/delegate yes "$(uprop $u Delegate)"
    same user/slice user.slice "$(uprop $u Slice)"
    same user/control-group $rel "$(uprop $u ControlGroup)"
    same user/not-in-system-manager inactive "$(prop $u ActiveState)"
    pid=$(pid_of $id)
    same user/init-cgroup "0::$rel" "$(cat /proc/$pid/cgroup 2>&1)"
    same user/init-uid 1000 "$(stat -c %u /proc/$pid 2>&1)"
    same user/MemoryMax 67108864 "$(uprop $u MemoryMax)"
    same user/TasksMax 20 "$(uprop $u TasksMax)"
    same user/CPUQuotaPerSecUSec 500ms "$(uprop $u CPUQuotaPerSecUSec)"
    same user/memory.max 67108864 "$(val $d/memory.max)"
    same user/pids.max 20 "$(val $d/pids.max)"
    same user/cpu.max "50000 100000" "$(val $d/cpu.max)"
    as_runc user/DevicePolicy-as-runc "$(uprop $u DevicePolicy)"
    as_runc user/DeviceAllow-as-runc "$(uprop $u DeviceAllow)"
    say "INFO $RT/user properties: DevicePolicy=$(uprop $u DevicePolicy); DeviceAllow=$(uprop $u DeviceAllow); cgroup owner $(stat -c %u $d 2>&1)"
    rt start $id </dev/null >/dev/null || { fail user/start "$err"; rt delete --force $id; return; }
    same user/running running "$(status $id)"
    if rt pause $id; then
        same user/pause paused "$(status $id)"
        same user/pause-frozen "frozen 1" "$(grep '^frozen' $d/cgroup.events 2>&1)"
    else
        fail user/pause "pause: $err"
    fi
    if rt resume $id; then
        same user/resume running "$(status $id)"
        same user/resume-frozen "frozen 0" "$(grep '^frozen' $d/cgroup.events 2>&1)"
    else
        fail user/resume "resume: $err"
    fi
    rt kill $id KILL || fail user/kill "exit $rc: $err"
    until_true 10 is_stopped $id
    same user/killed stopped "$(status $id)"
    compare user/unit-after-kill "$(uprop $u ActiveState)"
    rt delete $id && pass user/delete "exit 0" || fail user/delete "exit $rc: $err"
    until_true 5 uunit_gone $u $d
    same user/unit-gone inactive "$(uprop $u ActiveState)"
    same user/cgroup-gone "" "$(ls -d $d 2>/dev/null)"
    same user/state-gone "" "$(state_entries $UR/$RT)"
}

# Last: what every check above left (units, cgroups, state).
group_leftovers() {
    local root=/run/$RT
    same leftovers/units "" "$(systemctl list-units --all --plain --no-legend 'crabcan-*' "$RT-*" | grep -v '^guest-checks' | cut -d' ' -f1 | tr '\n' ' ')"
    same leftovers/cgroups "" "$(find $CG -name 'crabcan-*.scope' -o -name "$RT-*.scope" | tr '\n' ' ')"
    same leftovers/state "" "$(state_entries $root)"
    # Under systemd /run is shared, with slave peers in the namespaces of services that have their own: crabcan's
    # template mount namespace is bound in a private bind of its directory, where that cannot propagate
    # (docs/design.md §2); the kernel refuses the bind of a namespace's file that would (EINVAL).
    if [ "$RT" = crabcan ]; then
        same template/shared-run shared "$(findmnt -no PROPAGATION /run)"
        same template/made "private 1" \
            "$(findmnt -no PROPAGATION /run/crabcan/@mount-template) $(grep -c ' /run/crabcan/@mount-template/mnt .* - nsfs ' /proc/self/mountinfo)"
    fi
}

groups=${CHECK_GROUPS:-features scope cgroupns kill slice default failed user}
say "INFO checks: runtimes ${*:-runc crabcan}; groups $groups"
for RT in ${*:-runc crabcan}; do
    if [ "$RT" = runc ] && ! command -v runc >/dev/null; then skip all "no runc in the guest"; continue; fi
    if [ "$RT" = crabcan ] && ! crabcan features 2>/dev/null | tr -d ' \n' | grep -q '"systemd":true'; then
        # Until the driver is there, crabcan's features says so, and the checks would only fail on its refusal.
        skip all "crabcan features says \"systemd\": false: no systemd cgroup driver in this binary"
        continue
    fi
    for group in $groups; do
        start=$(cut -d' ' -f1 /proc/uptime)
        group_$group
        say "INFO time $RT/$group: $(awk -v a=$start -v b=$(cut -d' ' -f1 /proc/uptime) 'BEGIN { printf "%.1f s", b - a }')"
    done
    group_leftovers
done
say "DONE"
