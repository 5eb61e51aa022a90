#!/usr/bin/env bash
# Entry point of the GPU bundle (made by bench/gpu-bundle.sh): runs the CPU/GPU parity suite and the GPU
# benchmarks with the bundled JDK, writing everything to RESULTS_DIR (default ./results, or $OUT when set).
#   REBUILD=1    rebuild liblongconv_cuda.so here with CMake and nvcc instead of the one the jar carries
#                (also done when the jar carries none)
#   TESTS=0      skip the parity suite; BENCH=0 skip the benchmarks; DEMO=0 skip `longconv demo`
#   LENGTHS="1024 4096"   the sequence lengths the benchmarks time (default 1024 2048 4096 8192 16384 65536:
#                         issue 6's shapes; the fused kernel takes L <= 8192 with Lk = L, the rest are cuFFT only)
#   BATCHES=16,64         the batch sizes they time (default 16,64)
#   LAYOUTS=bdl,bld       the layouts GpuConvBench times (default both)
set -uo pipefail
lengths=${LENGTHS:-1024 2048 4096 8192 16384 65536}
batches=${BATCHES:-16,64}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
results=${1:-${OUT:-$here/results}}
mkdir -p "$results"
java="$here/jdk/bin/java"
opts=(--enable-native-access=ALL-UNNAMED --add-modules jdk.incubator.vector -XX:+UseParallelGC)
cp="$here/lib/benchmarks.jar"
status=0

if [[ ${REBUILD:-0} == 1 || ! -f "$here/lib/KERNELS_PACKAGED" ]]; then
  native="$here/native/dev/longconv/native/linux-x86_64"
  echo "== building liblongconv_cuda.so with CMake"
  if cmake -S "$here/src" -B "$here/build" -DCMAKE_BUILD_TYPE=Release -DLONGCONV_NATIVE_OUT="$native" >"$results/cmake.log" 2>&1 \
      && cmake --build "$here/build" -j "$(nproc)" >>"$results/cmake.log" 2>&1; then
    cp="$here/native:$cp" # ahead of the jar, so this build is the one loaded
  else
    echo "CMake build failed (see cmake.log); using the library the jar carries"; tail -5 "$results/cmake.log"; status=1
  fi
fi

echo "== longconv info"
"$java" "${opts[@]}" -cp "$cp" dev.longconv.cli.Main info 2>&1 | tee "$results/info.txt"

if [[ ${DEMO:-1} == 1 ]]; then
  echo "== longconv demo (every op and layer on every backend here, against the float64 reference)"
  "$java" "${opts[@]}" -cp "$cp" dev.longconv.cli.Main demo >"$results/demo.txt" 2>&1 || status=1
  grep -E " cuda |within tolerance|OUT OF" "$results/demo.txt"
fi

if [[ ${TESTS:-1} == 1 ]]; then
  echo "== parity suite"
  "$java" "${opts[@]}" -Xmx16g -jar "$here/lib/junit-platform-console-standalone.jar" execute \
    --class-path "$cp:$here/lib/ops-tests.jar:$here/lib/cuda-tests.jar:$here/lib/native-bindings-tests.jar" \
    --select-class dev.longconv.backend.cuda.CudaParityTest --select-class dev.longconv.backend.cuda.CudaFusedConvTest --select-class dev.longconv.backend.cuda.FusedTableTest --select-class dev.longconv.ops.BackendTest \
    --select-class dev.longconv.ops.BackwardTest --select-class dev.longconv.ops.GatedConvTest \
    --select-class dev.longconv.layers.StuTest --select-class dev.longconv.layers.TnoTest --select-class dev.longconv.layers.GtuTest \
    --select-class dev.longconv.layers.SkiTnoTest --select-class dev.longconv.layers.FdTnoTest \
    --select-class dev.longconv.cuda.DeviceBufferGpuTest --select-class dev.longconv.cuda.FftPlanCacheGpuTest \
    --select-class dev.longconv.cuda.BlasHandleGpuTest --select-class dev.longconv.cuda.CudaProbeTest --reports-dir "$results/junit" --details=summary --disable-banner >"$results/parity.txt" 2>&1 || status=1
  grep -E "cuda parity|cuda fused|^  [a-z]|tests (successful|failed|skipped|aborted)|MethodSource|=> " "$results/parity.txt" | head -80
  tail -15 "$results/parity.txt"
fi

if [[ ${BENCH:-1} == 1 ]]; then
  echo "== GPU benchmark: longconv causal-conv (cuFFT pipeline and fused kernel)"
  # shellcheck disable=SC2086
  "$java" "${opts[@]}" -Dout="$results/longconv_gpu.csv" -Dbatches="$batches" -Dlayouts="${LAYOUTS:-bdl,bld}" -cp "$cp" \
    dev.longconv.bench.gpu.GpuConvBench $lengths 2>&1 | tee "$results/bench.txt"
  [[ ${PIPESTATUS[0]} == 0 ]] || status=1
  if python3 -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null; then
    echo "== GPU benchmark: PyTorch torch.fft anchor"
    # shellcheck disable=SC2086
    BATCHES="$batches" python3 "$here/gpu/torch_fftconv.py" $lengths 2>&1 | tee "$results/torch.txt"
    [[ ${PIPESTATUS[0]} == 0 ]] || status=1
  else
    echo "(no PyTorch with CUDA here: the torch.fft anchor is skipped)"
  fi
fi
exit $status
