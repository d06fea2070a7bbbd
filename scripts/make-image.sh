#!/usr/bin/env bash
# Builds a real, runnable image archive without a Docker engine: busybox (static) in one layer,
# PAYLOAD_MB of random data in a second, a small config file in a third, assembled with umoci and
# written by skopeo in the `docker save` format.
# usage: scripts/make-image.sh OUT.tar NAME:TAG [PAYLOAD_MB]
set -euo pipefail
out=$1; ref=$2; payload_mb=${3:-64}
if ! [[ $payload_mb =~ ^[0-9]+$ ]] || (( 10#$payload_mb < 1 )); then
  echo "make-image.sh: PAYLOAD_MB must be a whole number of MB above 0, not '$payload_mb'" >&2
  exit 64
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
layout=$work/layout; bundle=$work/bundle
umoci init --layout "$layout"
umoci new --image "$layout:img"
step() { # adds one layer made by the function named in $1
  umoci unpack --rootless --image "$layout:img" "$bundle" >/dev/null
  "$1" "$bundle/rootfs"
  umoci repack --image "$layout:img" "$bundle" >/dev/null
  rm -rf "$bundle"
}
base() { mkdir -p "$1/bin"; cp /bin/busybox "$1/bin/busybox"; for a in sh ls cat echo sha256sum; do ln -s busybox "$1/bin/$a"; done; }
payload() { mkdir -p "$1/data"; head -c "$((payload_mb * 1024 * 1024))" /dev/urandom > "$1/data/payload.bin"; }
app() { mkdir -p "$1/etc"; echo "built by docket make-image at $(date -u +%FT%TZ)" > "$1/etc/docket-demo"; }
step base; step payload; step app
umoci config --image "$layout:img" --config.cmd /bin/sh --config.workingdir / >/dev/null
rm -f "$out"
skopeo copy --quiet "oci:$layout:img" "docker-archive:$out:$ref"
