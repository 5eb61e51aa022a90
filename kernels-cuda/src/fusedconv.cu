// Fused FFT convolution: pad, real FFT, spectrum product, inverse real FFT and the gate/skip epilogue
// in one kernel, so x is read once and y written once (the cuFFT path makes five passes, moving each
// element through device memory about ten times). Float32, power-of-two N from 2 to LONGCONV_FUSED_MAX_N.
//
// The real FFT of length N is a complex FFT of M = N/2 points on z[m] = a[2m] + i a[2m+1], which is the
// interleaved float row itself, so the padded input row in shared memory needs no repacking. The
// forward transform is decimation in frequency (natural order in, bit-reversed out) and the inverse is
// decimation in time (bit-reversed in, natural out): the spectrum product is pointwise, so it can work
// in bit-reversed order and no permutation pass is needed. The real/complex split (bins k and M-k
// depend on each other), the product with K and the inverse's merge are one step per pair (k, M-k),
// done by one thread in registers.
//
// Each butterfly stage does up to three radix-2 levels (radix 8) on 8 values in registers: a thread
// loads a group's 8 values from shared memory, does the three levels and stores them back to the same
// 8 places. Groups of one stage touch disjoint places, so one barrier per stage suffices and no second
// buffer is needed: shared memory is the zero-padded row, N floats, plus one float2 in 16 against bank
// conflicts (see padded()). For N = 16384 that is 68 KB, which keeps 2 blocks per SM on sm_80 (164 KB
// per SM) and would allow 3 on sm_90 (228 KB; registers allow 2). Twiddles: one
// sincospif per level and group, the rest are 8th roots of unity folded as constants, so there is no
// table to hold in shared memory and no accuracy lost to repeated products.
//
// Zero padding: the input occupies the first ceil(L/2) complex places; the first stage reads only
// those and takes the rest as zero, so the places past the data are never cleared (the stage writes all
// of them). The epilogue reads only the L outputs from `off`.
//
// Block shape (fusedShape): rows per block = min(16, 8192/M) and threads per row = max(32, min(M/8,
// 512/rows)), so a block is 512 threads with <= 68 KB of shared memory for every N >= 1024 (smaller N:
// 16 rows, 16 * 17/16 * N * 4 bytes). __launch_bounds__(512, 2) caps registers at 64 (ptxas uses 55-56),
// so 2 blocks fit an SM by registers; on sm_80 shared memory allows 2 as well, on sm_90 it would allow 3. Several rows per block matter for BLD: a block
// takes `rows` consecutive channels of one batch, and its loads and stores walk the channels
// fastest, so a warp touches 32/rows time steps of `rows` contiguous channels (full 32-byte sectors
// for rows >= 8, i.e. N <= 2048; for larger N the neighbouring channels' blocks, adjacent in
// blockIdx.x, share those sectors through L2). In BDL a row is contiguous and every warp reads 128
// contiguous bytes.
#include "common.cuh"

