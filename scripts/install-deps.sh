#!/usr/bin/env bash
# Installs the Debian packages Docket builds and tests with; installs only what is missing.
set -euo pipefail
packages=(
  libssl-dev libcurl4-openssl-dev libmicrohttpd-dev libsqlite3-dev zlib1g-dev pkg-config
  docker.io docker-registry aria2 mktorrent ctorrent opentracker transmission-cli python3-libtorrent
  umoci skopeo podman busybox-static iproute2 nftables curl wrk gnuplot-nox
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
command -v swift >/dev/null || { echo "swift not found: install the Swift 6.3 toolchain and put it on PATH" >&2; exit 1; }
