#!/usr/bin/env bash
# `make bench`: Docket beside its named peers, in one run, on this machine.
#   1. torrent creation of a SIZE_MB file: docket-bench create vs mktorrent (same piece length, 2 threads)
#   2. one seeder -> one leecher over loopback: Docket vs aria2c (through opentracker)
# Numbers, not assertions; nothing here is a test.
set -euo pipefail
cd "$(dirname "$0")/.."
size_mb=${SIZE_MB:-1024}
bin=$(swift build -c release --show-bin-path)
work=$(mktemp -d /tmp/docket-bench.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
now() { date +%s.%N; }
rate() { awk -v s="$1" -v a="$2" -v b="$3" 'BEGIN { printf "%.2f s, %.0f MB/s", b - a, s / (b - a) }'; }

echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(uname -r)"
echo "payload: ${size_mb} MiB of random bytes"
head -c "$((size_mb * 1024 * 1024))" /dev/urandom > "$work/file.bin"
bytes=$(stat -c %s "$work/file.bin"); mb=$(awk -v b="$bytes" 'BEGIN { print b / 1e6 }')

echo; echo "== torrent creation"
"$bin/docket-bench" create "$work/file.bin" --runs 3
piece_kib=$("$bin/docket-bench" create "$work/file.bin" --runs 1 | awk '/piece length/ {print $3}')
exp=$(awk -v k="$piece_kib" 'BEGIN { print int(log(k * 1024) / log(2) + 0.5) }')
best=""
for run in 1 2 3 4; do
  rm -f "$work/m.torrent"; t0=$(now)
  mktorrent -l "$exp" -t 2 -p -a http://127.0.0.1:1/announce -o "$work/m.torrent" "$work/file.bin" >/dev/null
  t1=$(now); [ "$run" -eq 1 ] && continue
  d=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')
  if [ -z "$best" ] || awk -v d="$d" -v b="$best" 'BEGIN { exit !(d < b) }'; then best=$d; fi
done
awk -v s="$mb" -v d="$best" 'BEGIN { printf "mktorrent create %.0f MB: best %.2f s, %.0f MB/s\n", s, d, s / d }'

echo; echo "== loopback transfer, one seeder -> one leecher"
"$bin/docket-bench" transfer "$work/file.bin" --runs 3

port=$((20000 + RANDOM % 20000))
mkdir -p "$work/ot" "$work/seed" "$work/leech"
cat > "$work/ot/opentracker.conf" <<CONF
listen.tcp_udp 127.0.0.1:$port
tracker.rootdir $work/ot
access.whitelist /whitelist
CONF
mktorrent -l "$exp" -t 2 -p -a "http://127.0.0.1:$port/announce" -o "$work/a.torrent" "$work/file.bin" >/dev/null
aria2c -S "$work/a.torrent" | awk '/Info Hash/ {print $3}' > "$work/ot/whitelist"
opentracker -f "$work/ot/opentracker.conf" >/dev/null 2>&1 &
pids+=($!)
ln "$work/file.bin" "$work/seed/file.bin"
common=(--enable-dht=false --enable-dht6=false --bt-enable-lpd=false --bt-external-ip=127.0.0.1 --summary-interval=0
        --console-log-level=warn --file-allocation=none --bt-max-peers=0)
aria2c "${common[@]}" --dir="$work/seed" --listen-port=$((port + 1)) --seed-ratio=0.0 --bt-seed-unverified=true \
  "$work/a.torrent" >/dev/null 2>&1 &
pids+=($!)
sleep 1
best=""
for run in 1 2 3 4; do
  rm -rf "$work/leech"; mkdir -p "$work/leech"; t0=$(now)
  aria2c "${common[@]}" --dir="$work/leech" --listen-port=$((port + 2)) --seed-time=0 "$work/a.torrent" >/dev/null
  t1=$(now); [ "$run" -eq 1 ] && continue
  cmp -s "$work/leech/file.bin" "$work/file.bin" || { echo "aria2c copy differs"; exit 1; }
  d=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')
  if [ -z "$best" ] || awk -v d="$d" -v b="$best" 'BEGIN { exit !(d < b) }'; then best=$d; fi
done
awk -v s="$mb" -v d="$best" 'BEGIN { printf "aria2c transfer %.0f MB: best %.2f s, %.0f MB/s (process start and announce included)\n", s, d, s / d }'
