#!/usr/bin/env bash
# One host of the lab's `registry` scenario: fetches every blob from a Distribution registry over
# HTTP, all at once (as `docker pull` does), checks each against its sha256 digest, prints `verified`.
# usage: http_fetch.sh BLOBS_URL DIR DIGEST...
set -euo pipefail
url=$1 dir=$2; shift 2
pids=()
for digest in "$@"; do
  curl -fsSL -o "$dir/${digest#sha256:}" "$url/$digest" &
  pids+=($!)
done
for p in "${pids[@]}"; do wait "$p"; done
for digest in "$@"; do
  hex=${digest#sha256:}
  [ "$(sha256sum "$dir/$hex" | cut -d' ' -f1)" = "$hex" ] || { echo "$digest does not verify"; exit 1; }
done
echo verified
