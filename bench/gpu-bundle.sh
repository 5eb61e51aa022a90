#!/usr/bin/env bash
# Builds a self-contained bundle for a GPU host that has the CUDA driver (and, to rebuild the kernels, the
# CUDA toolkit and CMake) but no JDK or Maven: a jlinked JDK 25 runtime, the shaded benchmarks jar (the library,
# the CLI, the JMH benchmarks and the GPU benchmark), the test classes, the JUnit console launcher, the kernel
# sources and one entry script, run-gpu.sh, that runs the CPU/GPU parity suite and the GPU benchmarks.
#
# Usage: bench/gpu-bundle.sh [OUTPUT_DIR]      (default .gpu-bundle/, which git ignores)
# Then on the GPU host: OUTPUT_DIR/run-gpu.sh [RESULTS_DIR]   (REBUILD=1 rebuilds liblongconv_cuda.so with CMake)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out=${1:-$root/.gpu-bundle}
jdk=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
[[ -x "$jdk/bin/jlink" ]] || { echo "gpu-bundle: no jlink under $jdk; set JAVA_HOME to a JDK 25" >&2; exit 2; }
junit_version=1.11.4 # the JUnit platform matching the build's Jupiter 5.11

cd "$root"
./mvnw -B -q -DskipTests install
./mvnw -B -q -pl ops,cuda,native-bindings test-compile
./mvnw -B -q dependency:copy -Dartifact=org.junit.platform:junit-platform-console-standalone:$junit_version \
  -DoutputDirectory="$root/target/gpu-bundle-deps" >/dev/null

rm -rf "$out"
mkdir -p "$out/lib" "$out/src/kernels-cuda" "$out/gpu"
# the modules the jars use at run time (jdeps also lists java.desktop and java.sql, reached only from
# JTransforms and JMH paths the bundle never runs; leaving them out keeps the runtime near 40 MB)
"$jdk/bin/jlink" --add-modules java.base,java.logging,java.xml,java.management,jdk.management,jdk.incubator.vector,jdk.unsupported \
  --strip-debug --no-man-pages --no-header-files --compress=zip-9 --output "$out/jdk"
cp bench/target/benchmarks.jar "$out/lib/"
cp "$root/target/gpu-bundle-deps/junit-platform-console-standalone-$junit_version.jar" "$out/lib/junit-platform-console-standalone.jar"
"$jdk/bin/jar" --create --file "$out/lib/ops-tests.jar" -C ops/target/test-classes .
"$jdk/bin/jar" --create --file "$out/lib/cuda-tests.jar" -C cuda/target/test-classes .
"$jdk/bin/jar" --create --file "$out/lib/native-bindings-tests.jar" -C native-bindings/target/test-classes .
if "$jdk/bin/jar" --list --file bench/target/benchmarks.jar | grep -q 'liblongconv_cuda.so$'; then touch "$out/lib/KERNELS_PACKAGED"; fi
cp CMakeLists.txt "$out/src/"
cp -r kernels-cuda/src kernels-cuda/include "$out/src/kernels-cuda/"
cp bench/gpu/torch_fftconv.py "$out/gpu/"
cp bench/gpu/run-gpu.sh "$out/run-gpu.sh"
chmod +x "$out/run-gpu.sh"
echo "gpu-bundle: $out ($(du -sm "$out" | cut -f1) MB)"
