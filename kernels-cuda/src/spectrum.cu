// causal-spectrum: the window step between the two FFTs of the discrete Hilbert construction. Java
// runs C2R on (re, 0), this kernel, then R2C.
//
// Grid choice: elementwise over [D, N] rows with time on threadIdx.x (coalesced, and in place is safe
// because every element is read and written by the same thread).
#include "common.cuh"

namespace longconv {
namespace {

constexpr int kThreads = 256;

__global__ void causalWindow(const float* e, float* h, int64_t D, int64_t N, float scale) {
  const int64_t t = blockIdx.x * (int64_t)kThreads + threadIdx.x;
  if (t >= N) return;
  const int64_t half = N / 2;
  // 1 at t = 0 and t = N/2, 2 strictly between, 0 above: the causal part of an even sequence.
  const float factor = (t == 0 || t == half) ? scale : (t < half ? 2.f * scale : 0.f);
  for (int64_t d = blockIdx.y; d < D; d += gridDim.y) {
    const int64_t i = d * N + t;
    h[i] = factor * e[i];
  }
}

}  // namespace
}  // namespace longconv

using namespace longconv;

extern "C" cudaError_t longconv_causal_window_f32(const float* e, float* h, int64_t D, int64_t N, float scale,
                                                  cudaStream_t stream) {
  if (e == nullptr || h == nullptr || D < 0 || N < 2 || N % 2 != 0) return cudaErrorInvalidValue;
  if (D == 0) return cudaSuccess;
  dim3 grid(clampX(ceilDiv(N, kThreads)), clampYZ(D));
  causalWindow<<<grid, kThreads, 0, stream>>>(e, h, D, N, scale);
  LONGCONV_RETURN_LAUNCH();
}
