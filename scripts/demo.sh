#!/usr/bin/env bash
# The main job: a real deploy on the embedded defaults, on loopback.
# Starts `docket-cli serve`, builds a real image, pushes it, lists it, pulls it with three
# concurrent clients into separate stores over BitTorrent, verifies every layer, and loads it into
# a private dockerd. Everything it starts is stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
cli=${DOCKET_CLI:-$(swift build -c release --show-bin-path)/docket-cli}
port=${DOCKET_DEMO_PORT:-5055}
payload_mb=${DOCKET_DEMO_PAYLOAD_MB:-96}
work=$(mktemp -d /tmp/docket-demo.XXXXXX)
registry="http://127.0.0.1:$port"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  [ -d "$work/dockerd" ] && scripts/dockerd.sh stop "$work/dockerd" || true
  rm -rf "$work"
}
trap cleanup EXIT
t0=$(date +%s.%N)
elapsed() { awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }
say() { printf '\n==> [%ss] %s\n' "$(elapsed)" "$*"; }

say "starting docket-cli serve on $registry (data in $work/registry)"
"$cli" serve --data "$work/registry" --bind 127.0.0.1 --port "$port" > "$work/serve.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do curl -fsS "$registry/v2/" >/dev/null 2>&1 && break; sleep 0.1; done
curl -fsS "$registry/v2/" >/dev/null || { cat "$work/serve.log"; exit 1; }

say "building a real image (busybox + ${payload_mb} MB payload + app layer) with umoci and skopeo"
scripts/make-image.sh "$work/demo-app.tar" demo/app:1.0 "$payload_mb"
ls -l "$work/demo-app.tar"

say "pushing demo/app:1.0"
"$cli" push --registry "$registry" "$work/demo-app.tar" demo/app:1.0

say "listing images"
"$cli" images --registry "$registry"

docker_host=""
if command -v dockerd >/dev/null && [ "$(id -u)" -eq 0 ]; then
  say "starting a private dockerd"
  docker_host=$(scripts/dockerd.sh start "$work/dockerd") || docker_host=""
fi

say "pulling demo/app:1.0 with 3 concurrent clients (each seeds to the others)"
for i in 1 2 3; do
  args=(pull demo/app:1.0 --registry "$registry" --store "$work/client$i" --seed-time 5)
  if [ "$i" -eq 1 ] && [ -n "$docker_host" ]; then
    DOCKER_HOST=$docker_host "$cli" "${args[@]}" > "$work/pull$i.log" 2>&1 &
  else
    "$cli" "${args[@]}" --output "$work/client$i.tar" > "$work/pull$i.log" 2>&1 &
  fi
  pids+=($!)
  pull_pids[$i]=$!
done
status=0
for i in 1 2 3; do
  if wait "${pull_pids[$i]}"; then :; else status=1; fi
  echo "--- client $i"; tail -n 4 "$work/pull$i.log"
done
[ "$status" -eq 0 ] || { echo "a pull failed"; cat "$work"/pull*.log; exit 1; }

say "verifying every layer in every client's store against its digest"
manifest=$(curl -fsS -H 'Accept: application/vnd.oci.image.manifest.v1+json' "$registry/v2/demo/app/manifests/1.0")
digests=$(printf '%s' "$manifest" | python3 -c 'import json,sys; m=json.load(sys.stdin); print(" ".join(d["digest"] for d in [m["config"]]+m["layers"]))')
config=$(printf '%s' "$manifest" | python3 -c 'import json,sys; print(json.load(sys.stdin)["config"]["digest"])')
for i in 1 2 3; do
  for d in $digests; do
    hex=${d#sha256:}
    got=$(sha256sum "$work/client$i/blobs/sha256/$hex" | cut -d' ' -f1)
    [ "$got" = "$hex" ] || { echo "client $i: $d does not verify"; exit 1; }
  done
  echo "client $i: $(echo $digests | wc -w) blobs (config + layers) verified"
done

if [ -n "$docker_host" ]; then
  say "checking the image client 1 loaded into dockerd"
  id=$(DOCKER_HOST=$docker_host docker image inspect demo/app:1.0 --format '{{.Id}}')
  echo "docker image inspect demo/app:1.0 -> $id (config digest $config)"
  [ "$id" = "$config" ] || { echo "image ID differs from the config digest"; exit 1; }
  echo "loading client 2's archive (--output) into the same dockerd:"
  DOCKER_HOST=$docker_host docker load -i "$work/client2.tar" | tail -1
else
  kept=$(mktemp -d /tmp/docket-demo-archives.XXXXXX)
  cp "$work/client1.tar" "$work/client2.tar" "$work/client3.tar" "$kept/"
  say "no dockerd could start here (needs root); the clients wrote archives instead, kept in $kept (docker load -i them)"
fi

say "done: pushed, listed, pulled by 3 clients over BitTorrent and verified in $(elapsed) s"
