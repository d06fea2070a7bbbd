#!/usr/bin/env bash
# Starts or stops a private dockerd (vfs storage, no networking changes) owned by the caller.
# usage: scripts/dockerd.sh start DIR   -> prints the socket path (unix://...) once it answers
#        scripts/dockerd.sh stop DIR    -> stops the daemon started in DIR and removes DIR
set -euo pipefail
cmd=$1; dir=$2
case "$cmd" in
start)
  mkdir -p "$dir"
  sock="$dir/docker.sock"
  dockerd --storage-driver=vfs --iptables=false --ip6tables=false --bridge=none \
    --host "unix://$sock" --data-root "$dir/data" --exec-root "$dir/exec" --pidfile "$dir/dockerd.pid" \
    >"$dir/dockerd.log" 2>&1 &
  echo $! > "$dir/launcher.pid"
  for _ in $(seq 1 60); do
    if DOCKER_HOST="unix://$sock" docker version >/dev/null 2>&1; then echo "unix://$sock"; exit 0; fi
    sleep 0.5
  done
  echo "dockerd did not start; log: $dir/dockerd.log" >&2
  tail -20 "$dir/dockerd.log" >&2 || true
  exit 1
  ;;
stop)
  pid=$(cat "$dir/dockerd.pid" 2>/dev/null || cat "$dir/launcher.pid" 2>/dev/null || true)
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill "$pid"
    for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  # vfs layers can hold mounts under exec-root; unmount before removing.
  grep -o " $dir[^ ]*" /proc/mounts | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
  rm -rf "$dir"
  ;;
*) echo "usage: $0 start|stop DIR" >&2; exit 64 ;;
esac
