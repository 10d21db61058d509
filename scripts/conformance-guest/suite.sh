#!/bin/sh
# suite.sh: the runtime-tools validation files run.py copied into /suite (validation/NAME/NAME.t, with runtimetest
# and the rootfs tarball they read from their working directory), each against /bin/crabcan, scored as
# ../shared/conformance/validate.sh scores them: a *_fail file passes when it exits 0 with no "not ok", every other
# file when it exits 0 with at least one "ok" and no "not ok". One line per file on fd 3: "PASS suite/NAME" or
# "FAIL suite/NAME: its first failing line" ("SKIP" for a file /suite/racy names: a race in the suite).
export PATH=/usr/local/bin:/bin
cd /suite || { echo "FAIL suite: no /suite" >&3; exit; }
for t in validation/*/*.t; do
    name=$(basename "$t" .t)
    RUNTIME=/bin/crabcan timeout 300 "./$t" > /tmp/$name.tap 2>&1 </dev/null
    rc=$?
    nok=$(grep -c '^not ok' /tmp/$name.tap)
    ok=$(grep -c '^ok' /tmp/$name.tap)
    case $name in
        *_fail) good=$([ $rc = 0 ] && [ "$nok" = 0 ] && echo y) ;;
        *) good=$([ $rc = 0 ] && [ "$ok" -gt 0 ] && [ "$nok" = 0 ] && echo y) ;;
    esac
    race=$(sed -n "s/^$name: //p" /suite/racy)
    if [ -n "$good" ]; then
        echo "PASS suite/$name: $ok ok" >&3
    elif [ -n "$race" ]; then
        echo "SKIP suite/$name: failed, a race in the suite: $race" >&3
    else
        why=$(grep -m1 '^not ok' /tmp/$name.tap || grep -m1 -v -e '^TAP version' -e '^1\.\.' -e '^ *$' /tmp/$name.tap)
        [ $rc = 124 ] && why="timed out after 300 s"
        echo "FAIL suite/$name: exit $rc: $(echo "$why" | cut -c1-300)" >&3
        # What the file said around its failure, for the log.
        grep -v -e '^ok' -e '^TAP version' /tmp/$name.tap | head -n 20 | cut -c1-300 | sed "s|^|INFO suite/$name: |" >&3
    fi
done
echo DONE >&3
