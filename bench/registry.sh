#!/usr/bin/env bash
# Registry benchmark (not a test): Docket (`docket-cli serve`) vs the reference registry
# (`docker-registry`, Distribution 2.8) in the same run, on loopback.
#  - push: PUSH_CLIENTS parallel clients each push PUSH_BLOBS distinct PUSH_MB MiB blobs (POST + PUT)
#  - pull: blob GET throughput with GET_CLIENTS concurrent connections (wrk) for GET_SECONDS,
#          on a GET_MB MiB blob and on a 4 KiB blob
#  - peak RSS of each server (VmHWM) after the run
# usage: bench/registry.sh   (env: DOCKET_CLI, PUSH_CLIENTS, PUSH_BLOBS, PUSH_MB, GET_CLIENTS, GET_SECONDS, GET_MB)
set -euo pipefail
cd "$(dirname "$0")/.."
cli=${DOCKET_CLI:-.build/release/docket-cli}
push_clients=${PUSH_CLIENTS:-4}; push_blobs=${PUSH_BLOBS:-4}; push_mb=${PUSH_MB:-32}
get_clients=${GET_CLIENTS:-64}; get_seconds=${GET_SECONDS:-10}; get_mb=${GET_MB:-8}
command -v wrk >/dev/null || { echo "wrk not found: run scripts/install-deps.sh" >&2; exit 1; }
[ -x "$cli" ] || { echo "$cli not found: swift build -c release --product docket-cli" >&2; exit 1; }

work=$(mktemp -d /tmp/docket-bench-registry.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_up() { for _ in $(seq 1 100); do curl -fsS "$1/v2/" >/dev/null 2>&1 && return 0; sleep 0.1; done; echo "$1 did not start" >&2; exit 1; }
rss_kib() { awk '/VmHWM/ {print $2}' "/proc/$1/status"; }

docket_port=$(free_port)
"$cli" serve --data "$work/docket" --bind 127.0.0.1 --port "$docket_port" >"$work/docket.log" 2>&1 &
docket_pid=$!; pids+=("$docket_pid")
ref_port=$(free_port)
cat >"$work/ref.yml" <<YML
version: 0.1
log: {level: error}
storage:
  filesystem: {rootdirectory: $work/ref}
  delete: {enabled: true}
http: {addr: "127.0.0.1:$ref_port"}
YML
docker-registry serve "$work/ref.yml" >"$work/ref.log" 2>&1 &
ref_pid=$!; pids+=("$ref_pid")
wait_up "http://127.0.0.1:$docket_port"; wait_up "http://127.0.0.1:$ref_port"

# Distinct random blobs for the pushes, one small and one large blob for the GETs.
mkdir -p "$work/blobs"
for c in $(seq 1 "$push_clients"); do for b in $(seq 1 "$push_blobs"); do
  head -c "$((push_mb << 20))" /dev/urandom >"$work/blobs/push-$c-$b"
done; done
head -c "$((get_mb << 20))" /dev/urandom >"$work/blobs/get-large"
head -c 4096 /dev/urandom >"$work/blobs/get-small"

push_one() { # base name file
  local digest location
  digest="sha256:$(sha256sum "$3" | cut -d' ' -f1)"
  location=$(curl -fsS -X POST -D - -o /dev/null "$1/v2/$2/blobs/uploads/" | tr -d '\r' | awk 'tolower($1)=="location:" {print $2}')
  case "$location" in http*) ;; *) location="$1$location" ;; esac
  case "$location" in *\?*) location="$location&digest=$digest" ;; *) location="$location?digest=$digest" ;; esac
  curl -fsS -X PUT -H 'Content-Type: application/octet-stream' --data-binary @"$3" -o /dev/null "$location"
  echo "$digest"
}
push_all() { # base
  local clients=()
  for c in $(seq 1 "$push_clients"); do
    ( for b in $(seq 1 "$push_blobs"); do push_one "$1" "bench/push$c" "$work/blobs/push-$c-$b" >/dev/null; done ) &
    clients+=($!)
  done
  for p in "${clients[@]}"; do wait "$p"; done   # not a bare `wait`: the servers are children too
}
now() { date +%s.%N; }

declare -A result
for target in docket reference; do
  if [ "$target" = docket ]; then base="http://127.0.0.1:$docket_port"; else base="http://127.0.0.1:$ref_port"; fi
  start=$(now); push_all "$base"; end=$(now)
  total_mb=$((push_clients * push_blobs * push_mb))
  result[$target.push]=$(awk -v mb="$total_mb" -v s="$start" -v e="$end" 'BEGIN { printf "%.1f MB/s (%d MiB in %.2f s)", mb / (e - s), mb, e - s }')
  large=$(push_one "$base" bench/get "$work/blobs/get-large")
  small=$(push_one "$base" bench/get "$work/blobs/get-small")
  sleep 2   # let Docket finish hashing torrents of the pushed blobs before timing GETs
  for kind in large small; do
    digest=${large}; [ "$kind" = small ] && digest=${small}
    out=$(wrk -t2 -c"$get_clients" -d"${get_seconds}s" "$base/v2/bench/get/blobs/$digest" 2>&1)
    rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out"); tps=$(awk '/Transfer\/sec/ {print $2}' <<<"$out")
    errors=$(awk '/Non-2xx|Socket errors/ {print}' <<<"$out" | tr '\n' ' ')
    result[$target.get.$kind]="$rps req/s, $tps ${errors}"
  done
done
result[docket.rss]="$(rss_kib "$docket_pid") KiB"
result[reference.rss]="$(rss_kib "$ref_pid") KiB"

echo "registry benchmark: $push_clients clients x $push_blobs blobs x $push_mb MiB pushed; GET with $get_clients connections for ${get_seconds} s"
printf '%-10s %-40s %-36s %-36s %s\n' server push "GET ${get_mb} MiB blob" "GET 4 KiB blob" "peak RSS"
for target in docket reference; do
  printf '%-10s %-40s %-36s %-36s %s\n' "$target" "${result[$target.push]}" "${result[$target.get.large]}" "${result[$target.get.small]}" "${result[$target.rss]}"
done
