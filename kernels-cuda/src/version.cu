#include "longconv_cuda.h"

namespace {

__global__ void scale_f32(const float* __restrict__ x, float* __restrict__ y, int64_t n, float alpha) {
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n;
       i += (int64_t)gridDim.x * blockDim.x) {
    y[i] = alpha * x[i];
  }
}

}  // namespace

extern "C" int longconv_abi_version(void) { return LONGCONV_CUDA_ABI_VERSION; }

extern "C" cudaError_t longconv_scale_f32(const float* x, float* y, int64_t n, float alpha,
                                          cudaStream_t stream) {
  if (n <= 0) return cudaSuccess;
  const int threads = 256;
  int64_t blocks64 = (n + threads - 1) / threads;
  int blocks = blocks64 > 65535 ? 65535 : (int)blocks64;
  scale_f32<<<blocks, threads, 0, stream>>>(x, y, n, alpha);
  return cudaGetLastError();
}