namespace longconv {
namespace {

constexpr int kFusedThreads = 512;
constexpr int kFusedMaxRows = 16;
constexpr int kFusedMaxM = LONGCONV_FUSED_MAX_N / 2;

struct FusedShape {
  int rows, tpr;  // rows per block (blockDim.y), threads per row (blockDim.x)
};

inline FusedShape fusedShape(int M) {
  int rows = kFusedMaxM / M;
  if (rows > kFusedMaxRows) rows = kFusedMaxRows;
  if (rows < 1) rows = 1;
  int tpr = M / 8 < kFusedThreads / rows ? M / 8 : kFusedThreads / rows;
  if (tpr < 32) tpr = 32;
  return {rows, tpr};
}

__device__ __forceinline__ float2 cadd(float2 a, float2 b) { return make_float2(a.x + b.x, a.y + b.y); }
__device__ __forceinline__ float2 csub(float2 a, float2 b) { return make_float2(a.x - b.x, a.y - b.y); }
__device__ __forceinline__ float2 cmul(float2 a, float2 b) {
  return make_float2(a.x * b.x - a.y * b.y, a.x * b.y + a.y * b.x);
}
__device__ __forceinline__ float2 cconj(float2 a) { return make_float2(a.x, -a.y); }

// exp(-i pi q / 4), the 8th roots of unity the radix-8 levels multiply by after the per-group twiddle.
__device__ __forceinline__ float2 root8(int q) {
  constexpr float h = 0.70710678118654752f;
  switch (q & 7) {
    case 0: return make_float2(1.f, 0.f);
    case 1: return make_float2(h, -h);
    case 2: return make_float2(0.f, -1.f);
    case 3: return make_float2(-h, -h);
    case 4: return make_float2(-1.f, 0.f);
    case 5: return make_float2(-h, h);
    case 6: return make_float2(0.f, 1.f);
    default: return make_float2(h, h);
  }
}

// exp(sign * i pi p / q) for 0 <= p < q, q a power of two (so p/q is exact in float).
__device__ __forceinline__ float2 twiddle(int p, int q, float sign) {
  float s, c;
  sincospif((float)p / (float)q, &s, &c);
  return make_float2(c, sign * s);
}

// Shared-memory place of complex value i: one float2 of padding after every 16. Without it the stages with
// small strides put a warp's 8-byte accesses 16 or 8 float2 apart, i.e. on the same two banks (up to 16-way
// conflicts in the last forward and first inverse stages); with it they spread over all banks. The row's
// real view (load, epilogue) follows the same map, in runs of 32 contiguous floats.
__host__ __device__ __forceinline__ int padded(int i) { return i + (i >> 4); }
__host__ __device__ __forceinline__ int paddedReal(int n) { return 2 * padded(n >> 1) + (n & 1); }
// Floats of shared memory per row of M complex values. The odd number of float2 per row puts the rows of
// a BLD block on different banks: its load and epilogue walk the rows (channels) fastest, and with an
// even count (a multiple of 32 floats) all 16 rows' values of one time step would sit on one bank.
__host__ __device__ __forceinline__ int rowFloats(int M) { return 2 * ((M + (M >> 4)) | 1); }

__device__ __forceinline__ int bitReverse(int k, int logM) {
  return logM == 0 ? 0 : (int)(__brev((unsigned)k) >> (32 - logM));
}

// Forward (DIF) stage of LOG2R radix-2 levels with spans h, h/2, ..., on one row z of M values.
// A group is 8 (or 4, 2) values at stride s = 2h/R inside a block of 2h; in level l the pair (e,
// e + span) at position p = j0 + (e mod 2 span) s of its level block of 2(h >> l) becomes (a + b,
// (a - b) exp(-i pi p / (h >> l))). Places at or past zlen read as zero (first stage only).
template <int LOG2R>
__device__ __forceinline__ void difStage(float2* z, int M, int h, int lane, int tpr, int zlen) {
  constexpr int R = 1 << LOG2R;
  const int s = 2 * h / R;
  for (int g = lane; g < M / R; g += tpr) {
    const int blk = g / s, j0 = g - blk * s;
    const int base = blk * 2 * h + j0;
    float2 v[R];
#pragma unroll
    for (int e = 0; e < R; ++e) {
      const int idx = base + e * s;
      v[e] = idx < zlen ? z[padded(idx)] : make_float2(0.f, 0.f);
    }
#pragma unroll
    for (int l = 0; l < LOG2R; ++l) {
      const int span = (R / 2) >> l, hl = h >> l;
      const float2 w0 = twiddle(j0, hl, -1.f);
#pragma unroll
      for (int e = 0; e < R; ++e) {
        if (e & span) continue;
        const int m = e & (2 * span - 1);
        const float2 a = v[e], b = v[e + span];
        v[e] = cadd(a, b);
        // s / hl = 2^(l+1) / R, so the constant part is exp(-i pi m 2^(l+3) / R / 4)
        const float2 w = m == 0 ? w0 : cmul(w0, root8(m * (8 << l) / R));
        v[e + span] = cmul(csub(a, b), w);
      }
    }
#pragma unroll
    for (int e = 0; e < R; ++e) z[padded(base + e * s)] = v[e];
  }
}

// Inverse (DIT) stage of LOG2R levels with spans h, 2h, ...: a group is R values at stride h inside
// a block of R h; in level l the pair (e, e + 2^l) at position p = j0 + (e mod 2^l) h becomes
// (a + w b, a - w b) with w = exp(+i pi p / (h << l)).
template <int LOG2R>
__device__ __forceinline__ void ditStage(float2* z, int M, int h, int lane, int tpr) {
  constexpr int R = 1 << LOG2R;
  for (int g = lane; g < M / R; g += tpr) {
    const int blk = g / h, j0 = g - blk * h;
    const int base = blk * R * h + j0;
    float2 v[R];
#pragma unroll
    for (int e = 0; e < R; ++e) v[e] = z[padded(base + e * h)];
#pragma unroll
    for (int l = 0; l < LOG2R; ++l) {
      const int span = 1 << l, hl = h << l;
      const float2 w0 = twiddle(j0, hl, 1.f);
#pragma unroll
      for (int e = 0; e < R; ++e) {
        if (e & span) continue;
        const int m = e & (span - 1);
        // exp(+i pi m / 2^l) = conj(root8(4 m / 2^l))
        const float2 w = m == 0 ? w0 : cmul(w0, cconj(root8(m * (4 >> l))));
        const float2 a = v[e], b = cmul(v[e + span], w);
        v[e] = cadd(a, b);
        v[e + span] = csub(a, b);
      }
    }
#pragma unroll
    for (int e = 0; e < R; ++e) z[padded(base + e * h)] = v[e];
  }
}

// One row's spectrum step, for bin pairs (k, M-k), k <= M/2: split the complex FFT Z of z into the
// real FFT A of the row (A[k] = Fe + w Fo, A[M-k] = conj(Fe - w Fo), w = exp(-i pi k / M)), multiply by
// the kernel spectrum, and merge back into the half-length spectrum the inverse takes
// (W[k] = Xe + i Xo, Xe = Y[k] + conj(Y[M-k]), Xo = (Y[k] - conj(Y[M-k])) conj(w)), so that the
// inverse complex FFT of W is N times the real inverse. Bins 0 and M are real: like cuFFT's C2R, only
// the real part of their products counts.
__device__ __forceinline__ void spectrumStep(float2* z, const float2* __restrict__ Kd, int M, int logM, int lane, int tpr,
                                             bool conj) {
  for (int k = lane; k <= M / 2; k += tpr) {
    if (k == 0) {
      const float2 z0 = z[0];
      const float y0 = (z0.x + z0.y) * __ldg(&Kd[0].x), yM = (z0.x - z0.y) * __ldg(&Kd[M].x);
      z[0] = make_float2(y0 + yM, y0 - yM);
      continue;
    }
    const int j = M - k, pk = padded(bitReverse(k, logM)), pj = padded(bitReverse(j, logM));
    const float2 zk = z[pk], zj = z[pj];
    const float2 fe = make_float2(0.5f * (zk.x + zj.x), 0.5f * (zk.y - zj.y));
    const float2 fo = make_float2(0.5f * (zk.y + zj.y), -0.5f * (zk.x - zj.x));
    const float2 w = twiddle(k, M, -1.f);
    const float2 t = cmul(w, fo);
    float2 kk = __ldg(&Kd[k]), kj = __ldg(&Kd[j]);
    if (conj) {
      kk.y = -kk.y;
      kj.y = -kj.y;
    }
    const float2 yk = cmul(cadd(fe, t), kk), yj = cmul(cconj(csub(fe, t)), kj);
    const float2 xe = cadd(yk, cconj(yj)), xo = cmul(csub(yk, cconj(yj)), cconj(w));
    z[pk] = make_float2(xe.x - xo.y, xe.y + xo.x);
    if (j != k) z[pj] = make_float2(xe.x + xo.y, xo.x - xe.y);
  }
}

template <int LAYOUT>
__global__ void __launch_bounds__(kFusedThreads, 2)
    fusedConv(const float* __restrict__ x, const float* __restrict__ pre, const float* __restrict__ post,
              const float* __restrict__ skip, const float2* __restrict__ K, float* __restrict__ y, int64_t B,
              int64_t D, int L, int logM, int off, bool conj) {
  extern __shared__ float fusedSmem[];
  const int M = 1 << logM, N = 2 * M;
  const int tpr = blockDim.x, rows = blockDim.y, lane = threadIdx.x, r = threadIdx.y;
  const int tid = r * tpr + lane, nthreads = rows * tpr;
  const int stride = rowFloats(M);
  float* rowReal = fusedSmem + (int64_t)r * stride;  // this thread's row, as floats (padded places)
  float2* z = reinterpret_cast<float2*>(rowReal);
  const int Lp = L + (L & 1);  // an odd L leaves the last complex value half data, half zero
  const float invN = 1.f / (float)N;
  const int64_t tilesX = LAYOUT == LONGCONV_BDL ? ceilDiv(B * D, rows) : ceilDiv(D, rows);
  const int64_t tilesY = LAYOUT == LONGCONV_BDL ? 1 : B;
  for (int64_t ty = blockIdx.y; ty < tilesY; ty += gridDim.y) {
    for (int64_t tx = blockIdx.x; tx < tilesX; tx += gridDim.x) {
      // This thread's row: BDL row = b*D + d; BLD channel d of batch ty.
      const int64_t rowId = LAYOUT == LONGCONV_BDL ? tx * rows + r : ty * D + tx * rows + r;
      const bool valid = LAYOUT == LONGCONV_BDL ? rowId < B * D : tx * rows + r < D;
      const int64_t d = LAYOUT == LONGCONV_BDL ? rowId % (D > 0 ? D : 1) : tx * rows + r;

      // Load x * pre, zero from L to Lp (places past Lp/2 are never read before written).
      if (LAYOUT == LONGCONV_BDL) {
        for (int n = lane; n < Lp; n += tpr) {
          float v = 0.f;
          if (valid && n < L) {
            const int64_t i = rowId * L + n;
            v = x[i];
            if (pre != nullptr) v *= pre[i];
          }
          rowReal[paddedReal(n)] = v;
        }
      } else {
        // channels fastest: consecutive threads read consecutive channels of one time step
        for (int i = tid; i < rows * Lp; i += nthreads) {
          const int c = i % rows, n = i / rows;
          const int64_t dc = tx * rows + c;
          float v = 0.f;
          if (dc < D && n < L) {
            const int64_t gi = (ty * L + n) * D + dc;
            v = x[gi];
            if (pre != nullptr) v *= pre[gi];
          }
          fusedSmem[(int64_t)c * stride + paddedReal(n)] = v;
        }
      }
      __syncthreads();

      // Forward complex FFT of M points (DIF): radix-8 stages, one radix-2/4 stage for the remainder.
      {
        int zlen = Lp / 2;
        for (int h = M / 2, left = logM; left > 0;) {
          if (left >= 3) {
            difStage<3>(z, M, h, lane, tpr, zlen);
            h >>= 3;
            left -= 3;
          } else if (left == 2) {
            difStage<2>(z, M, h, lane, tpr, zlen);
            h >>= 2;
            left -= 2;
          } else {
            difStage<1>(z, M, h, lane, tpr, zlen);
            h >>= 1;
            left -= 1;
          }
          zlen = M;
          __syncthreads();
        }
      }

      if (valid) spectrumStep(z, K + d * (int64_t)(M + 1), M, logM, lane, tpr, conj);
      __syncthreads();

      // Inverse complex FFT (DIT), bit-reversed in, natural order out.
      for (int h = 1, left = logM; left > 0;) {
        if (left >= 3) {
          ditStage<3>(z, M, h, lane, tpr);
          h <<= 3;
          left -= 3;
        } else if (left == 2) {
          ditStage<2>(z, M, h, lane, tpr);
          h <<= 2;
          left -= 2;
        } else {
          ditStage<1>(z, M, h, lane, tpr);
          h <<= 1;
          left -= 1;
        }
        __syncthreads();
      }

      // Epilogue: y = post * irfft[off + t] + skip * x, for t < L.
      if (LAYOUT == LONGCONV_BDL) {
        if (valid) {
          const float sk = skip != nullptr ? skip[d] : 0.f;
          for (int t = lane; t < L; t += tpr) {
            const int64_t i = rowId * L + t;
            float v = rowReal[paddedReal(off + t)] * invN;
            if (post != nullptr) v *= post[i];
            if (skip != nullptr) v += sk * x[i];
            y[i] = v;
          }
        }
      } else {
        for (int i = tid; i < rows * L; i += nthreads) {
          const int c = i % rows, t = i / rows;
          const int64_t dc = tx * rows + c;
          if (dc >= D) continue;
          const int64_t gi = (ty * L + t) * D + dc;
          float v = fusedSmem[(int64_t)c * stride + paddedReal(off + t)] * invN;
          if (post != nullptr) v *= post[gi];
          if (skip != nullptr) v += skip[dc] * x[gi];
          y[gi] = v;
        }
      }
      __syncthreads();  // the next tile overwrites shared memory
    }
  }
}

template <int LAYOUT>
cudaError_t launchFused(const float* x, const float* pre, const float* post, const float* skip, const float2* K, float* y,
                        int64_t B, int64_t D, int64_t L, int64_t N, int64_t off, bool conj, cudaStream_t stream) {
  const int M = (int)(N / 2);
  int logM = 0;
  while ((1 << logM) < M) ++logM;
  const FusedShape shape = fusedShape(M);
  const size_t smem = (size_t)shape.rows * (size_t)rowFloats(M) * sizeof(float);
  // Above 48 KB a kernel must opt in to dynamic shared memory; the attribute is per function and cheap.
  if (smem > 48 * 1024) {
    const cudaError_t e = cudaFuncSetAttribute(fusedConv<LAYOUT>, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)smem);
    if (e != cudaSuccess) return e;
  }
  dim3 grid;
  if (LAYOUT == LONGCONV_BDL) {
    grid = dim3(clampX(ceilDiv(B * D, shape.rows)), 1);
  } else {
    grid = dim3(clampX(ceilDiv(D, shape.rows)), clampYZ(B));
  }
  fusedConv<LAYOUT><<<grid, dim3(shape.tpr, shape.rows), smem, stream>>>(x, pre, post, skip, K, y, B, D, (int)L, logM, (int)off, conj);
  LONGCONV_RETURN_LAUNCH();
}

}  // namespace
}  // namespace longconv

using namespace longconv;

extern "C" int longconv_fused_conv_supported(int64_t N, int layout) {
  return validLayout(layout) && N >= 2 && N <= LONGCONV_FUSED_MAX_N && (N & (N - 1)) == 0;
}

extern "C" cudaError_t longconv_fused_conv_f32(const float* x, const float* pre, const float* post, const float* skip,
                                               const float* K, float* y, int64_t B, int64_t D, int64_t L, int64_t N,
                                               int64_t off, int conj_k, int layout, cudaStream_t stream) {
  if (x == nullptr || K == nullptr || y == nullptr || B < 0 || D < 0 || L < 0 || off < 0 || !aligned8(K) ||
      !longconv_fused_conv_supported(N, layout) || off + L > N) {
    return cudaErrorInvalidValue;
  }
  if (B == 0 || D == 0 || L == 0) return cudaSuccess;
  const auto* k2 = reinterpret_cast<const float2*>(K);
  if (layout == LONGCONV_BDL) return launchFused<LONGCONV_BDL>(x, pre, post, skip, k2, y, B, D, L, N, off, conj_k != 0, stream);
  return launchFused<LONGCONV_BLD>(x, pre, post, skip, k2, y, B, D, L, N, off, conj_k != 0, stream);
}
