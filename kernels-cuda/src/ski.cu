// ski: y = W T W^T x per (b, d), with W the two-non-zeros-per-row interpolation matrix and T the
// r x r Toeplitz matrix of the inducing-lag kernel kr. Forward and backward, no atomics anywhere.
//
// Grid choices.
//   restrict (u = W^T x): a gather. Inducing point i collects the time steps of the two segments next
//   to it (seg i with weight 1-f, seg i-1 with weight f), so each u[i] is one private reduction. In
//   BDL a warp owns one (b, d, i) and its lanes walk the contiguous time steps (shuffle reduction); in
//   BLD a thread owns one (b, d, i) and threadIdx.x walks the contiguous channels, so every load
//   instruction of a warp reads 128 contiguous bytes.
//   toeplitz (v = T u, or T^T with the taps flipped): one block per (b, d) row with u and the row of
//   kr in shared memory; threads own outputs i, and kr[i-j+r-1] is contiguous across them.
//   interpolate (y = W v): elementwise in y's memory order (coalesced writes in both layouts); each t
//   reads its two inducing values, which stay in L1/L2 (v is B*D*r floats).
//   dkr: one block per channel, threads own lags m and loop over b and j in a fixed order.
#include "common.cuh"

namespace longconv {
namespace {

constexpr int kThreads = 256;
constexpr int kWarps = kThreads / 32;
constexpr int kToeplitzThreads = 128;

// First time step of segment i (the t with seg(t) = i); segment r-2 ends at L (t = L-1 is in it).
__device__ __forceinline__ int64_t segStart(int64_t i, int64_t L, int64_t r) {
  if (i >= r - 1) return L;
  if (L == 1) return i == 0 ? 0 : 1;
  return (i * (L - 1) + r - 2) / (r - 1);  // ceil(i (L-1) / (r-1)) = ceil(p_i)
}

__device__ __forceinline__ int64_t segOf(int64_t t, int64_t L, int64_t r) {
  if (L == 1) return 0;
  const int64_t s = t * (r - 1) / (L - 1);
  return s > r - 2 ? r - 2 : s;
}

// (t - p_i) / h from the exact integer numerator t (r-1) - i (L-1).
__device__ __forceinline__ float fracOf(int64_t t, int64_t i, int64_t L, int64_t r) {
  return L == 1 ? 0.f : (float)(t * (r - 1) - i * (L - 1)) / (float)(L - 1);
}

// W[t, i] for a time step t of segment i (own = true, weight 1-f) or of segment i-1 (weight f).
__device__ __forceinline__ float restrictWeight(int64_t t, int64_t i, bool own, int64_t L, int64_t r) {
  return own ? 1.f - fracOf(t, i, L, r) : fracOf(t, i - 1, L, r);
}

__global__ void restrictBdl(const float* __restrict__ x, float* __restrict__ u, int64_t rows, int64_t L,
                            int64_t r) {
  const int lane = threadIdx.x & 31;
  const int64_t i = blockIdx.x * (int64_t)kWarps + (threadIdx.x >> 5);
  if (i >= r) return;  // whole warps leave together
  const int64_t lo = i > 0 ? segStart(i - 1, L, r) : 0, mid = segStart(i, L, r);
  const int64_t hi = i < r - 1 ? segStart(i + 1, L, r) : mid;
  for (int64_t row = blockIdx.y; row < rows; row += gridDim.y) {
    const float* xr = x + row * L;
    float acc = 0.f;
    for (int64_t t = lo + lane; t < hi; t += 32) acc += restrictWeight(t, i, t >= mid, L, r) * xr[t];
    for (int o = 16; o > 0; o >>= 1) acc += __shfl_down_sync(0xffffffffu, acc, o);
    if (lane == 0) u[row * r + i] = acc;
  }
}

__global__ void restrictBld(const float* __restrict__ x, float* __restrict__ u, int64_t B, int64_t D, int64_t L,
                            int64_t r) {
  const int64_t d = blockIdx.x * 32 + (int64_t)threadIdx.x;
  if (d >= D) return;
  for (int64_t b = blockIdx.z; b < B; b += gridDim.z) {
    for (int64_t i = blockIdx.y * (int64_t)kWarps + threadIdx.y; i < r; i += (int64_t)gridDim.y * kWarps) {
      const int64_t lo = i > 0 ? segStart(i - 1, L, r) : 0, mid = segStart(i, L, r);
      const int64_t hi = i < r - 1 ? segStart(i + 1, L, r) : mid;
      float acc = 0.f;
      for (int64_t t = lo; t < hi; ++t) acc += restrictWeight(t, i, t >= mid, L, r) * x[(b * L + t) * D + d];
      u[(b * D + d) * r + i] = acc;
    }
  }
}

// out[row, i] = sum_j kk[i-j+r-1] in[row, j] with kk = kr[d, .] (flip = 0) or kr[d, 2r-2-.] (flip = 1).
template <int LAYOUT>
__global__ void __launch_bounds__(kToeplitzThreads) toeplitzApply(const float* __restrict__ in,
                                                                  const float* __restrict__ kr,
                                                                  float* __restrict__ out, int64_t rows, int64_t D,
                                                                  int64_t r, bool flip) {
  extern __shared__ float sm[];
  float* us = sm;       // [r]
  float* ks = sm + r;   // [2r-1]
  const int64_t nk = 2 * r - 1;
  for (int64_t row = blockIdx.x; row < rows; row += gridDim.x) {
    const int64_t d = row % D;
    for (int64_t j = threadIdx.x; j < r; j += blockDim.x) us[j] = in[row * r + j];
    for (int64_t m = threadIdx.x; m < nk; m += blockDim.x) {
      ks[m] = kr[kernelIndex<LAYOUT>(d, flip ? nk - 1 - m : m, D, nk)];
    }
    __syncthreads();
    for (int64_t i = threadIdx.x; i < r; i += blockDim.x) {
      float acc = 0.f;
      const float* kcol = ks + i + r - 1;  // kcol[-j] = kk[i-j+r-1]
      for (int64_t j = 0; j < r; ++j) acc += kcol[-j] * us[j];
      out[row * r + i] = acc;
    }
    __syncthreads();
  }
}

// y[b,d,t] = (1-f) v[row, seg(t)] + f v[row, seg(t)+1], in y's memory order.
template <int LAYOUT>
__global__ void interpolate(const float* __restrict__ v, float* __restrict__ y, int64_t B, int64_t D, int64_t L,
                            int64_t r) {
  const int64_t total = B * D * L;
  for (int64_t e = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; e < total;
       e += (int64_t)gridDim.x * blockDim.x) {
    int64_t t, row;
    if (LAYOUT == LONGCONV_BDL) {
      row = e / L;
      t = e - row * L;
    } else {
      const int64_t bt = e / D, d = e - bt * D, b = bt / L;
      t = bt - b * L;
      row = b * D + d;
    }
    const int64_t s = segOf(t, L, r);
    const float f = fracOf(t, s, L, r);
    const float* vr = v + row * r + s;
    y[e] = (1.f - f) * vr[0] + f * vr[1];
  }
}

// dkr[d, m] = sum_b sum_j gv[b,d, j+m-(r-1)] u[b,d,j].
template <int LAYOUT>
__global__ void skiKernelGrad(const float* __restrict__ u, const float* __restrict__ gv, float* __restrict__ dkr,
                              int64_t B, int64_t D, int64_t r) {
  const int64_t nk = 2 * r - 1;
  for (int64_t d = blockIdx.x; d < D; d += gridDim.x) {
    for (int64_t m = threadIdx.x; m < nk; m += blockDim.x) {
      const int64_t jLo = m < r - 1 ? r - 1 - m : 0, jHi = m > r - 1 ? nk - m : r;
      float acc = 0.f;
      for (int64_t b = 0; b < B; ++b) {
        const int64_t base = (b * D + d) * r;
        for (int64_t j = jLo; j < jHi; ++j) acc += gv[base + j + m - (r - 1)] * u[base + j];
      }
      dkr[kernelIndex<LAYOUT>(d, m, D, nk)] = acc;
    }
  }
}

bool validSki(int64_t B, int64_t D, int64_t L, int64_t nk, int layout) {
  return B >= 0 && D >= 0 && L >= 0 && nk >= 3 && nk % 2 == 1 && (nk + 1) / 2 <= LONGCONV_SKI_MAX_RANK &&
         validLayout(layout);
}

cudaError_t launchRestrict(const float* x, float* u, int64_t B, int64_t D, int64_t L, int64_t r, int layout,
                           cudaStream_t stream) {
  if (layout == LONGCONV_BDL) {
    dim3 grid(clampX(ceilDiv(r, kWarps)), clampYZ(B * D));
    restrictBdl<<<grid, kThreads, 0, stream>>>(x, u, B * D, L, r);
  } else {
    dim3 grid(clampX(ceilDiv(D, 32)), clampYZ(ceilDiv(r, kWarps)), clampYZ(B));
    restrictBld<<<grid, dim3(32, kWarps), 0, stream>>>(x, u, B, D, L, r);
  }
  return cudaGetLastError();
}

cudaError_t launchToeplitz(const float* in, const float* kr, float* out, int64_t B, int64_t D, int64_t r,
                           bool flip, int layout, cudaStream_t stream) {
  const size_t smem = (size_t)(3 * r - 1) * sizeof(float);  // <= 49148 bytes for r <= 4096
  const unsigned grid = clampX(B * D);
  if (layout == LONGCONV_BDL) {
    toeplitzApply<LONGCONV_BDL><<<grid, kToeplitzThreads, smem, stream>>>(in, kr, out, B * D, D, r, flip);
  } else {
    toeplitzApply<LONGCONV_BLD><<<grid, kToeplitzThreads, smem, stream>>>(in, kr, out, B * D, D, r, flip);
  }
  return cudaGetLastError();
}

cudaError_t launchInterpolate(const float* v, float* y, int64_t B, int64_t D, int64_t L, int64_t r, int layout,
                              cudaStream_t stream) {
  const int64_t blocks = ceilDiv(B * D * L, kThreads);
  const unsigned grid = clampX(blocks > 65536 ? 65536 : blocks);
  if (layout == LONGCONV_BDL) {
    interpolate<LONGCONV_BDL><<<grid, kThreads, 0, stream>>>(v, y, B, D, L, r);
  } else {
    interpolate<LONGCONV_BLD><<<grid, kThreads, 0, stream>>>(v, y, B, D, L, r);
  }
  return cudaGetLastError();
}

}  // namespace
}  // namespace longconv

