#!/usr/bin/env bash
# Configures and builds the CUDA library with the top-level CMakeLists.txt when nvcc is present.
# Called by Maven (kernels-cuda, phase compile). Without nvcc or cmake it says so on one line and
# exits 0: the Java build and every CPU path work without CUDA.
set -euo pipefail
root=$1
target=$2
nvcc=${CUDACXX:-}
if [ -z "$nvcc" ]; then
  if command -v nvcc >/dev/null 2>&1; then nvcc=$(command -v nvcc)
  elif [ -x "${CUDA_HOME:-/usr/local/cuda}/bin/nvcc" ]; then nvcc=${CUDA_HOME:-/usr/local/cuda}/bin/nvcc
  fi
fi
if [ -z "$nvcc" ]; then
  echo "[longconv] CUDA kernels skipped: nvcc not found (set CUDACXX or put nvcc on PATH to build them)"
  exit 0
fi
if ! command -v cmake >/dev/null 2>&1; then
  echo "[longconv] CUDA kernels skipped: cmake not found (install cmake >= 3.24 to build them)"
  exit 0
fi
out=$target/classes/dev/longconv/native/linux-x86_64
mkdir -p "$out"
cmake -S "$root" -B "$target/cmake" -DCMAKE_BUILD_TYPE=Release -DCMAKE_CUDA_COMPILER="$nvcc" \
      -DLONGCONV_NATIVE_OUT="$out" >"$target/cmake-configure.log" 2>&1 \
  || { cat "$target/cmake-configure.log"; exit 1; }
cmake --build "$target/cmake" -j "$(nproc 2>/dev/null || echo 2)" >"$target/cmake-build.log" 2>&1 \
  || { cat "$target/cmake-build.log"; exit 1; }
echo "[longconv] CUDA kernels built with $nvcc into $out"
