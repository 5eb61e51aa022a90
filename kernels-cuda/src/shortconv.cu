// short-conv: a direct depthwise convolution of W <= 256 taps, causal or "same", forward and backward.
//
// Grid choices. A block owns a tile of 32 channels x kT time steps of one batch entry and stages the
// input window it needs (kT + W - 1 rows, the halo included) in shared memory as [time][channel] with
// one column of padding. The load walks whichever axis is contiguous in the layout (time in BDL,
// channels in BLD), so it is coalesced in both; the padded pitch keeps both the load and the compute
// free of bank conflicts. In the compute each lane owns a channel and each warp every 8th output row,
// so a tap weight read once serves 8 outputs (registers) and the window reads are conflict-free.
// Results go back through the same shared tile, so the store is coalesced like the load.
// The backward dx is the same kernel with flipped taps and shift W-1-shift (a correlation).
//
// The parameter gradients reduce over batch and time without atomics: pass 1 gives each block a tile
// of 32 channels and a fixed set of (batch, time-tile) pairs (chunk c takes tiles c, c + chunks, ...),
// accumulates all W taps plus the bias sum in registers (warp w owns taps w, w+8, ...), and writes one
// partial per (chunk, tap, channel) to the caller's workspace. Pass 2 sums the chunks in order, so the
// result is deterministic. The chunk count is chosen so that about 1024 blocks run in pass 1.
#include "common.cuh"

