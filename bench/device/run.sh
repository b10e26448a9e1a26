#!/usr/bin/env bash
# npm run bench:device: the whole GPU comparison (bench/device/device-bench.ts) from the packed bundle, on a
# machine with the working tree, that one archive and Node, and no network. Unpacks the bundle into
# $BENCH_DEVICE_DIR (default /tmp/hearth-bench-device), writes the models there (models/), and runs the bench
# with nothing of the tree's node_modules on its module path. The report lands in $OUT (default
# .bench-device/out): bench-device.json and bench-device.md, rewritten after every phase.
#   bash bench/device/run.sh [--mode auto|full|reduced] [--budget seconds]
# The bundle is made where node_modules is installed (npm run bench:device:pack; run.sh makes it there when missing).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
bundle="${BENCH_DEVICE_BUNDLE:-$root/.bench-device/bundle.tar.xz}"
dir="${BENCH_DEVICE_DIR:-/tmp/hearth-bench-device}"
out="${OUT:-$root/.bench-device/out}"
if [ ! -f "$bundle" ] && [ -d "$root/node_modules/esbuild" ] && [ -z "${BENCH_DEVICE_BUNDLE:-}" ]; then
  node "$root/bench/device/pack.mjs" # here, with node_modules installed: make it (a minute or two)
fi
if [ ! -f "$bundle" ]; then
  echo "bench:device: $bundle is missing. Make it where node_modules is installed (node bench/device/pack.mjs) and carry it along." >&2
  exit 1
fi
mkdir -p "$dir" "$out"
# Only the unpacked bundle is replaced: the models written by an earlier run stay.
rm -rf "$dir/bundle"
mkdir -p "$dir/bundle"
tar -C "$dir/bundle" -xJf "$bundle"
# Dawn and llama.cpp's Vulkan build need the Vulkan loader and the GPU's ICD. The bundle carries a loader for an
# image without one; an NVIDIA driver whose ICD file is missing gets one pointing at its libGLX_nvidia.
if ! ldconfig -p 2>/dev/null | grep -q 'libvulkan\.so\.1 ' && [ -f "$dir/bundle/lib/libvulkan.so.1" ]; then
  export LD_LIBRARY_PATH="$dir/bundle/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
fi
if ! ls /usr/share/vulkan/icd.d/nvidia* /etc/vulkan/icd.d/nvidia* >/dev/null 2>&1 && ldconfig -p 2>/dev/null | grep -q 'libGLX_nvidia\.so\.0'; then
  printf '{"file_format_version":"1.0.0","ICD":{"library_path":"libGLX_nvidia.so.0","api_version":"1.3"}}\n' > "$dir/nvidia_icd.json"
  export VK_ADD_DRIVER_FILES="$dir/nvidia_icd.json"
fi
# What the machine offers, for the record (the JSON has the adapter as WebGPU sees it).
{
  node -e 'const m = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")); delete m.sources; console.log(JSON.stringify(m))' "$dir/bundle/manifest.json"
  command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || echo 'no nvidia-smi'
  ldconfig -p 2>/dev/null | grep -E 'libvulkan\.so|libGLX_nvidia|libcuda\.so|libcublas' || true
  ls -l /usr/share/vulkan/icd.d /etc/vulkan/icd.d 2>/dev/null || true
  echo "LD_LIBRARY_PATH=${LD_LIBRARY_PATH:-} VK_ADD_DRIVER_FILES=${VK_ADD_DRIVER_FILES:-}"
} > "$out/environment.txt" 2>&1 || true
grep -m1 -v '^[{ ]' "$out/environment.txt" >&2 || true
cd "$dir/bundle"
unset NODE_PATH NODE_OPTIONS
export HEARTH_BENCH_CACHE="$dir/models" OUT="$out" HEARTH_TREE="$root"
exec node device-bench.mjs --out "$out" "$@"
