#!/usr/bin/env bash
# `make bench-swarm`: the swarm lab (bench/swarm/lab.py) with its defaults, S = 100 MB, R = 100 Mbit/s,
# N in {2, 4, 8}, every scenario. Override with SWARM_SIZE_MB, SWARM_RATE_MBIT, SWARM_N ("2 4 8"),
# SWARM_SCENARIOS (docket,docket-http,registry,aria2c,libtorrent), SWARM_OUT, DOCKET_CLI. Needs root.
set -euo pipefail
cd "$(dirname "$0")/../.."
/usr/bin/python3 bench/swarm/lab.py --check  # bad SWARM_* settings fail before the build
if [ -z "${DOCKET_CLI:-}" ]; then
  swift build -c release --static-swift-stdlib --product docket-cli
  DOCKET_CLI=$(swift build -c release --show-bin-path)/docket-cli
fi
export DOCKET_CLI
echo "machine: $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')), $(free -g | awk '/Mem:/ {print $2}') GiB, Linux $(uname -r)"
exec /usr/bin/python3 bench/swarm/lab.py
