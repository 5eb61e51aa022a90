#!/usr/bin/env bash
# Runs the CUDA kernels' own code on the host: every .cu in ../src is rewritten by to_host.py,
# compiled with g++ against host/ (a stand-in cuda_runtime_api.h and an emulator that runs each block
# as real threads with barriers for __syncthreads and __shfl_down_sync), and parity_test.cpp compares
# every entry with float64 direct sums. No GPU, driver or nvcc needed. Usage: run.sh [seed]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for f in "$here"/../src/*.cu; do
  python3 "$here/to_host.py" "$f" "$work/$(basename "${f%.cu}").cpp"
done
cp "$here"/../src/*.cuh "$work"/
# Twice: with the hardware's grid caps, and with y/z capped at 2 blocks so every stride loop runs.
for cap in 65535u 2u; do
  g++ -std=c++20 -O1 -pthread -Wall -Wno-unknown-pragmas -Wno-unused-function -DLONGCONV_MAX_GRID_YZ=$cap \
      -I "$here/host" -I "$here/../include" -I "$work" "$work"/*.cpp "$here/parity_test.cpp" -o "$work/parity_test"
  echo "grid y/z cap $cap:"
  "$work/parity_test" "${1:-12345}"
done
