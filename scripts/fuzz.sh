#!/bin/sh
# make fuzz: runs each libFuzzer target for SECONDS seconds on its corpus (seeds + what earlier runs found),
# keeps going after a crash (the input is saved and the target restarted for the time left), and prints the
# executions and crashes per target. Exit status 1 when any target crashed.
#
# usage: scripts/fuzz.sh FUZZ_BINARY SECONDS_PER_TARGET WORK_DIR [TARGET...]
set -u
bin=$1
seconds=$2
mkdir -p "$3"
work=$(cd "$3" && pwd)  # absolute: the targets' fake bundle and cgroup hierarchies live under it
shift 3
targets=${*:-config process resources state json hook dbus}

# Each run is capped by libFuzzer (-max_total_time); -timeout makes a hang a finding, -rss_limit_mb an OOM one.
total_crashes=0
summary=""
for target in $targets; do
    corpus=$work/corpus/$target
    crashes=$work/crashes/$target
    mkdir -p "$corpus" "$crashes"
    log=$work/$target.log
    : >"$log"
    executions=0
    found=0
    start=$(date +%s)
    while :; do
        left=$((seconds - ($(date +%s) - start)))
        [ "$left" -gt 0 ] || break
        SWIFT_BACKTRACE=enable=no CRABCAN_FUZZ_TARGET=$target CRABCAN_FUZZ_SCRATCH="$work/scratch" "$bin" -max_total_time="$left" -print_final_stats=1 -timeout=10 \
            -rss_limit_mb=2560 -malloc_limit_mb=512 -max_len=65536 -dict="$work/seeds/json.dict" \
            -artifact_prefix="$crashes/" "$corpus" "$work/seeds/$target" >>"$log" 2>&1
        status=$?
        runs=$(grep 'stat::number_of_executed_units' "$log" | tail -1 | awk '{print $2}')
        executions=$((executions + ${runs:-0}))
        # Count this run's stats once: later runs append their own.
        sed -i 's/stat::number_of_executed_units/counted::number_of_executed_units/' "$log"
        [ "$status" -eq 0 ] && break
        found=$((found + 1))
        echo "fuzz $target: crash (exit $status), input saved in $crashes/; see $log" >&2
    done
    rm -rf "$work/scratch"
    elapsed=$(($(date +%s) - start))
    total_crashes=$((total_crashes + found))
    line=$(printf '%-10s %10d executions in %4d s (%6d/s), %d crash(es), corpus %d inputs' "$target" "$executions" \
        "$elapsed" "$((executions / (elapsed > 0 ? elapsed : 1)))" "$found" "$(ls "$corpus" | wc -l)")
    echo "$line"
    summary="$summary$line
"
done
echo "---"
printf '%s' "$summary"
ls "$work"/crashes/*/ 2>/dev/null | grep -E '^(crash|leak|timeout|oom|slow-unit)-' >/dev/null && \
    echo "saved inputs: $(ls -d "$work"/crashes/*/* 2>/dev/null | tr '\n' ' ')"
[ "$total_crashes" -eq 0 ]
