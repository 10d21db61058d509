#!/bin/sh
# trace.sh: link-order.py's commands (/steps: one a line, arguments separated by tabs) each run under bptrace, as
# link-order.py runs them on the host, on to the next once the command has returned (its init may still be
# followed). Then every function entered, in first-entered order per command: "H STEP ADDRESS [c]" on fd 3 (c: by
# a cloned process).
export PATH=/bin
mkdir -p /run/order /tmp/order /tmp/spec2  # /tmp/spec2: where the last command writes a spec
n=0
while IFS= read -r line; do
    set -- $(echo "$line" | tr '\t' ' ')
    bptrace /functions /tmp/order/hits$n -- "$@" </dev/null >/dev/null 2>/tmp/order/err$n &
    eval "pid$n=$!"
    tries=3000
    while [ ! -e /tmp/order/hits$n.done ] && [ $tries -gt 0 ]; do sleep 0.1; tries=$((tries - 1)); done
    [ -e /tmp/order/hits$n.done ] || echo "FAIL step $n ($line): did not return in 300 s" >&3
    n=$((n + 1))
done < /steps
i=0
while [ $i -lt $n ]; do
    eval "wait \$pid$i" || echo "FAIL step $i: exit $? under bptrace: $(tail -n1 /tmp/order/err$i)" >&3
    while read -r address caller who; do echo "H $i $address $who"; done < /tmp/order/hits$i >&3
    i=$((i + 1))
done
echo DONE >&3
