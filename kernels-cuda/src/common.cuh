// Internal helpers shared by the kernel families; nothing here is exported.
#ifndef LONGCONV_COMMON_CUH
#define LONGCONV_COMMON_CUH

#include <stdint.h>

#include "longconv_cuda.h"

namespace longconv {

// Grid dimensions y and z are capped by the hardware; kernels stride over anything larger, so the
// host only needs to clamp. The host emulation (emulation/run.sh) lowers the cap so the stride loops
// run with small problems.
#ifndef LONGCONV_MAX_GRID_YZ
#define LONGCONV_MAX_GRID_YZ 65535u
#endif
constexpr unsigned kMaxGridYZ = LONGCONV_MAX_GRID_YZ;
constexpr int64_t kMaxGridX = 2147483647;

inline unsigned clampYZ(int64_t n) { return n < 1 ? 1u : (n > kMaxGridYZ ? kMaxGridYZ : (unsigned)n); }
inline unsigned clampX(int64_t n) { return n < 1 ? 1u : (n > kMaxGridX ? (unsigned)kMaxGridX : (unsigned)n); }
__host__ __device__ inline int64_t ceilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

inline bool validLayout(int layout) { return layout == LONGCONV_BDL || layout == LONGCONV_BLD; }
inline bool aligned8(const void* p) { return ((uintptr_t)p & 7u) == 0; }

// Offset of x[b,d,t] in a sequence tensor of the given layout.
template <int LAYOUT>
__device__ __forceinline__ int64_t seqIndex(int64_t b, int64_t d, int64_t t, int64_t D, int64_t L) {
  return LAYOUT == LONGCONV_BDL ? (b * D + d) * L + t : (b * L + t) * D + d;
}

// Offset of k[d,j] in a per-channel kernel with n taps: [D, n] (BDL) or [n, D] (BLD).
template <int LAYOUT>
__device__ __forceinline__ int64_t kernelIndex(int64_t d, int64_t j, int64_t D, int64_t n) {
  return LAYOUT == LONGCONV_BDL ? d * n + j : j * D + d;
}

}  // namespace longconv

// Launch-error check shared by every entry: the error of the last launch, cleared.
#define LONGCONV_RETURN_LAUNCH() return cudaGetLastError()

#endif