namespace longconv {
namespace {

constexpr int kThreads = 256;
constexpr int kWarps = kThreads / 32;
constexpr int kDC = 32;            // channels per tile
constexpr int kPitch = kDC + 1;    // padded row of the shared tile
constexpr int kT = 64;             // output rows per forward tile
constexpr int kQ = kT / kWarps;    // output rows per thread
constexpr int kTapChunk = 32;      // taps staged in shared memory at a time (forward and dx)
constexpr int kTdw = 32;           // time rows per tile in the parameter gradient
constexpr int kMaxQ = (LONGCONV_SHORT_MAX_WIDTH + kWarps - 1) / kWarps;  // taps per warp, at most
constexpr int64_t kMaxChunks = 64;
constexpr int64_t kTargetBlocks = 1024;

static_assert(kT % kWarps == 0, "rows split evenly over warps");
// Largest forward shared memory: (kT + 255) * 33 floats = 42108 bytes of window (dynamic) plus the
// 4224-byte tap tile (static), under the 48 KiB default.
static_assert(((kT + LONGCONV_SHORT_MAX_WIDTH - 1) + kTapChunk) * kPitch * 4 <= 48 * 1024, "forward tile fits 48 KiB");
static_assert((kTdw + LONGCONV_SHORT_MAX_WIDTH - 1 + kTdw) * kPitch * 4 <= 48 * 1024, "dw tile fits 48 KiB");

// Stages x[b, d0 + c, tStart + r] for r < rows, c < 32 into tile[r * kPitch + c] (zeros outside).
template <int LAYOUT>
__device__ __forceinline__ void loadWindow(const float* __restrict__ x, float* tile, int64_t b, int64_t d0,
                                           int64_t tStart, int rows, int64_t D, int64_t L) {
  for (int e = threadIdx.x; e < rows * kDC; e += kThreads) {
    int r, c;
    if (LAYOUT == LONGCONV_BDL) {
      c = e / rows;  // consecutive threads walk time within a channel
      r = e - c * rows;
    } else {
      r = e / kDC;   // consecutive threads walk channels within a time step
      c = e - r * kDC;
    }
    const int64_t t = tStart + r, d = d0 + c;
    tile[r * kPitch + c] = (t >= 0 && t < L && d < D) ? x[seqIndex<LAYOUT>(b, d, t, D, L)] : 0.f;
  }
}

// y[b,d,t] = bias[d] + sum_j w[d, flip ? W-1-j : j] x[b,d,t-shift+j].
template <int LAYOUT>
__global__ void __launch_bounds__(kThreads) shortConvTile(const float* __restrict__ x, const float* __restrict__ w,
                                                          const float* __restrict__ bias, float* __restrict__ y,
                                                          int64_t B, int64_t D, int64_t L, int W, int shift,
                                                          bool flip) {
  extern __shared__ float tile[];  // [(kT + W - 1)][kPitch]
  __shared__ float ws[kTapChunk][kPitch];
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  const int rowsIn = kT + W - 1;
  const int64_t t0 = blockIdx.x * (int64_t)kT;
  const int64_t dTiles = ceilDiv(D, kDC);
  for (int64_t b = blockIdx.z; b < B; b += gridDim.z) {
    for (int64_t dt = blockIdx.y; dt < dTiles; dt += gridDim.y) {
      const int64_t d0 = dt * kDC;
      loadWindow<LAYOUT>(x, tile, b, d0, t0 - shift, rowsIn, D, L);
      __syncthreads();
      const int64_t d = d0 + lane;
      float acc[kQ];
      const float b0 = (bias != nullptr && d < D) ? bias[d] : 0.f;
#pragma unroll
      for (int q = 0; q < kQ; ++q) acc[q] = b0;
      // Taps go through shared memory 32 at a time: in BDL a warp's lanes would otherwise read 32
      // different cache lines per tap. Channels past D get zero taps (their window is zero too).
      for (int j0 = 0; j0 < W; j0 += kTapChunk) {
        const int nj = W - j0 < kTapChunk ? W - j0 : kTapChunk;
        for (int e = threadIdx.x; e < nj * kDC; e += kThreads) {
          int jj, c;
          if (LAYOUT == LONGCONV_BDL) {
            c = e / nj;  // consecutive threads walk a channel's (contiguous) taps
            jj = e - c * nj;
          } else {
            jj = e / kDC;  // consecutive threads walk the (contiguous) channels of a tap
            c = e - jj * kDC;
          }
          const int j = j0 + jj;
          ws[jj][c] = d0 + c < D ? w[kernelIndex<LAYOUT>(d0 + c, flip ? W - 1 - j : j, D, W)] : 0.f;
        }
        __syncthreads();
        for (int jj = 0; jj < nj; ++jj) {
          const float wj = ws[jj][lane];
          const float* col = tile + (warp + j0 + jj) * kPitch + lane;
#pragma unroll
          for (int q = 0; q < kQ; ++q) acc[q] += wj * col[q * kWarps * kPitch];
        }
        __syncthreads();  // taps and window reads done before the next chunk or the output rows
      }
#pragma unroll
      for (int q = 0; q < kQ; ++q) tile[(warp + q * kWarps) * kPitch + lane] = acc[q];
      __syncthreads();
      for (int e = threadIdx.x; e < kT * kDC; e += kThreads) {
        int r, c;
        if (LAYOUT == LONGCONV_BDL) {
          c = e / kT;
          r = e - c * kT;
        } else {
          r = e / kDC;
          c = e - r * kDC;
        }
        const int64_t t = t0 + r, dd = d0 + c;
        if (t < L && dd < D) y[seqIndex<LAYOUT>(b, dd, t, D, L)] = tile[r * kPitch + c];
      }
      __syncthreads();
    }
  }
}

// Pass 1 of dw/dbias: part[(chunk*(W+1) + j)*D + d] = sum over this chunk's tiles of
// gy[t] x[t-shift+j] (j < W) or gy[t] (j = W).
template <int LAYOUT>
__global__ void __launch_bounds__(kThreads) shortConvParamsPartial(const float* __restrict__ x,
                                                                   const float* __restrict__ gy,
                                                                   float* __restrict__ part, int64_t B, int64_t D,
                                                                   int64_t L, int W, int shift) {
  extern __shared__ float smem[];
  float* xs = smem;                              // [(kTdw + W - 1)][kPitch]
  float* gs = smem + (kTdw + W - 1) * kPitch;    // [kTdw][kPitch]
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  const int64_t tTiles = ceilDiv(L, kTdw), tiles = B * tTiles, dTiles = ceilDiv(D, kDC);
  const int64_t chunk = blockIdx.y, chunks = gridDim.y;
  for (int64_t dt = blockIdx.x; dt < dTiles; dt += gridDim.x) {
    const int64_t d0 = dt * kDC, d = d0 + lane;
    float acc[kMaxQ];
#pragma unroll
    for (int q = 0; q < kMaxQ; ++q) acc[q] = 0.f;
    float accBias = 0.f;
    for (int64_t k = chunk; k < tiles; k += chunks) {
      const int64_t b = k / tTiles, t0 = (k - b * tTiles) * kTdw;
      loadWindow<LAYOUT>(x, xs, b, d0, t0 - shift, kTdw + W - 1, D, L);
      loadWindow<LAYOUT>(gy, gs, b, d0, t0, kTdw, D, L);
      __syncthreads();
      if (warp == 0) {
        for (int tt = 0; tt < kTdw; ++tt) accBias += gs[tt * kPitch + lane];
      }
#pragma unroll
      for (int q = 0; q < kMaxQ; ++q) {
        const int j = warp + q * kWarps;
        if (j >= W) break;
        float s = acc[q];
        // A partial unroll: full unrolling of both loops (32 x 32 bodies) spills on sm_80.
#pragma unroll 8
        for (int tt = 0; tt < kTdw; ++tt) s += gs[tt * kPitch + lane] * xs[(tt + j) * kPitch + lane];
        acc[q] = s;
      }
      __syncthreads();
    }
    if (d < D) {
      float* out = part + chunk * (W + 1) * D + d;
#pragma unroll
      for (int q = 0; q < kMaxQ; ++q) {
        const int j = warp + q * kWarps;
        if (j >= W) break;
        out[j * D] = acc[q];
      }
      if (warp == 0) out[W * D] = accBias;
    }
  }
}

// Pass 2: dw[d,j] = sum_c part[c][j][d] (j < W), dbias[d] = sum_c part[c][W][d], chunks in order.
template <int LAYOUT>
__global__ void shortConvParamsFinish(const float* __restrict__ part, float* __restrict__ dw,
                                      float* __restrict__ dbias, int64_t D, int W, int64_t chunks) {
  const int64_t total = (W + 1) * D;
  for (int64_t e = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; e < total;
       e += (int64_t)gridDim.x * blockDim.x) {
    const int64_t j = e / D, d = e - j * D;
    float s = 0.f;
    for (int64_t c = 0; c < chunks; ++c) s += part[(c * (W + 1) + j) * D + d];
    if (j < W) {
      dw[kernelIndex<LAYOUT>(d, j, D, W)] = s;
    } else if (dbias != nullptr) {
      dbias[d] = s;
    }
  }
}

bool validShort(int64_t B, int64_t D, int64_t L, int64_t W, int mode, int layout) {
  if (B < 0 || D < 0 || L < 0 || W < 1 || W > LONGCONV_SHORT_MAX_WIDTH || !validLayout(layout)) return false;
  if (mode == LONGCONV_SHORT_SAME) return W % 2 == 1;
  return mode == LONGCONV_SHORT_CAUSAL;
}

int shiftOf(int64_t W, int mode) { return (int)(mode == LONGCONV_SHORT_CAUSAL ? W - 1 : (W - 1) / 2); }

int64_t chunksFor(int64_t B, int64_t D, int64_t L) {
  const int64_t tiles = B * ceilDiv(L, kTdw), dTiles = ceilDiv(D, kDC);
  int64_t c = ceilDiv(kTargetBlocks, dTiles);
  if (c < 1) c = 1;
  if (c > kMaxChunks) c = kMaxChunks;
  return c < tiles ? c : tiles;
}

cudaError_t launchTile(const float* x, const float* w, const float* bias, float* y, int64_t B, int64_t D,
                       int64_t L, int64_t W, int shift, bool flip, int layout, cudaStream_t stream) {
  dim3 grid(clampX(ceilDiv(L, kT)), clampYZ(ceilDiv(D, kDC)), clampYZ(B));
  const size_t smem = (size_t)(kT + W - 1) * kPitch * sizeof(float);
  if (layout == LONGCONV_BDL) {
    shortConvTile<LONGCONV_BDL><<<grid, kThreads, smem, stream>>>(x, w, bias, y, B, D, L, (int)W, shift, flip);
  } else {
    shortConvTile<LONGCONV_BLD><<<grid, kThreads, smem, stream>>>(x, w, bias, y, B, D, L, (int)W, shift, flip);
  }
  LONGCONV_RETURN_LAUNCH();
}

}  // namespace
}  // namespace longconv

