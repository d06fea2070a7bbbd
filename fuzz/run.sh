#!/usr/bin/env bash
# `make fuzz`: builds each libFuzzer target (the DocketTorrent codecs compiled with
# -sanitize=fuzzer, DocketCore replaced by DocketCoreStub.swift) and runs it for FUZZ_SECONDS.
# A crash leaves its input in fuzz/crashes/ and fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${FUZZ_SECONDS:-60}
out=${FUZZ_OUT:-.build/fuzz}
mkdir -p "$out/stub" fuzz/crashes
src=Sources/DocketTorrent
codecs=("$src"/Bencode/*.swift "$src"/PeerWire/*.swift "$src"/Identifiers.swift "$src"/Tracker/AnnounceResponse.swift
        "$src"/Tracker/TrackerError.swift "$src"/Metainfo/Metainfo.swift "$src"/Metainfo/MetainfoParsing.swift
        "$src"/Metainfo/MetainfoError.swift "$src"/Metainfo/FileEntry.swift)
swiftc -parse-as-library -module-name DocketCore -emit-module -emit-module-path "$out/stub/DocketCore.swiftmodule" \
  -emit-library -static -o "$out/stub/libDocketCore.a" fuzz/DocketCoreStub.swift
status=0
for target in Bencode Metainfo TrackerResponse PeerWire; do
  swiftc -O -sanitize=fuzzer -parse-as-library -module-name FuzzDocket -I "$out/stub" -L "$out/stub" -lDocketCore \
    "fuzz/Fuzz$target.swift" "${codecs[@]}" -o "$out/fuzz-$target"
  mkdir -p "$out/corpus-$target"
  echo "== $target: ${seconds} s"
  if ! "$out/fuzz-$target" -max_total_time="$seconds" -max_len=4096 -artifact_prefix="fuzz/crashes/$target-" \
       "$out/corpus-$target" 2>&1 | tail -3; then
    status=1
  fi
done
exit $status
