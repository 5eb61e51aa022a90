// FFT-convolution helpers: everything the cuFFT path of causal-conv and toeplitz-conv runs around the
// transforms (gather and zero-pad, spectrum products, slice and gate epilogue), plus the per-channel
// dot product the gated backward needs for dskip.
//
// Grid choices. The FFT rows are [B*D, N] with time contiguous. In BDL the sequences are time
// contiguous too, so pad and epilogue are plain 2-D grids (x: 256 consecutive time steps, y: rows)
// and every warp reads and writes 128 contiguous bytes. In BLD the channels are contiguous, so pad and
// epilogue move 32x32 (time x channel) tiles through shared memory with one column of padding:
// the BLD side is accessed with threadIdx.x walking d and the row side with threadIdx.x walking t,
// and the padded tile makes the column access conflict-free. Spectrum products are elementwise over
// (row, bin) with the bin index on threadIdx.x; the batch-reduced product gives each thread one
// (d, f) and loops over b in a fixed order, so dk needs no atomics and is deterministic.
#include "common.cuh"

namespace longconv {
namespace {

constexpr int kRowThreads = 256;
constexpr int kTile = 32;
constexpr int kTileRows = 8;  // a 32x8 block walks a 32x32 tile in 4 steps

// ------------------------------------------------------------------------------------ pad / gather

__global__ void padInputBdl(const float* __restrict__ x, const float* __restrict__ pre, float* __restrict__ buf,
                            int64_t rows, int64_t L, int64_t N, int64_t off) {
  const int64_t j = blockIdx.x * (int64_t)kRowThreads + threadIdx.x;
  if (j >= N) return;
  const int64_t t = j - off;
  const bool data = t >= 0 && t < L;
  for (int64_t row = blockIdx.y; row < rows; row += gridDim.y) {
    float v = 0.f;
    if (data) {
      const int64_t i = row * L + t;
      v = x[i];
      if (pre != nullptr) v *= pre[i];
    }
    buf[row * N + j] = v;
  }
}

__global__ void padInputBld(const float* __restrict__ x, const float* __restrict__ pre, float* __restrict__ buf,
                            int64_t B, int64_t D, int64_t L, int64_t N, int64_t off) {
  __shared__ float tile[kTile][kTile + 1];  // [time][channel]
  const int64_t j0 = blockIdx.x * (int64_t)kTile;
  const int64_t dTiles = ceilDiv(D, kTile);
  const int tx = threadIdx.x, ty = threadIdx.y;
  // Tiles wholly outside [off, off+L) are zeros: skip the loads (uniform over the block).
  const bool anyData = j0 + kTile > off && j0 < off + L;
  for (int64_t b = blockIdx.z; b < B; b += gridDim.z) {
    for (int64_t dt = blockIdx.y; dt < dTiles; dt += gridDim.y) {
      const int64_t d0 = dt * kTile;
      if (anyData) {
        const int64_t d = d0 + tx;
        for (int jj = ty; jj < kTile; jj += kTileRows) {
          const int64_t t = j0 + jj - off;
          float v = 0.f;
          if (t >= 0 && t < L && d < D) {
            const int64_t i = (b * L + t) * D + d;
            v = x[i];
            if (pre != nullptr) v *= pre[i];
          }
          tile[jj][tx] = v;
        }
      }
      __syncthreads();
      const int64_t j = j0 + tx;
      for (int dd = ty; dd < kTile; dd += kTileRows) {
        const int64_t d = d0 + dd;
        if (d < D && j < N) buf[(b * D + d) * N + j] = anyData ? tile[tx][dd] : 0.f;
      }
      __syncthreads();
    }
  }
}

cudaError_t launchPad(const float* x, const float* pre, float* buf, int64_t B, int64_t D, int64_t L,
                      int64_t N, int64_t off, int layout, cudaStream_t stream) {
  if (layout == LONGCONV_BDL) {
    dim3 grid(clampX(ceilDiv(N, kRowThreads)), clampYZ(B * D));
    padInputBdl<<<grid, kRowThreads, 0, stream>>>(x, pre, buf, B * D, L, N, off);
  } else {
    dim3 grid(clampX(ceilDiv(N, kTile)), clampYZ(ceilDiv(D, kTile)), clampYZ(B));
    padInputBld<<<grid, dim3(kTile, kTileRows), 0, stream>>>(x, pre, buf, B, D, L, N, off);
  }
  LONGCONV_RETURN_LAUNCH();
}

// ------------------------------------------------------------------------------------ spectra

template <bool CONJ>
__global__ void mulSpectra(const float2* X, const float2* __restrict__ K, float2* Y, int64_t rows,
                           int64_t D, int64_t F) {
  const int64_t f = blockIdx.x * (int64_t)kRowThreads + threadIdx.x;
  if (f >= F) return;
  for (int64_t row = blockIdx.y; row < rows; row += gridDim.y) {
    const float2 a = X[row * F + f];  // read before the write: Y may alias X
    float2 k = K[(row % D) * F + f];
    if (CONJ) k.y = -k.y;
    Y[row * F + f] = make_float2(a.x * k.x - a.y * k.y, a.x * k.y + a.y * k.x);
  }
}

template <bool CONJ>
__global__ void mulAccBatch(const float2* __restrict__ X, const float2* __restrict__ G, float2* __restrict__ dK,
                            int64_t B, int64_t D, int64_t F) {
  const int64_t f = blockIdx.x * (int64_t)kRowThreads + threadIdx.x;
  if (f >= F) return;
  for (int64_t d = blockIdx.y; d < D; d += gridDim.y) {
    float re = 0.f, im = 0.f;
    for (int64_t b = 0; b < B; ++b) {
      const int64_t i = (b * D + d) * F + f;
      float2 a = X[i];
      const float2 g = G[i];
      if (CONJ) a.y = -a.y;
      re += a.x * g.x - a.y * g.y;
      im += a.x * g.y + a.y * g.x;
    }
    dK[d * F + f] = make_float2(re, im);
  }
}

// ------------------------------------------------------------------------------------ epilogue

__global__ void epilogueBdl(const float* __restrict__ buf, const float* __restrict__ x,
                            const float* __restrict__ post, const float* __restrict__ skip, float* __restrict__ y,
                            int64_t rows, int64_t D, int64_t L, int64_t N, int64_t off, float scale) {
  const int64_t t = blockIdx.x * (int64_t)kRowThreads + threadIdx.x;
  if (t >= L) return;
  for (int64_t row = blockIdx.y; row < rows; row += gridDim.y) {
    const int64_t i = row * L + t;
    float v = scale * buf[row * N + off + t];
    if (post != nullptr) v *= post[i];
    if (skip != nullptr) v += skip[row % D] * x[i];
    y[i] = v;
  }
}

__global__ void epilogueBld(const float* __restrict__ buf, const float* __restrict__ x,
                            const float* __restrict__ post, const float* __restrict__ skip, float* __restrict__ y,
                            int64_t B, int64_t D, int64_t L, int64_t N, int64_t off, float scale) {
  __shared__ float tile[kTile][kTile + 1];  // [time][channel]
  const int64_t t0 = blockIdx.x * (int64_t)kTile;
  const int64_t dTiles = ceilDiv(D, kTile);
  const int tx = threadIdx.x, ty = threadIdx.y;
  for (int64_t b = blockIdx.z; b < B; b += gridDim.z) {
    for (int64_t dt = blockIdx.y; dt < dTiles; dt += gridDim.y) {
      const int64_t d0 = dt * kTile;
      {
        const int64_t t = t0 + tx;  // row side: threadIdx.x walks time
        for (int dd = ty; dd < kTile; dd += kTileRows) {
          const int64_t d = d0 + dd;
          tile[tx][dd] = (d < D && t < L) ? buf[(b * D + d) * N + off + t] : 0.f;
        }
      }
      __syncthreads();
      const int64_t d = d0 + tx;  // sequence side: threadIdx.x walks channels
      if (d < D) {
        const float s = skip != nullptr ? skip[d] : 0.f;
        for (int tt = ty; tt < kTile; tt += kTileRows) {
          const int64_t t = t0 + tt;
          if (t >= L) break;
          const int64_t i = (b * L + t) * D + d;
          float v = scale * tile[tt][tx];
          if (post != nullptr) v *= post[i];
          if (skip != nullptr) v += s * x[i];
          y[i] = v;
        }
      }
      __syncthreads();
    }
  }
}

cudaError_t launchEpilogue(const float* buf, const float* x, const float* post, const float* skip, float* y,
                           int64_t B, int64_t D, int64_t L, int64_t N, int64_t off, float scale, int layout,
                           cudaStream_t stream) {
  if (layout == LONGCONV_BDL) {
    dim3 grid(clampX(ceilDiv(L, kRowThreads)), clampYZ(B * D));
    epilogueBdl<<<grid, kRowThreads, 0, stream>>>(buf, x, post, skip, y, B * D, D, L, N, off, scale);
  } else {
    dim3 grid(clampX(ceilDiv(L, kTile)), clampYZ(ceilDiv(D, kTile)), clampYZ(B));
    epilogueBld<<<grid, dim3(kTile, kTileRows), 0, stream>>>(buf, x, post, skip, y, B, D, L, N, off, scale);
  }
  LONGCONV_RETURN_LAUNCH();
}

// ------------------------------------------------------------------------------------ channel dot

// BDL: one block per channel; threads walk time (contiguous), a fixed-shape tree reduces the block.
__global__ void channelDotBdl(const float* __restrict__ a, const float* __restrict__ bb, float* __restrict__ out,
                              int64_t B, int64_t D, int64_t L) {
  __shared__ float warpSums[kRowThreads / 32];
  for (int64_t d = blockIdx.x; d < D; d += gridDim.x) {
    float acc = 0.f;
    for (int64_t b = 0; b < B; ++b) {
      const int64_t base = (b * D + d) * L;
      for (int64_t t = threadIdx.x; t < L; t += kRowThreads) {
        acc += bb != nullptr ? a[base + t] * bb[base + t] : a[base + t];
      }
    }
    for (int o = 16; o > 0; o >>= 1) acc += __shfl_down_sync(0xffffffffu, acc, o);
    if ((threadIdx.x & 31) == 0) warpSums[threadIdx.x >> 5] = acc;
    __syncthreads();
    if (threadIdx.x == 0) {
      float s = 0.f;
      for (int w = 0; w < kRowThreads / 32; ++w) s += warpSums[w];
      out[d] = s;
    }
    __syncthreads();
  }
}

// BLD: one block per 32 channels; threadIdx.x walks the (contiguous) channels, threadIdx.y time.
__global__ void channelDotBld(const float* __restrict__ a, const float* __restrict__ bb, float* __restrict__ out,
                              int64_t B, int64_t D, int64_t L) {
  __shared__ float partial[kTileRows][kTile + 1];
  const int64_t dTiles = ceilDiv(D, kTile);
  for (int64_t dt = blockIdx.x; dt < dTiles; dt += gridDim.x) {
    const int64_t d = dt * kTile + threadIdx.x;
    float acc = 0.f;
    if (d < D) {
      for (int64_t b = 0; b < B; ++b) {
        for (int64_t t = threadIdx.y; t < L; t += kTileRows) {
          const int64_t i = (b * L + t) * D + d;
          acc += bb != nullptr ? a[i] * bb[i] : a[i];
        }
      }
    }
    partial[threadIdx.y][threadIdx.x] = acc;
    __syncthreads();
    if (threadIdx.y == 0 && d < D) {
      float s = 0.f;
      for (int r = 0; r < kTileRows; ++r) s += partial[r][threadIdx.x];
      out[d] = s;
    }
    __syncthreads();
  }
}

}  // namespace
}  // namespace longconv

