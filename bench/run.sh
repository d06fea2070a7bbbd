#!/usr/bin/env bash
# `make bench`: Docket beside its named peers, in one run, on this machine.
#   1. torrent creation of a SIZE_MB file: docket-bench create vs mktorrent (same piece length, 2 threads)
#   2. one seeder -> one leecher over loopback: Docket vs aria2c vs libtorrent, each as two processes
#      with the same .torrent through the same opentracker (bench/transfer.py)
# Numbers, not assertions; nothing here is a test. SIZE_MB (default 1024), RUNS (default 3),
# BENCH_SYSTEMS (default docket,aria2c,libtorrent).
set -euo pipefail
cd "$(dirname "$0")/.."
size_mb=${SIZE_MB:-1024}
runs=${RUNS:-3}
bin=$(swift build -c release --show-bin-path)
mkdir -p /var/tmp/docket-bench
work=$(mktemp -d /var/tmp/docket-bench/run.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
now() { date +%s.%N; }

echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(uname -r); load:$(uptime | sed 's/.*load average://')"
echo "payload: ${size_mb} MiB of random bytes"
mkdir -p "$work/seed"
head -c "$((size_mb * 1024 * 1024))" /dev/urandom > "$work/seed/file.bin"
file="$work/seed/file.bin"
bytes=$(stat -c %s "$file"); mb=$(awk -v b="$bytes" 'BEGIN { print b / 1e6 }')

echo; echo "== torrent creation"
"$bin/docket-bench" create "$file" --runs "$runs"
piece_kib=$("$bin/docket-bench" create "$file" --runs 1 | awk '/piece length/ {print $3}')
exp=$(awk -v k="$piece_kib" 'BEGIN { print int(log(k * 1024) / log(2) + 0.5) }')
best=""
for run in $(seq 0 "$runs"); do
  rm -f "$work/m.torrent"; t0=$(now)
  mktorrent -l "$exp" -t 2 -p -a http://127.0.0.1:1/announce -o "$work/m.torrent" "$file" >/dev/null
  t1=$(now); [ "$run" -eq 0 ] && continue
  d=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')
  if [ -z "$best" ] || awk -v d="$d" -v b="$best" 'BEGIN { exit !(d < b) }'; then best=$d; fi
done
awk -v s="$mb" -v d="$best" 'BEGIN { printf "mktorrent create %.0f MB: best %.2f s, %.0f MB/s\n", s, d, s / d }'

echo; echo "== loopback transfer, one seeder -> one leecher (piece length ${piece_kib} KiB)"
port=$((20000 + RANDOM % 20000))
mkdir -p "$work/ot"
cat > "$work/ot/opentracker.conf" <<CONF
listen.tcp_udp 127.0.0.1:$port
tracker.rootdir $work/ot
access.whitelist /whitelist
CONF
mktorrent -l "$exp" -t 2 -p -a "http://127.0.0.1:$port/announce" -o "$work/file.torrent" "$file" >/dev/null
aria2c -S "$work/file.torrent" | awk '/Info Hash/ {print $3}' > "$work/ot/whitelist"
opentracker -f "$work/ot/opentracker.conf" >/dev/null 2>&1 &
pids+=($!)
/usr/bin/python3 bench/transfer.py "$work" "$file" "$work/file.torrent" "$port" "$bin/docket-bench" "$runs"
