#!/usr/bin/env bash
# npm run bench:device: the whole GPU comparison (bench/device/device-bench.ts) from the packed bundle, on a
# machine with the working tree, that one archive and Node, and no network. Unpacks the bundle into
# $BENCH_DEVICE_DIR (default /tmp/hearth-bench-device), writes the models there (models/), and runs the bench
# with nothing of the tree's node_modules on its module path. The report lands in $OUT (default
# .bench-device/out): bench-device.json and bench-device.md, rewritten after every phase.
#   bash bench/device/run.sh [--mode auto|full|reduced] [--budget seconds]
# Make the bundle first, where node_modules is installed: node bench/device/pack.mjs
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
bundle="${BENCH_DEVICE_BUNDLE:-$root/.bench-device/bundle.tar.xz}"
dir="${BENCH_DEVICE_DIR:-/tmp/hearth-bench-device}"
out="${OUT:-$root/.bench-device/out}"
if [ ! -f "$bundle" ]; then
  echo "bench:device: $bundle is missing. Make it where node_modules is installed (node bench/device/pack.mjs) and carry it along." >&2
  exit 1
fi
mkdir -p "$dir" "$out"
# Only the unpacked bundle is replaced: the models written by an earlier run stay.
rm -rf "$dir/bundle"
mkdir -p "$dir/bundle"
tar -C "$dir/bundle" -xJf "$bundle"
echo "bench:device: $(cat "$dir/bundle/manifest.json" | tr -d '\n ' | cut -c1-300)" >&2
# Which GPU, for the record (the JSON has the adapter as WebGPU sees it).
command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader >&2 || true
cd "$dir/bundle"
unset NODE_PATH NODE_OPTIONS
export HEARTH_BENCH_CACHE="$dir/models" OUT="$out" HEARTH_TREE="$root"
exec node device-bench.mjs --out "$out" "$@"