using namespace longconv;

extern "C" cudaError_t longconv_fft_pad_input_f32(const float* x, const float* pre, float* buf, int64_t B,
                                                  int64_t D, int64_t L, int64_t N, int64_t off, int layout,
                                                  cudaStream_t stream) {
  if (x == nullptr || buf == nullptr || B < 0 || D < 0 || L < 0 || N < 0 || off < 0 || off + L > N ||
      !validLayout(layout)) {
    return cudaErrorInvalidValue;
  }
  if (B == 0 || D == 0 || N == 0) return cudaSuccess;
  return launchPad(x, pre, buf, B, D, L, N, off, layout, stream);
}

extern "C" cudaError_t longconv_fft_pad_kernel_f32(const float* k, float* buf, int64_t D, int64_t n, int64_t N,
                                                   int layout, cudaStream_t stream) {
  if (k == nullptr || buf == nullptr || D < 0 || n < 0 || N < 0 || n > N || !validLayout(layout)) {
    return cudaErrorInvalidValue;
  }
  if (D == 0 || N == 0) return cudaSuccess;
  // A kernel [D, n] / [n, D] is a one-batch sequence tensor with L = n in the same layout.
  return launchPad(k, nullptr, buf, 1, D, n, N, 0, layout, stream);
}

extern "C" cudaError_t longconv_fft_mul_spectra_f32(const float* X, const float* K, float* Y, int64_t B,
                                                    int64_t D, int64_t F, int conj_k, cudaStream_t stream) {
  if (X == nullptr || K == nullptr || Y == nullptr || B < 0 || D < 0 || F < 0 || !aligned8(X) || !aligned8(K) ||
      !aligned8(Y)) {
    return cudaErrorInvalidValue;
  }
  if (B == 0 || D == 0 || F == 0) return cudaSuccess;
  dim3 grid(clampX(ceilDiv(F, kRowThreads)), clampYZ(B * D));
  const auto* x2 = reinterpret_cast<const float2*>(X);
  const auto* k2 = reinterpret_cast<const float2*>(K);
  auto* y2 = reinterpret_cast<float2*>(Y);
  if (conj_k) {
    mulSpectra<true><<<grid, kRowThreads, 0, stream>>>(x2, k2, y2, B * D, D, F);
  } else {
    mulSpectra<false><<<grid, kRowThreads, 0, stream>>>(x2, k2, y2, B * D, D, F);
  }
  LONGCONV_RETURN_LAUNCH();
}

