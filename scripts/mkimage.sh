#!/bin/sh
# mkimage.sh ROOTFS OUTDIR [REF [CMD]] — make a container image of ROOTFS offline, for the client tests:
#   OUTDIR/layer.tar     the rootfs as one uncompressed layer (what `podman import` takes)
#   OUTDIR/image.tar     an OCI image layout archive of that layer (what `ctr images import` takes)
# REF (default localhost/crabcan-busybox:test) is the image name recorded in the archive's index; CMD (a JSON
# array, default ["sh"]) its command (a pod's pause image: a sleep).
# Deterministic: the same rootfs gives the same digests (sorted entries, fixed mtimes).
set -eu

if [ $# -lt 2 ]; then
    echo "usage: $0 ROOTFS OUTDIR [REF]" >&2
    exit 2
fi
rootfs=$1
out=$2
ref=${3:-localhost/crabcan-busybox:test}
cmd=${4:-'["sh"]'}
[ -x "$rootfs/bin/busybox" ] || { echo "$0: $rootfs has no bin/busybox (make rootfs)" >&2; exit 1; }

mkdir -p "$out"
work=$(mktemp -d "$out/.mkimage.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/layout/blobs/sha256"

tar --sort=name --mtime=@0 --numeric-owner -C "$rootfs" -cf "$out/layer.tar" .

digest() { sha256sum "$1" | cut -d' ' -f1; }
size() { stat -c %s "$1"; }

# An uncompressed layer: its digest is also its diff_id.
layer=$(digest "$out/layer.tar")
cp "$out/layer.tar" "$work/layout/blobs/sha256/$layer"

printf '{"architecture":"amd64","os":"linux","config":{"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],"Cmd":%s},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]}}' \
    "$cmd" "$layer" > "$work/config.json"
config=$(digest "$work/config.json")
mv "$work/config.json" "$work/layout/blobs/sha256/$config"

printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%s},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"sha256:%s","size":%s}]}' \
    "$config" "$(size "$work/layout/blobs/sha256/$config")" "$layer" "$(size "$out/layer.tar")" > "$work/manifest.json"
manifest=$(digest "$work/manifest.json")
msize=$(size "$work/manifest.json")
mv "$work/manifest.json" "$work/layout/blobs/sha256/$manifest"

printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,"annotations":{"org.opencontainers.image.ref.name":"%s","io.containerd.image.name":"%s"}}]}' \
    "$manifest" "$msize" "$ref" "$ref" > "$work/layout/index.json"
printf '{"imageLayoutVersion":"1.0.0"}' > "$work/layout/oci-layout"

tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$work/layout" -cf "$out/image.tar" oci-layout index.json blobs
echo "$out/image.tar: $ref (manifest sha256:$manifest)"
