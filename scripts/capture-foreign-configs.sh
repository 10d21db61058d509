#!/bin/bash
# capture-foreign-configs.sh RUNTIME OUTDIR — the config.json that podman, containerd (ctr) and Docker write for a
# few typical containers, captured once from their bundle directories (issue 12; Tests/Golden/foreign/, read by
# Tests/IntegrationTests/ForeignConfigTests.swift). Each client gets a wrapper as its runtime that copies
# `$bundle/config.json` at `create` and then execs RUNTIME; every client runs with state of its own in a temp dir
# (as the client tests do) and is stopped and removed at the end. Then scripts/scrub-foreign-config.py makes them
# host-independent. Needs root, podman, containerd/ctr, dockerd, and the busybox rootfs (make rootfs).
set -eu
runtime=$(realpath "$1"); out=$(realpath -m "$2")
repo=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d /tmp/crabcan-capture.XXXXXX)
mkdir -p "$out" "$work/raw"
cleanup() {
    [ -n "${dockerd_pid:-}" ] && { docker_ rm -f $(docker_ ps -aq) >/dev/null 2>&1 || true; kill "$dockerd_pid"; wait "$dockerd_pid" || true; }
    [ -n "${ctrd_pid:-}" ] && { kill "$ctrd_pid"; wait "$ctrd_pid" || true; }
    podman_ rm --all --force --time 0 >/dev/null 2>&1 || true
    podman_ system reset --force >/dev/null 2>&1 || true
    for c in /sys/fs/cgroup/*/; do rmdir "$c/crabcan-capture" "$c/crabcan-capture-docker" 2>/dev/null || true; done
    rmdir /run/containerd/runc/crabcan-capture 2>/dev/null || true  # the runc shim's --root for our namespace
    grep -o " $work[^ ]*" /proc/self/mountinfo | sort -r | while read -r m; do umount -l "$m" || true; done
    rm -rf "$work"
}
trap cleanup EXIT

sh "$repo/scripts/mkimage.sh" "$repo/bundles/busybox/rootfs" "$work/image" localhost/crabcan-busybox:capture
cat > "$work/capture-runtime" <<WRAP
#!/bin/sh
prev=; create=
for a in "\$@"; do
    [ "\$a" = create ] && create=1
    if [ -n "\$create" ] && { [ "\$prev" = --bundle ] || [ "\$prev" = -b ]; }; then
        cp "\$a/config.json" "$work/raw/\$(cat $work/scenario).json"
    fi
    prev=\$a
done
exec $runtime "\$@"
WRAP
chmod 755 "$work/capture-runtime"
scenario() { echo "$1" > "$work/scenario"; }

# podman: containers.conf of its own naming the wrapper (as the podman tests do).
printf '[engine]\ncgroup_manager = "cgroupfs"\nevents_logger = "none"\nruntime = "capture"\n[engine.runtimes]\ncapture = ["%s"]\n' \
    "$work/capture-runtime" > "$work/containers.conf"
podman_() { CONTAINERS_CONF=$work/containers.conf podman --root "$work/p/root" --runroot "$work/p/runroot" --tmpdir "$work/p/tmp" \
    --storage-driver overlay --cgroup-manager cgroupfs --events-backend none "$@"; }
podman_ import --quiet "$work/image/layer.tar" localhost/crabcan-busybox:capture >/dev/null
pflags="--rm --network none --ulimit nofile=1024:1024 --ulimit nproc=1024:1024"
scenario podman-run;      podman_ run $pflags localhost/crabcan-busybox:capture true
scenario podman-readonly; podman_ run $pflags --read-only --cap-drop ALL --cap-add NET_BIND_SERVICE --user 1000:1000 localhost/crabcan-busybox:capture true
scenario podman-tty;      podman_ run $pflags -t localhost/crabcan-busybox:capture true

# containerd: a daemon of its own (the containerd tests' config), ctr with the wrapper as the shim's runc binary.
mkdir -p "$work/c"
cat > "$work/c/config.toml" <<TOML
version = 2
root = "$work/c/root"
state = "$work/c/state"
disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing"]
[grpc]
  address = "$work/c/sock"
[ttrpc]
  address = "$work/c/sock.ttrpc"
[debug]
  address = ""
[metrics]
  address = ""
TOML
containerd --config "$work/c/config.toml" >"$work/c/log" 2>&1 & ctrd_pid=$!
ctr_() { ctr --address "$work/c/sock" --namespace crabcan-capture "$@"; }
for i in $(seq 50); do ctr_ version >/dev/null 2>&1 && break; sleep 0.2; done
ctr_ images import "$work/image/image.tar" >/dev/null
cref=localhost/crabcan-busybox:capture
scenario ctr-run;      ctr_ run --rm --runc-binary "$work/capture-runtime" $cref cap1 true
scenario ctr-readonly; ctr_ run --rm --runc-binary "$work/capture-runtime" --read-only --cap-drop CAP_NET_RAW --seccomp $cref cap2 true
scenario ctr-tty;      script -qec "ctr --address $work/c/sock --namespace crabcan-capture run --rm --runc-binary $work/capture-runtime -t $cref cap3 true" /dev/null
kill "$ctrd_pid"; wait "$ctrd_pid" || true; ctrd_pid=

# Docker: dockerd by hand (the Docker tests' flags), the wrapper added as a runtime.
dockerd --data-root "$work/d/data" --exec-root "$work/d/exec" --pidfile "$work/d/pid" -H "unix://$work/d/sock" \
    --bridge=none --iptables=false --ip-masq=false --userland-proxy=false --exec-opt native.cgroupdriver=cgroupfs \
    --cgroup-parent /crabcan-capture-docker --default-ulimit nofile=1024:1024 --add-runtime "capture=$work/capture-runtime" \
    --log-level warn >"$work/dockerd.log" 2>&1 & dockerd_pid=$!
docker_() { DOCKER_CONFIG=$work/d/cli /usr/bin/docker -H "unix://$work/d/sock" "$@"; }
for i in $(seq 100); do docker_ version >/dev/null 2>&1 && break; sleep 0.3; done
docker_ import --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' --change 'CMD ["sh"]' \
    "$work/image/layer.tar" localhost/crabcan-busybox:capture >/dev/null
dflags="--rm --runtime capture --network none"
scenario docker-run;      docker_ run $dflags localhost/crabcan-busybox:capture true
scenario docker-readonly; docker_ run $dflags --read-only --cap-drop ALL --cap-add NET_BIND_SERVICE --user 1000:1000 localhost/crabcan-busybox:capture true
scenario docker-tty;      docker_ run $dflags -t localhost/crabcan-busybox:capture true

for f in "$work"/raw/*.json; do
    python3 "$repo/scripts/scrub-foreign-config.py" "$work" "$f" > "$out/$(basename "$f")"
done
ls "$out"