extern "C" cudaError_t longconv_fft_mul_acc_batch_f32(const float* X, const float* G, float* dK, int64_t B,
                                                      int64_t D, int64_t F, int conj_x, cudaStream_t stream) {
  if (X == nullptr || G == nullptr || dK == nullptr || B < 0 || D < 0 || F < 0 || !aligned8(X) ||
      !aligned8(G) || !aligned8(dK)) {
    return cudaErrorInvalidValue;
  }
  if (D == 0 || F == 0) return cudaSuccess;
  // B == 0 still launches: dK is defined (zeros) for an empty batch.
  dim3 grid(clampX(ceilDiv(F, kRowThreads)), clampYZ(D));
  const auto* x2 = reinterpret_cast<const float2*>(X);
  const auto* g2 = reinterpret_cast<const float2*>(G);
  auto* k2 = reinterpret_cast<float2*>(dK);
  if (conj_x) {
    mulAccBatch<true><<<grid, kRowThreads, 0, stream>>>(x2, g2, k2, B, D, F);
  } else {
    mulAccBatch<false><<<grid, kRowThreads, 0, stream>>>(x2, g2, k2, B, D, F);
  }
  LONGCONV_RETURN_LAUNCH();
}

extern "C" cudaError_t longconv_fft_epilogue_f32(const float* buf, const float* x, const float* post,
                                                 const float* skip, float* y, int64_t B, int64_t D, int64_t L,
                                                 int64_t N, int64_t off, float scale, int layout,
                                                 cudaStream_t stream) {
  if (buf == nullptr || y == nullptr || (skip != nullptr && x == nullptr) || B < 0 || D < 0 || L < 0 || N < 0 ||
      off < 0 || off + L > N || !validLayout(layout)) {
    return cudaErrorInvalidValue;
  }
  if (B == 0 || D == 0 || L == 0) return cudaSuccess;
  return launchEpilogue(buf, x, post, skip, y, B, D, L, N, off, scale, layout, stream);
}