using namespace longconv;

extern "C" cudaError_t longconv_short_conv_f32(const float* x, const float* w, const float* bias, float* y,
                                               int64_t B, int64_t D, int64_t L, int64_t W, int mode, int layout,
                                               cudaStream_t stream) {
  if (x == nullptr || w == nullptr || y == nullptr || !validShort(B, D, L, W, mode, layout)) {
    return cudaErrorInvalidValue;
  }
  if (B == 0 || D == 0 || L == 0) return cudaSuccess;
  return launchTile(x, w, bias, y, B, D, L, W, shiftOf(W, mode), false, layout, stream);
}

extern "C" cudaError_t longconv_short_conv_backward_dx_f32(const float* gy, const float* w, float* dx, int64_t B,
                                                           int64_t D, int64_t L, int64_t W, int mode, int layout,
                                                           cudaStream_t stream) {
  if (gy == nullptr || w == nullptr || dx == nullptr || !validShort(B, D, L, W, mode, layout)) {
    return cudaErrorInvalidValue;
  }
  if (B == 0 || D == 0 || L == 0) return cudaSuccess;
  // dx[u] = sum_j w[j] gy[u+shift-j] = sum_j w[W-1-j] gy[u-(W-1-shift)+j]
  return launchTile(gy, w, nullptr, dx, B, D, L, W, (int)(W - 1) - shiftOf(W, mode), true, layout, stream);
}

