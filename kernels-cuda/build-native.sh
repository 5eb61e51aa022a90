#!/usr/bin/env bash
# Configures and builds the CUDA library with the top-level CMakeLists.txt when nvcc is present, into
# TARGET/native-classes (the linux-x86_64 classifier artifact; the main jar never holds it).
# Called by Maven (kernels-cuda, phase compile): build-native.sh ROOT TARGET [REQUIRED]
# Without nvcc or cmake it says so on one line and exits 0 (the Java build and every CPU path work
# without CUDA), unless REQUIRED is true (the release profile): then it fails, so a release never ships
# a platform artifact without its library.
set -euo pipefail
root=$1
target=$2
required=${3:-false}
skip() {
  if [ "$required" = true ]; then
    echo "[longconv] release build needs the CUDA kernels, but $1; the linux-x86_64 artifact would be empty" >&2
    exit 1
  fi
  echo "[longconv] CUDA kernels skipped: $1"
  exit 0
}
if [ "$required" = true ] && [ "$(uname -s)-$(uname -m)" != "Linux-x86_64" ]; then
  echo "[longconv] release build must run on Linux x86-64 (the classifier artifact is linux-x86_64), not $(uname -s)-$(uname -m)" >&2
  exit 1
fi
nvcc=${CUDACXX:-}
if [ -z "$nvcc" ]; then
  if command -v nvcc >/dev/null 2>&1; then nvcc=$(command -v nvcc)
  elif [ -x "${CUDA_HOME:-/usr/local/cuda}/bin/nvcc" ]; then nvcc=${CUDA_HOME:-/usr/local/cuda}/bin/nvcc
  fi
fi
if [ -z "$nvcc" ]; then
  skip "nvcc not found (set CUDACXX or put nvcc on PATH to build them)"
fi
if ! command -v cmake >/dev/null 2>&1; then
  skip "cmake not found (install cmake >= 3.24 to build them)"
fi
out=$target/native-classes/dev/longconv/native/linux-x86_64
mkdir -p "$out"
cmake -S "$root" -B "$target/cmake" -DCMAKE_BUILD_TYPE=Release -DCMAKE_CUDA_COMPILER="$nvcc" \
      -DLONGCONV_NATIVE_OUT="$out" >"$target/cmake-configure.log" 2>&1 \
  || { cat "$target/cmake-configure.log"; exit 1; }
cmake --build "$target/cmake" -j "$(nproc 2>/dev/null || echo 2)" >"$target/cmake-build.log" 2>&1 \
  || { cat "$target/cmake-build.log"; exit 1; }
echo "[longconv] CUDA kernels built with $nvcc into $out"