extern "C" cudaError_t longconv_fft_slice_kernel_f32(const float* buf, float* k, int64_t D, int64_t n, int64_t N,
                                                     int64_t off, float scale, int layout, cudaStream_t stream) {
  if (buf == nullptr || k == nullptr || D < 0 || n < 0 || N < 0 || off < 0 || off + n > N ||
      !validLayout(layout)) {
    return cudaErrorInvalidValue;
  }
  if (D == 0 || n == 0) return cudaSuccess;
  // The kernel is a one-batch sequence tensor with L = n in the same layout.
  return launchEpilogue(buf, nullptr, nullptr, nullptr, k, 1, D, n, N, off, scale, layout, stream);
}

extern "C" cudaError_t longconv_channel_dot_f32(const float* a, const float* bb, float* out, int64_t B, int64_t D,
                                                int64_t L, int layout, cudaStream_t stream) {
  if (a == nullptr || out == nullptr || B < 0 || D < 0 || L < 0 || !validLayout(layout)) {
    return cudaErrorInvalidValue;
  }
  if (D == 0) return cudaSuccess;
  // B == 0 or L == 0 still launches: out is defined (zeros) for an empty sum.
  if (layout == LONGCONV_BDL) {
    channelDotBdl<<<clampX(D), kRowThreads, 0, stream>>>(a, bb, out, B, D, L);
  } else {
    channelDotBld<<<clampX(ceilDiv(D, kTile)), dim3(kTile, kTileRows), 0, stream>>>(a, bb, out, B, D, L);
  }
  LONGCONV_RETURN_LAUNCH();
}