extern "C" int64_t longconv_short_conv_backward_workspace_bytes(int64_t B, int64_t D, int64_t L, int64_t W) {
  if (B < 0 || D < 0 || L < 0 || W < 1 || W > LONGCONV_SHORT_MAX_WIDTH) return -1;
  if (B == 0 || D == 0 || L == 0) return 0;
  return chunksFor(B, D, L) * (W + 1) * D * (int64_t)sizeof(float);
}

extern "C" cudaError_t longconv_short_conv_backward_params_f32(const float* x, const float* gy, float* dw,
                                                               float* dbias, float* workspace, int64_t B, int64_t D,
                                                               int64_t L, int64_t W, int mode, int layout,
                                                               cudaStream_t stream) {
  if (x == nullptr || gy == nullptr || dw == nullptr || !validShort(B, D, L, W, mode, layout)) {
    return cudaErrorInvalidValue;
  }
  if (D == 0) return cudaSuccess;
  // An empty batch or length still writes dw = 0 and dbias = 0 (zero chunks, no workspace).
  const int64_t chunks = (B == 0 || L == 0) ? 0 : chunksFor(B, D, L);
  if (chunks > 0 && workspace == nullptr) return cudaErrorInvalidValue;
  if (chunks > 0) {
    dim3 grid(clampX(ceilDiv(D, kDC)), (unsigned)chunks);
    const size_t smem = (size_t)(2 * kTdw + W - 1) * kPitch * sizeof(float);
    const int shift = shiftOf(W, mode);
    if (layout == LONGCONV_BDL) {
      shortConvParamsPartial<LONGCONV_BDL><<<grid, kThreads, smem, stream>>>(x, gy, workspace, B, D, L, (int)W, shift);
    } else {
      shortConvParamsPartial<LONGCONV_BLD><<<grid, kThreads, smem, stream>>>(x, gy, workspace, B, D, L, (int)W, shift);
    }
    const cudaError_t err = cudaGetLastError();
    if (err != cudaSuccess) return err;
  }
  const int64_t total = (W + 1) * D;
  const unsigned blocks = clampX(ceilDiv(total, kThreads) > 4096 ? 4096 : ceilDiv(total, kThreads));
  if (layout == LONGCONV_BDL) {
    shortConvParamsFinish<LONGCONV_BDL><<<blocks, kThreads, 0, stream>>>(workspace, dw, dbias, D, (int)W, chunks);
  } else {
    shortConvParamsFinish<LONGCONV_BLD><<<blocks, kThreads, 0, stream>>>(workspace, dw, dbias, D, (int)W, chunks);
  }
  LONGCONV_RETURN_LAUNCH();
}