using namespace longconv;

#define LONGCONV_TRY(call)                    \
  do {                                        \
    const cudaError_t lcErr = (call);         \
    if (lcErr != cudaSuccess) return lcErr;   \
  } while (0)

extern "C" cudaError_t longconv_ski_f32(const float* x, const float* kr, float* y, float* workspace, int64_t B,
                                        int64_t D, int64_t L, int64_t nk, int layout, cudaStream_t stream) {
  if (x == nullptr || kr == nullptr || y == nullptr || workspace == nullptr || !validSki(B, D, L, nk, layout)) {
    return cudaErrorInvalidValue;
  }
  if (B == 0 || D == 0 || L == 0) return cudaSuccess;
  const int64_t r = (nk + 1) / 2, plane = B * D * r;
  float* u = workspace;
  float* v = workspace + plane;
  LONGCONV_TRY(launchRestrict(x, u, B, D, L, r, layout, stream));
  LONGCONV_TRY(launchToeplitz(u, kr, v, B, D, r, false, layout, stream));
  return launchInterpolate(v, y, B, D, L, r, layout, stream);
}

extern "C" cudaError_t longconv_ski_backward_f32(const float* x, const float* kr, const float* gy, float* dx,
                                                 float* dkr, float* workspace, int64_t B, int64_t D, int64_t L,
                                                 int64_t nk, int layout, cudaStream_t stream) {
  if (x == nullptr || kr == nullptr || gy == nullptr || dx == nullptr || dkr == nullptr || workspace == nullptr ||
      !validSki(B, D, L, nk, layout)) {
    return cudaErrorInvalidValue;
  }
  if (D == 0) return cudaSuccess;
  const int64_t r = (nk + 1) / 2, plane = B * D * r;
  float* u = workspace;
  float* gv = workspace + plane;
  float* gu = workspace + 2 * plane;
  if (B > 0 && L > 0) {
    LONGCONV_TRY(launchRestrict(x, u, B, D, L, r, layout, stream));
    LONGCONV_TRY(launchRestrict(gy, gv, B, D, L, r, layout, stream));
    LONGCONV_TRY(launchToeplitz(gv, kr, gu, B, D, r, true, layout, stream));
    LONGCONV_TRY(launchInterpolate(gu, dx, B, D, L, r, layout, stream));
  }
  // An empty batch or length still defines dkr (zeros): B == 0 runs no b-loop, L == 0 leaves u, gv
  // untouched, so the kernel gradient is written from B = 0 then.
  const int64_t bEff = (L == 0) ? 0 : B;
  if (layout == LONGCONV_BDL) {
    skiKernelGrad<LONGCONV_BDL><<<clampX(D), 128, 0, stream>>>(u, gv, dkr, bEff, D, r);
  } else {
    skiKernelGrad<LONGCONV_BLD><<<clampX(D), 128, 0, stream>>>(u, gv, dkr, bEff, D, r);
  }
  LONGCONV_RETURN_LAUNCH();
}
